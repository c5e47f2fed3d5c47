"""Django settings of the test provider; every deployment value comes from OP_* environment variables.

OP_ISSUER   http://127.0.0.1:<port>/o   (issuer; discovery at <issuer>/.well-known/openid-configuration)
OP_DB       path of the SQLite file (created and migrated by run_op.py)
OP_RSA_KEY  PEM of the RSA private key that signs ID tokens (run_op.py generates one per start)
OP_JWT_ACCESS_TOKENS  "1": access tokens are RS256 JWTs (like Keycloak's), else opaque strings
"""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("OP_DJANGO_SECRET", "test-provider-django-secret-not-for-production")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "op.urls"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("OP_DB", ":memory:")}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The provider and the app both run on 127.0.0.1; browsers do not separate cookies by port,
# so the provider's cookies get names of their own (Streamlit uses _streamlit_*).
SESSION_COOKIE_NAME = "op_sessionid"
CSRF_COOKIE_NAME = "op_csrftoken"
LOGIN_URL = "/accounts/login/"

# Fast hashing for a throw-away test provider (Django's own advice for test settings);
# the default PBKDF2 costs ~0.5 s per user created, per login and per client authentication.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": os.environ.get("OP_ISSUER", ""),
    "OIDC_RSA_PRIVATE_KEY": os.environ.get("OP_RSA_KEY", ""),
    "OAUTH2_VALIDATOR_CLASS": "op.validator.ClaimsValidator",
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Profile",
        "email": "E-mail address",
        "introspection": "Introspect tokens",
    },
    "PKCE_REQUIRED": True,  # Streamlit (through Authlib) sends S256 when the provider advertises it
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,  # end_session_endpoint, used by st.logout()
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "ACCESS_TOKEN_GENERATOR": (
        "op.validator.jwt_access_token" if os.environ.get("OP_JWT_ACCESS_TOKENS") == "1" else None
    ),
    # oauthlib uses the access-token generator for refresh tokens too unless told otherwise
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OP_LOG_LEVEL", "WARNING")},
}
