"""Tokens: roles and agency scoping, HS256 on one machine, RS256 from a JWKS in a region."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.settings import Settings
from shared.tokens import Principal, Role, TokenVerifier, issue_token

SECRET = "unit-" + "k" * 40


def verifier(**settings) -> TokenVerifier:
    return TokenVerifier(Settings(jwt_secret=SECRET, **settings))


def test_an_issued_token_verifies_to_its_principal():
    token = issue_token(SECRET, agency="CA0190000", role=Role.COORDINATOR, sub="c-1")
    assert verifier().verify(token) == Principal("c-1", "CA0190000", Role.COORDINATOR)


@pytest.mark.parametrize(
    "claims",
    [
        {"role": "chief"},
        {"agency": "a.b"},
        {"exp": datetime.now(UTC) - timedelta(seconds=5)},
        {"aud": "someone-else"},
        {"iss": "someone-else"},
    ],
    ids=["unknown role", "bad agency", "expired", "audience", "issuer"],
)
def test_tokens_with_wrong_claims_are_refused(claims):
    base = {
        "sub": "x",
        "agency": "CA0190000",
        "role": "ingest",
        "exp": datetime.now(UTC) + timedelta(hours=1),
        "iss": "peerline",
        "aud": "peerline",
    }
    token = jwt.encode({**base, **claims}, SECRET, algorithm="HS256")
    with pytest.raises(jwt.InvalidTokenError):
        verifier().verify(token)


def test_a_token_signed_with_another_secret_is_refused():
    token = issue_token("other-" + "k" * 40, agency="CA0190000", role=Role.INGEST)
    with pytest.raises(jwt.InvalidSignatureError):
        verifier().verify(token)


def test_an_unsigned_token_is_refused():
    token = jwt.encode(
        {"sub": "x", "agency": "A1", "role": "ops", "exp": 4102444800}, None, algorithm="none"
    )
    with pytest.raises(jwt.InvalidTokenError):
        verifier().verify(token)


@pytest.fixture
def jwks_server():
    """An identity provider's JWKS endpoint on a real port."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield key, f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()


def test_a_regions_rs256_token_verifies_against_its_jwks(jwks_server, monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    key, url = jwks_server
    claims = {
        "sub": "pso-9",
        "agency": "TX0000000",
        "role": "supporter",
        "exp": datetime.now(UTC) + timedelta(minutes=5),
        "iss": "peerline",
        "aud": "peerline",
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    assert verifier(jwt_jwks_url=url).verify(token) == Principal(
        "pso-9", "TX0000000", Role.SUPPORTER
    )
    forged = jwt.encode(claims, SECRET, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(jwt.InvalidTokenError):  # a region with no secret takes no HS256
        TokenVerifier(Settings(jwt_jwks_url=url)).verify(forged)


def test_with_a_secret_beside_the_jwks_peerlines_own_tokens_verify_too(jwks_server, monkeypatch):
    """The portal signs short-lived HS256 tokens for the people signed in there
    (decision 56); a region that sets the secret accepts them beside its IdP's."""
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    _key, url = jwks_server
    both = TokenVerifier(Settings(jwt_secret=SECRET, jwt_jwks_url=url))
    portal = issue_token(SECRET, agency="TX0000000", role=Role.OFFICER, sub="B1")
    assert both.verify(portal) == Principal("B1", "TX0000000", Role.OFFICER)
    stranger = issue_token("another-secret-" + "y" * 32, agency="TX0000000", role="officer")
    with pytest.raises(jwt.InvalidTokenError):
        both.verify(stranger)
