"""The docs stand on their own and keep up with the code: every decision is in the
index, and nothing points to documents outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
DECISIONS = ROOT / "docs" / "decisions"
OUTSIDE = re.compile(r"\b(PRODUCT|CONTRACT|ENGINEERING|DOCKER)\.md\b|\bPRODUCT rules?\b")


def test_every_decision_is_in_the_index_with_a_status():
    index = (DECISIONS / "README.md").read_text()
    for record in sorted(DECISIONS.glob("0*.md")):
        line = next((row for row in index.splitlines() if f"]({record.name})" in row), None)
        assert line is not None, f"{record.name} is not in docs/decisions/README.md"
        assert line.rstrip(" |").rsplit("|", 1)[-1].strip(), f"{record.name} has no status"


def test_no_file_points_to_documents_outside_the_repository():
    sources = [
        *ROOT.glob("*.md"),
        *(ROOT / "docs").rglob("*.md"),
        *(
            p
            for d in ("shared", "services", "peerline", "tests", "bench", "deploy")
            for p in (ROOT / d).rglob("*")
            if p.suffix in {".py", ".md", ".sh", ".yaml", ".html"}
        ),
    ]
    pointing = [
        str(p.relative_to(ROOT))
        for p in sources
        if OUTSIDE.search(p.read_text()) and p.name != "test_docs.py"
    ]
    assert pointing == []
