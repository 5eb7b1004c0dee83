"""`peerline token`: a JWT the services accept, signed with the stack's secret."""

from __future__ import annotations

import stat
from pathlib import Path

import jwt
from typer.testing import CliRunner

from peerline.cli import app
from peerline.up import ensure_secret

runner = CliRunner()
NO_ENV_SECRET = {"PEERLINE_JWT_SECRET": None}


def decode(token: str, secret: str) -> dict:
    return jwt.decode(token, secret, algorithms=["HS256"], audience="peerline", issuer="peerline")


def test_a_token_signed_with_the_secret_peerline_up_wrote(tmp_path: Path) -> None:
    secret = ensure_secret(tmp_path)
    result = runner.invoke(
        app,
        ["token", "--agency", "CA0190000", "--role", "ingest", "--data-dir", str(tmp_path)],
        env=NO_ENV_SECRET,
    )
    assert result.exit_code == 0, result.output
    claims = decode(result.stdout.strip(), secret)
    assert claims["agency"] == "CA0190000"
    assert claims["role"] == "ingest"
    assert claims["sub"] == "ingest@CA0190000"
    assert claims["exp"] - claims["iat"] == 3600
    assert stat.S_IMODE((tmp_path / "jwt-secret").stat().st_mode) == 0o600


def test_subject_lifetime_and_the_environment_secret() -> None:
    secret = "a-secret-from-the-environment-32-bytes-long"
    result = runner.invoke(
        app,
        ["token", "--agency", "CA0190000", "--role", "supporter", "--sub", "pso-7", "--ttl", "7d"],
        env={"PEERLINE_JWT_SECRET": secret},
    )
    assert result.exit_code == 0, result.output
    claims = decode(result.stdout.strip(), secret)
    assert (claims["sub"], claims["role"]) == ("pso-7", "supporter")
    assert claims["exp"] - claims["iat"] == 7 * 86_400


def test_no_secret_is_a_usage_error_that_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["token", "--agency", "CA0190000", "--role", "ingest", "--data-dir", str(tmp_path)],
        env=NO_ENV_SECRET,
    )
    assert result.exit_code == 2
    assert "PEERLINE_JWT_SECRET" in result.output
    assert result.stdout == ""


def test_a_lifetime_that_is_not_a_duration_is_refused() -> None:
    result = runner.invoke(
        app,
        ["token", "--agency", "CA0190000", "--role", "ingest", "--ttl", "soon"],
        env={"PEERLINE_JWT_SECRET": "a-secret-from-the-environment-32-bytes-long"},
    )
    assert result.exit_code == 2
    assert "--ttl" in result.output
