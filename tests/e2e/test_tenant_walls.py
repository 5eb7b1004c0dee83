"""The agency wall and the roles, for every route of every service, generated from the
contract (docs/contract/openapi/): a new route is in this test the moment it is in the
contract. On a region the demo filled, as agency A:

- no token is 401, and every role the route does not admit (`x-peerline-roles`) is 403;
- another agency's token, of every role the route admits, aimed at A's records (A's ids
  in the path, with a valid body where the route takes one) is refused: 403 or 404; and
  no answer to that agency shows any of A's ids (but to its operators, who run the
  whole region: they see which supporter a delivery went to, never which officer);
- after all of it, everything A's coordinator can read is as it was.

Writes whose bodies, not paths, name A's records (a contact on A's check-in, an
exception on A's assignment) are proven by the check-ins' own tests; here their bodies
are empty, and they must still leave A as it was.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from peerline.demo import DEMO_AGENCY
from shared.tokens import Role, issue_token
from tests.roster.records import coordinator_body, supporter
from tests.support.stack import peerline

pytestmark = pytest.mark.e2e

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract" / "openapi"
OTHER = "ZZ9990000"  # an agency of the region with nothing of its own yet
# Path parameters that are keys within the caller's own agency, not another's records
# (a personnel id is unique only within its agency: another agency's `B1234` is someone
# else): a route with them acts on the caller's agency, which the snapshot of A checks.
# A report's period names no one's record: each caller gets its own agency's report.
OWN_AGENCY_KEYS = {"personnel_id", "code", "category", "area", "period"}
REFUSED = {403, 404}
# Roles that serve the whole region by design: the operators see every agency's
# deliveries (which supporter, never which officer), so A's supporter ids may show.
REGION_WIDE = {Role.OPS}
# A valid body for each write that names another agency's record in its path, so that
# what refuses it is the wall and not the body's shape. A new such route fails this
# test until it has one here.
BODIES = {
    ("roster", "PUT", "/v1/supporters/{supporter_id}"): lambda: supporter(OTHER),
    ("roster", "PUT", "/v1/coordinators/{coordinator_id}"): lambda: coordinator_body(OTHER),
    ("roster", "PUT", "/v1/supporters/{supporter_id}/training/{area}"): lambda: {
        "completed_on": "2026-01-05",
        "expires_on": "2028-01-05",
    },
    ("roster", "PUT", "/v1/resources/{resource_id}"): lambda: {
        "name": "Wall test line",
        "resource_type": "crisis_line",
    },
    ("incidents", "POST", "/v1/incidents/{incident_id}/retraction"): lambda: {
        "reason": "entered_in_error"
    },
    ("roster", "POST", "/v1/assignments/{assignment_id}/acknowledge"): lambda: {
        "reach_by": (datetime.now(UTC) + timedelta(minutes=15)).isoformat()
    },
    ("roster", "POST", "/v1/waiting/{assignment_id}/give"): lambda: {"supporter_id": "S-WALL"},
}
# What the demo's care moves on its own while the test runs (offers fall due on timers,
# notifications go out): left out of the before-and-after comparison of A.
MOVING = {
    ("checkins", "/v1/assignments"),
    ("checkins", "/v1/checkins"),
    ("notify", "/v1/notifications"),
}


def _operations() -> list[tuple[str, str, str, dict]]:
    found = []
    for document in sorted(CONTRACT.glob("*.json")):
        paths = json.loads(document.read_text())["paths"]
        for path, operations in paths.items():
            for method, operation in operations.items():
                found.append((document.stem, method.upper(), path, operation))
    return found


OPERATIONS = _operations()


def _ids(value, out: set[str]) -> set[str]:
    """Every string under a key ending in `_id` (agency ids aside), anywhere in `value`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("_id") and key != "agency_id" and isinstance(item, str):
                out.add(item)
            _ids(item, out)
    elif isinstance(value, list):
        for item in value:
            _ids(item, out)
    return out


class Region:
    def __init__(self, urls: dict[str, str], secret: str) -> None:
        self.urls, self.secret = urls, secret

    def headers(self, agency: str, role: str, sub: str = "wall-test") -> dict[str, str]:
        token = issue_token(self.secret, agency=agency, role=role, sub=sub)
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self, client, service: str, method: str, path: str, headers: dict, body
    ) -> httpx.Response:
        """`body`: a JSON value to send, True for an empty object, False for none."""
        content = json.dumps({} if body is True else body).encode() if body else None
        return await client.request(
            method,
            self.urls[service] + path,
            headers={**headers, "Content-Type": "application/json"},
            content=content,
        )


