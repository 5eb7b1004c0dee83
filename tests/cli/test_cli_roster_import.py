"""`peerline roster import`: a CSV into a running roster, with a token it mints itself;
the counts, or every bad row."""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import CliRunner

from peerline import stackfile
from peerline.cli import app
from shared.tokens import Role
from tests.conftest import JWT_SECRET, bearer

runner = CliRunner(env={"PEERLINE_JWT_SECRET": JWT_SECRET})

ROSTER = """kind,supporter_id,personnel_id,display_name,email,weekly,unit,supervisor_id
supporter,S-7,PSO-7,Alex Rivera,alex@example.org,mon 08:00-18:00; tue 08:00-18:00,North,
officer,,B1234,,,,North,SGT-1
officer,,SGT-1,,,,North,
"""
BAD = """kind,supporter_id,personnel_id,display_name,email
supporter,S-7,PSO-7,Alex Rivera,alex@example.org
supporter,S-8,PSO-8,Sam Lee,sam-at-example.org
officer,,B 12,,
"""


def roster_import(tmp_path: Path, text: str, *options: str, env: dict | None = None):
    """`peerline roster import` of a file holding `text`."""
    path = tmp_path / "roster.csv"
    path.write_text(text)
    return runner.invoke(app, ["roster", "import", str(path), *options], env=env)


def officer(roster, agency: str, personnel_id: str) -> httpx.Response:
    return httpx.get(
        f"{roster.url}/v1/officers/{personnel_id}", headers=bearer(agency, Role.COORDINATOR)
    )


def test_the_running_stacks_roster_imports_the_file(roster, agency, tmp_path):
    data_dir = tmp_path / "stack"
    data_dir.mkdir()
    stackfile.write(data_dir, nats_url=roster.nats_url, services={"roster": roster.url})
    options = ["--agency", agency, "--data-dir", str(data_dir)]
    checked = roster_import(tmp_path, ROSTER, *options, "--check")
    unchecked = officer(roster, agency, "B1234")
    imported = roster_import(tmp_path, ROSTER, *options)
    stored = officer(roster, agency, "B1234")
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.splitlines()[0] == f"checked, nothing kept ({agency}):"
    assert unchecked.status_code == 404
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.splitlines() == [
        f"imported ({agency}):",
        "  supporters: 1 created, 0 updated, 0 unchanged",
        "  training: 0 created, 0 updated, 0 unchanged",
        "  officers: 2 created, 0 updated, 0 unchanged",
    ]
    assert stored.json()["supervisor_id"] == "SGT-1"


def test_each_bad_row_is_printed_and_nothing_is_imported(roster, agency, tmp_path):
    result = roster_import(tmp_path, BAD, "--agency", agency, "--url", roster.url)
    listed = httpx.get(f"{roster.url}/v1/supporters", headers=bearer(agency, Role.COORDINATOR))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "Some rows are not valid; nothing was imported. (422)"
    assert [line.split(":")[0] for line in lines[1:]] == ["  row 3, email", "  row 4, personnel_id"]
    assert "sam-at-example.org" not in result.stderr and "B 12" not in result.stderr
    assert listed.json() == []


def test_without_a_stack_or_a_url_it_says_what_to_do(tmp_path):
    result = roster_import(
        tmp_path, ROSTER, "--agency", "CA0190000", env={"PEERLINE_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 2
    assert "--url" in result.stderr


def test_an_unreachable_roster_is_an_error(tmp_path):
    result = roster_import(tmp_path, ROSTER, "--agency", "CA0190000", "--url", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert "cannot reach the roster at http://127.0.0.1:9" in result.stderr
