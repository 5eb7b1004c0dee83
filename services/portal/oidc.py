"""Sign-in with the region's identity provider: OpenID Connect, authorization code
with PKCE.

Authlib runs the OAuth 2 exchange (the authorization URL with its S256 challenge, the
code for tokens); the ID token is verified here against the provider's JWKS (issuer,
audience, expiry, nonce), and the person's claims are the ID token's and the userinfo
endpoint's together. Which claims hold the agency, role and Peerline id is configured
(`PEERLINE_OIDC_*_CLAIM`), since every provider names its own.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import warnings

import httpx
import jwt
from authlib.deprecate import AuthlibDeprecationWarning

from shared.settings import Settings

from .domain import Person, person_from_claims

# Authlib's client runs on httpx and would rather have its successor, httpx2: fine as it is.
warnings.filterwarnings("ignore", "The httpx module is deprecated", AuthlibDeprecationWarning)
from authlib.integrations.httpx_client import AsyncOAuth2Client  # noqa: E402

ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
DISCOVERY_TTL = 3600.0
LEEWAY = 30  # seconds of clock difference allowed with the provider


class SignInFailed(Exception):
    """The provider's answer does not sign this person in; the message says why, for
    the page, without echoing tokens or claims."""


class OidcClient:
    def __init__(self, settings: Settings) -> None:
        if not settings.oidc_issuer or not settings.oidc_client_id:
            raise ValueError("PEERLINE_OIDC_ISSUER and PEERLINE_OIDC_CLIENT_ID are both needed")
        self.settings = settings
        self.issuer = settings.oidc_issuer.rstrip("/")
        self._metadata: dict | None = None
        self._fetched_at = 0.0
        self._jwks: jwt.PyJWKClient | None = None

    async def metadata(self) -> dict:
        """The provider's discovery document, kept for an hour."""
        if self._metadata is None or time.monotonic() - self._fetched_at > DISCOVERY_TTL:
            async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
                response = await client.get(f"{self.issuer}/.well-known/openid-configuration")
                response.raise_for_status()
            self._metadata = response.json()
            self._fetched_at = time.monotonic()
            self._jwks = jwt.PyJWKClient(self._metadata["jwks_uri"])
        return self._metadata

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        secret = self.settings.oidc_client_secret
        return AsyncOAuth2Client(
            client_id=self.settings.oidc_client_id,
            client_secret=secret,
            scope=self.settings.oidc_scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            trust_env=False,
            timeout=10,
        )

    async def begin(self, redirect_uri: str) -> tuple[str, dict]:
        """The provider's authorization URL, and what the callback must find again
        (state, nonce, PKCE verifier), to keep in the browser's session."""
        metadata = await self.metadata()
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(24)
        async with self._client(redirect_uri) as client:
            url, state = client.create_authorization_url(
                metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
            )
        return url, {"state": state, "nonce": nonce, "verifier": verifier}

    async def finish(self, redirect_uri: str, pending: dict, params: dict[str, str]) -> Person:
        """The person signed in by the provider's redirect back (`params`: its query)."""
        if params.get("error"):
            raise SignInFailed("the identity provider did not sign you in")
        if not params.get("code") or params.get("state") != pending.get("state"):
            raise SignInFailed("this sign-in link is not the one this browser started")
        metadata = await self.metadata()
        try:
            async with self._client(redirect_uri) as client:
                token = await client.fetch_token(
                    metadata["token_endpoint"],
                    code=params["code"],
                    code_verifier=pending["verifier"],
                )
                claims = await self._id_claims(token.get("id_token"), pending["nonce"])
                if metadata.get("userinfo_endpoint"):
                    info = (await client.get(metadata["userinfo_endpoint"])).json()
                    if info.get("sub") == claims["sub"]:
                        claims = {**info, **claims}
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise SignInFailed("the identity provider's answer could not be used") from exc
        s = self.settings
        return person_from_claims(
            claims,
            agency_claim=s.oidc_agency_claim,
            role_claim=s.oidc_role_claim,
            subject_claim=s.oidc_subject_claim,
            name_claim=s.oidc_name_claim,
        )

    async def _id_claims(self, id_token: str | None, nonce: str) -> dict:
        if not id_token:
            raise SignInFailed("the identity provider sent no ID token")
        try:
            key = await asyncio.to_thread(self._signing_key, id_token)
            claims = jwt.decode(
                id_token,
                key.key,
                algorithms=ID_TOKEN_ALGORITHMS,
                audience=self.settings.oidc_client_id,
                issuer=self.issuer,
                leeway=LEEWAY,
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise SignInFailed("the ID token did not verify") from exc
        if claims.get("nonce") != nonce:
            raise SignInFailed("the ID token was not issued for this sign-in")
        return claims

    def _signing_key(self, id_token: str) -> jwt.PyJWK:
        """The provider's key for this token: by its `kid`, or the provider's only
        signing key when the token names none (OpenID Connect allows that)."""
        kid = jwt.get_unverified_header(id_token).get("kid")
        if kid is not None:
            return self._jwks.get_signing_key(kid)
        keys = self._jwks.get_signing_keys()
        if len(keys) != 1:
            raise jwt.InvalidTokenError("the ID token names no key and the provider has several")
        return keys[0]
