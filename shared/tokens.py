"""Bearer tokens: who is calling, for which agency, in which role.

Tokens are JWTs with the claims `sub`, `agency`, `role` and `exp`. One machine signs
with an HS256 secret; a region verifies RS256/EdDSA tokens against its identity
provider's JWKS, and, where it also sets the secret, the short-lived HS256 tokens its
portal signs for the people signed in there. This module needs no web framework, so
the `peerline` command can issue tokens quickly; `shared.auth` puts it to work in HTTP routes.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

import jwt

from shared.ids import AGENCY_ID_PATTERN
from shared.settings import Settings

ALGORITHMS_HS = ["HS256"]
ALGORITHMS_PK = ["RS256", "ES256", "EdDSA"]


class Role(enum.StrEnum):
    INGEST = "ingest"
    SUPPORTER = "supporter"
    COORDINATOR = "coordinator"
    LEADERSHIP = "leadership"
    REGIONAL = "regional"
    OPS = "ops"
    # An officer served by the program, `sub` their personnel_id: their own preferences
    # and nothing else (decision 15).
    OFFICER = "officer"
    # Another Peerline service, `sub` its name: the service-to-service look-ups it is
    # allowed (notify reading a recipient's contact details from the roster).
    SERVICE = "service"


@dataclass(frozen=True)
class Principal:
    sub: str
    agency: str
    role: Role


def issue_token(
    secret: str,
    *,
    agency: str,
    role: Role | str,
    sub: str | None = None,
    ttl: timedelta = timedelta(hours=1),
    issuer: str = "peerline",
    audience: str = "peerline",
) -> str:
    """Sign an HS256 token (local stacks and tests; a region's IdP issues its own)."""
    role = Role(role)
    if not AGENCY_ID_PATTERN.fullmatch(agency):
        raise ValueError(f"agency must match {AGENCY_ID_PATTERN.pattern}")
    now = datetime.now(UTC)
    claims = {
        "sub": sub or f"{role.value}@{agency}",
        "agency": agency,
        "role": role.value,
        "iat": now,
        "exp": now + ttl,
        "iss": issuer,
        "aud": audience,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


class TokenVerifier:
    """Checks signature, expiry, issuer and audience, then the Peerline claims.

    A dispatch system sends the same token with every report, so verified tokens are
    remembered (by their full text, signature included) until they expire.
    """

    CACHE_SIZE = 4096

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._verified: dict[str, tuple[Principal, float]] = {}

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient | None:
        url = self._settings.jwt_jwks_url
        return jwt.PyJWKClient(url) if url else None

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None and known[1] > time.time():
            return known[0]
        principal, expires = self._verify(token)
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _own(self, token: str) -> bool:
        """Whether `token` is one Peerline signed itself (the portal's, for the person
        signed in there; decision 56): HS256 under the region's secret, accepted beside
        the identity provider's tokens when a secret is configured. Each algorithm is
        verified with its own key only, so neither can stand in for the other."""
        if not self._settings.jwt_secret:
            return False
        return jwt.get_unverified_header(token).get("alg") == "HS256"

    def _provider_key(self, token: str):
        """The identity provider's key for `token`: the one its `kid` names, or the only
        signing key of a provider that names none (some sign with one key, no `kid`)."""
        if jwt.get_unverified_header(token).get("kid") is not None:
            return self._jwks.get_signing_key_from_jwt(token).key
        keys = self._jwks.get_signing_keys()
        if len(keys) != 1:
            raise jwt.InvalidTokenError("the token names no key and the provider has several")
        return keys[0].key

    def _verify(self, token: str) -> tuple[Principal, float]:
        options = {"require": ["sub", "agency", "role", "exp"]}
        common = {
            "audience": self._settings.jwt_audience,
            "issuer": self._settings.jwt_issuer,
            "options": options,
        }
        if self._jwks is not None and not self._own(token):
            claims = jwt.decode(
                token, self._provider_key(token), algorithms=ALGORITHMS_PK, **common
            )
        else:
            claims = jwt.decode(
                token, self._settings.signing_secret(), algorithms=ALGORITHMS_HS, **common
            )
        agency = claims["agency"]
        if not isinstance(agency, str) or not AGENCY_ID_PATTERN.fullmatch(agency):
            raise jwt.InvalidTokenError("agency claim is not an agency id")
        try:
            role = Role(claims["role"])
        except ValueError as exc:
            raise jwt.InvalidTokenError("unknown role") from exc
        principal = Principal(sub=str(claims["sub"]), agency=agency, role=role)
        return principal, float(claims["exp"])
