"""What an operator follows from the docs alone works as written: the first start
builds the images before anything uses them, the agencies' file is ignored by git, and
the command's help says where a token's secret comes from."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from peerline.cli import app

ROOT = Path(__file__).resolve().parents[1]
DEPLOYMENT = (ROOT / "docs" / "deployment.md").read_text()


def _first_start() -> str:
    section = DEPLOYMENT.split("## First start", 1)[1].split("\n## ", 1)[0]
    return section.split("```sh", 1)[1].split("```", 1)[0]


def test_the_first_start_builds_the_images_before_compose_uses_them():
    steps = _first_start()
    assert "docker build" not in steps
    assert steps.index("make images") < steps.index("docker compose")
    assert re.search(r"\.venv/bin/peerline nats-config deploy/agencies\.yaml", steps)


def test_the_agencies_file_is_ignored_by_git():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/agencies.yaml"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0


def test_the_token_command_says_where_its_secret_comes_from():
    shown = CliRunner().invoke(app, ["token", "--help"], terminal_width=200).output
    assert "PEERLINE_JWT_SECRET" in shown


def test_the_claims_a_regions_identity_provider_issues_are_documented():
    operations = (ROOT / "docs" / "operations.md").read_text()
    section = operations.split("## Identity provider", 1)[1].split("\n## ", 1)[0]
    for claim in ("sub", "agency", "role", "exp", "iss", "aud"):
        assert f"| `{claim}` |" in section
