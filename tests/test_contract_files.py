"""The contract files committed under docs/contract/ are what the code generates now."""

from __future__ import annotations

from pathlib import Path

from peerline.schema import export

COMMITTED = Path(__file__).resolve().parents[1] / "docs" / "contract"


def contents(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in directory.rglob("*")
        if path.is_file()
    }


def test_the_committed_contract_files_are_current(tmp_path: Path) -> None:
    export(tmp_path)
    fresh, committed = contents(tmp_path), contents(COMMITTED)
    differing = sorted(
        name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name)
    )
    assert not differing, (
        f"docs/contract/ is out of date ({', '.join(differing)}): "
        "run `make schema` and commit the result"
    )
