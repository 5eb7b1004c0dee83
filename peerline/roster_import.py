"""`peerline roster import`: a roster CSV sent to the roster's `POST /v1/imports`.

The roster checks every row and keeps the file whole or not at all (decision 21), so
this side only sends it and says what came back: the counts, or each bad row with its
column and the reason (the roster never repeats a cell's value, nor does this).
Standard library HTTP, so the command needs nothing beyond the `cli` extra.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

# A file of 10,000 officers is checked and written in a few seconds; leave room.
TIMEOUT = 120.0
KINDS = ("supporters", "training", "officers")


class ImportFailed(Exception):
    """The roster refused the file or could not be reached; `lines` say why."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def send(url: str, token: str, body: bytes, *, agency: str, dry_run: bool) -> dict:
    """Post the file; the roster's answer (`Imported`), or `ImportFailed`."""
    query = {"agency_id": agency} | ({"dry_run": "true"} if dry_run else {})
    request = urllib.request.Request(
        f"{url.rstrip('/')}/v1/imports?{urlencode(query)}",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return json.load(response)
    except urllib.error.HTTPError as refused:
        raise ImportFailed(_refusal(refused)) from None
    except (OSError, http.client.HTTPException) as exc:
        raise ImportFailed([f"cannot reach the roster at {url}: {exc}"]) from None


def summary(answer: dict) -> list[str]:
    done = "checked, nothing kept" if answer["dry_run"] else "imported"
    lines = [f"{done} ({answer['agency_id']}):"]
    for kind in KINDS:
        counts = answer[kind]
        lines.append(
            f"  {kind}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged"
        )
    return lines


def _refusal(refused: urllib.error.HTTPError) -> list[str]:
    """The problem document as lines: its detail, then one line per error, located by
    row and column (`row 3, email: ...`)."""
    try:
        problem = json.loads(refused.read())
    except ValueError:
        return [f"the roster answered {refused.code} {refused.reason}"]
    lines = [f"{problem.get('detail') or problem.get('title')} ({refused.code})"]
    for error in problem.get("errors", []):
        where = ", ".join(f"row {p}" if isinstance(p, int) else str(p) for p in error["loc"])
        lines.append(f"  {where}: {error['msg']}" if where else f"  {error['msg']}")
    return lines
