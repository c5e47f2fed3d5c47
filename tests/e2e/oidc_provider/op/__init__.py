"""A real OpenID Connect provider for tests: django-oauth-toolkit (DOT) in a minimal Django project.

Nothing here re-implements OAuth/OIDC: authorization, token, userinfo, JWKS, discovery,
introspection and RP-initiated logout endpoints are DOT's own views (``oauth2_provider.urls``);
the login form is Django's own ``LoginView``. This package only holds the deployment settings
(what a Keycloak realm export would hold): users, one client, the signing key, and which claims
go into the ID token.
"""
