"""Provider-side claim mapping, as a Keycloak "client scope mapper" would configure it.

DOT's ID token carries only ``sub`` (the user's primary key) unless the validator adds claims;
GridGov reads the account name from a configurable claim (``preferred_username`` by default,
as Keycloak and MaxKey emit it), so the provider puts the Django user name there.
"""

import json
import os
import time
import uuid

from django.conf import settings
from jwcrypto import jwk, jwt
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings


class ClaimsValidator(OAuth2Validator):
    # request-agnostic form (no ``request`` argument): the claims are also listed
    # in the discovery document's claims_supported
    def get_additional_claims(self):
        claims = {
            "preferred_username": lambda request: request.user.get_username(),
            "name": lambda request: request.user.get_full_name() or request.user.get_username(),
            "email": lambda request: request.user.email,
            "email_verified": lambda request: bool(request.user.email),
        }
        # OP_EXTRA_CLAIMS: {"user name": {"claim": value}} — e.g. a role or groups the provider
        # asserts, which GridGov must ignore (its own accounts decide role and grids)
        extra = json.loads(os.environ.get("OP_EXTRA_CLAIMS") or "{}")
        for claim in sorted({c for per_user in extra.values() for c in per_user}):
            claims[claim] = (lambda name: lambda request: extra.get(request.user.get_username(), {}).get(name))(claim)
        return claims


def jwt_access_token(request):
    """Access tokens as RS256 JWTs signed with the OIDC key (what Keycloak issues)."""
    key = jwk.JWK.from_pem(oauth2_settings.OIDC_RSA_PRIVATE_KEY.encode())
    now = int(time.time())
    claims = {
        "iss": settings.OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"],
        "sub": str(request.user.pk),
        "preferred_username": request.user.get_username(),
        "azp": request.client.client_id,
        "aud": request.client.client_id,
        "scope": " ".join(request.scopes),
        "iat": now,
        "exp": now + oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS,
        "jti": str(uuid.uuid4()),
    }
    token = jwt.JWT(header={"alg": "RS256", "typ": "at+jwt", "kid": key.thumbprint()}, claims=json.dumps(claims))
    token.make_signed_token(key)
    return token.serialize()
