"""Services share only `shared/` and never import one another (docs/architecture.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_tests_share_helpers_through_support_only():
    """A test module is never imported by another: what tests share lives in
    `tests/support/` (or a service's own scenario module), so moving or deleting a test
    never breaks a different one."""
    importing = re.compile(
        r"^\s*(from tests(\.\w+)*\.test_\w+ import|from tests(\.\w+)* import test_)", re.M
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("*.py")
        if importing.search(path.read_text())
    ]
    assert offenders == []
