"""A notification URL that would make notify call inside the network is refused when it
is written, by a PUT or an import, and nothing of the record is stored (decision 65)."""

from __future__ import annotations

import httpx

from services.roster.store import CoordinatorRow, SupporterRow
from shared.tokens import Role
from tests.conftest import bearer
from tests.roster.records import coordinator_body, supporter
from tests.support.database import database_rows

INSIDE = "json://169.254.169.254/latest/meta-data"  # a cloud's metadata address
CSV = (
    "kind,supporter_id,personnel_id,display_name,url\n"
    "supporter,S-2,PSO-2,Sam Ok,slack://T1/B2/C3\n"
    "supporter,S-3,PSO-3,Lee Inside,json://[::1]:4222/\n"
)


async def test_a_url_inside_the_network_is_refused_by_every_way_in(roster, agency):
    headers = bearer(agency, Role.COORDINATOR)
    async with httpx.AsyncClient(base_url=roster.url, headers=headers) as client:
        as_supporter = await client.put(
            "/v1/supporters/S-1", json=supporter(agency, contact={"url": INSIDE})
        )
        as_coordinator = await client.put(
            "/v1/coordinators/C-1",
            json=coordinator_body(agency, contact={"url": "mailtos://u:p@10.0.0.25"}),
        )
        other_kind = await client.put(
            "/v1/supporters/S-1", json=supporter(agency, contact={"url": "gotify://h/t"})
        )
        imported = await client.post(
            "/v1/imports", content=CSV, headers={"Content-Type": "text/csv"}
        )
    for refused in (as_supporter, as_coordinator, other_kind):
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"] == [
            {"loc": ["contact.url"], "msg": refused.json()["errors"][0]["msg"]}
        ]
        assert "169.254" not in refused.text and "10.0.0.25" not in refused.text
    assert imported.status_code == 422
    assert [e["loc"] for e in imported.json()["errors"]] == [[3, "url"]]
    assert await database_rows(roster, SupporterRow) == []
    assert await database_rows(roster, CoordinatorRow) == []