async def _a_records(region: Region, client) -> dict[str, str]:
    """One of A's records of each kind a path can name, read as A's coordinator."""
    coordinator = region.headers(DEMO_AGENCY.agency_id, Role.COORDINATOR)

    async def first(service: str, path: str, key: str, where=lambda _: True) -> str:
        listed = (await client.get(region.urls[service] + path, headers=coordinator)).json()
        return next(item[key] for item in listed if where(item))

    asked = await client.post(
        region.urls["roster"] + "/v1/requests",
        json={"reach": "call"},
        headers=region.headers(DEMO_AGENCY.agency_id, Role.OFFICER, "WALL-OFFICER"),
    )
    return {
        "request_id": asked.json()["request_id"],
        "incident_id": await first("checkins", "/v1/assignments", "incident_id"),
        "assignment_id": await first("checkins", "/v1/assignments", "assignment_id"),
        "supporter_id": await first("roster", "/v1/supporters", "supporter_id"),
        "coordinator_id": await first("roster", "/v1/coordinators", "coordinator_id"),
        "personnel_id": await first("roster", "/v1/officers", "personnel_id"),
        "resource_id": await first(
            "roster", "/v1/resources", "resource_id", lambda r: not r.get("region_wide")
        ),
        "code": "WALL-TEST",
        "category": "default",
        "area": "active_listening",
        "period": "2026-Q1",
    }


async def _snapshot(region: Region, client, records: dict[str, str]) -> dict:
    """Everything A's coordinator may read: each GET the role admits, A's ids filled in."""
    seen = {}
    coordinator = region.headers(DEMO_AGENCY.agency_id, Role.COORDINATOR)
    for service, method, path, operation in OPERATIONS:
        if method != "GET" or "coordinator" not in operation.get("x-peerline-roles", []):
            continue
        if (service, path) in MOVING:
            continue
        answer = await region.call(
            client, service, "GET", path.format(**records), coordinator, body=False
        )
        seen[service, path] = (answer.status_code, answer.text)
    return seen


async def test_every_route_keeps_the_agency_wall_and_its_roles(stack):
    info, workdir, _ = stack
    demo = await asyncio.to_thread(peerline, "demo", cwd=workdir)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    secret = (workdir / ".peerline" / "jwt-secret").read_text().strip()
    region = Region(info["services"], secret)
    a = DEMO_AGENCY.agency_id
    async with httpx.AsyncClient(timeout=30) as client:
        records = await _a_records(region, client)
        before = await _snapshot(region, client, records)
        a_ids = {v for k, v in records.items() if k not in OWN_AGENCY_KEYS}
        failures = []
        for service, method, path, operation in OPERATIONS:
            roles = operation.get("x-peerline-roles")
            if roles is None:
                continue  # an anonymous route: health, the feedback code, the dashboard
            target = path.format(**records)
            body = "requestBody" in operation
            where = f"{method} {service}{path}"
            anonymous = await region.call(client, service, method, target, {}, body)
            if anonymous.status_code != 401:
                failures.append(f"{where} without a token: {anonymous.status_code}")
            for role in sorted(set(Role) - set(roles)):
                answer = await region.call(
                    client, service, method, target, region.headers(a, role), body
                )
                if answer.status_code != 403:
                    failures.append(f"{where} as A's {role}: {answer.status_code}")
            names_a = any(f"{{{p}}}" in path for p in records if p not in OWN_AGENCY_KEYS)
            if names_a and body:
                if (service, method, path) not in BODIES:
                    failures.append(f"{where} names A's record: give it a body in BODIES")
                    continue
                body = BODIES[service, method, path]()
            for role in roles:
                answer = await region.call(
                    client, service, method, target, region.headers(OTHER, role), body
                )
                if names_a and answer.status_code not in REFUSED:
                    failures.append(f"{where} as another agency's {role}: {answer.status_code}")
                if role in REGION_WIDE:
                    continue
                if answer.status_code < 300 and a_ids & _ids(_json(answer), set()):
                    failures.append(f"{where} as another agency's {role} shows A's records")
        after = await _snapshot(region, client, records)
    assert failures == [], "\n".join(failures)
    assert after == before


def _json(answer: httpx.Response):
    try:
        return answer.json()
    except ValueError:
        return None
