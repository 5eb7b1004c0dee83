"""Anonymous feedback: single-use codes linked to nothing, a rating that reaches the bus
with its agency only. Real HTTP, real NATS, both databases."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3

import httpx
import pytest

from services.checkins.store import FeedbackCodeRow
from shared.audit import AuditRow
from shared.events import FeedbackSubmitted
from shared.streams import EVENTS
from shared.tokens import Role
from tests.support.bus import EventLog
from tests.support.clients import client
from tests.support.database import database_rows

CALLER_TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def _issue(checkins, agency: str, count: int) -> list[str]:
    async with client(checkins, agency, Role.COORDINATOR) as coordinator:
        answer = await coordinator.post("/v1/feedback/codes", json={"count": count})
    assert answer.status_code == 201, answer.text
    return answer.json()["codes"]


def _anonymous(checkins) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=checkins.url)


def _rating(code: str, **more) -> dict:
    return {"code": code, "rating": 4, "would_recommend": True, **more}


async def test_each_code_counts_once_and_the_rating_carries_only_its_agency(checkins, agency):
    codes = await _issue(checkins, agency, 3)
    assert len(set(codes)) == 3
    assert all(len(code) == 14 and code.count("-") == 2 for code in codes)
    subject = f"ps.{agency}.feedback.submitted"
    async with EventLog(checkins.nats_url, subject, EVENTS.name) as log, _anonymous(checkins) as a:
        first = await a.post(
            "/v1/feedback", json=_rating(codes[0]), headers={"traceparent": CALLER_TRACE}
        )
        typed = codes[1].replace("-", " ").lower()  # as someone might type it off a card
        second = await a.post("/v1/feedback", json=_rating(typed, rating=2, would_recommend=False))
        reused = await a.post("/v1/feedback", json=_rating(codes[0]))
        unknown = await a.post("/v1/feedback", json=_rating("ZZZZ-ZZZZ-ZZZZ"))
        events = await log.wait_for(FeedbackSubmitted, count=2)
    assert (first.status_code, second.status_code) == (202, 202), first.text
    # A spent code and one never issued are answered alike: nothing tells who rated.
    assert (reused.status_code, reused.json()) == (unknown.status_code, unknown.json())
    assert reused.status_code == 404
    for refused in (reused, unknown):
        assert refused.headers["content-type"] == "application/problem+json"
    assert [(e.agency_id, e.rating, e.would_recommend) for e in events] == [
        (agency, 4, True),
        (agency, 2, False),
    ]
    for _, headers, payload in log.raw:
        assert set(payload) == {"event_id", "agency_id", "occurred_at", "rating", "would_recommend"}
        assert CALLER_TRACE.split("-")[1] not in headers.get("traceparent", "")
    assert await database_rows(checkins, AuditRow) == []


async def test_a_code_is_kept_only_as_a_hash_linked_to_nothing(checkins, agency):
    codes = await _issue(checkins, agency, 5)
    rows = await database_rows(checkins, FeedbackCodeRow)
    assert {row.code_hash for row in rows} == {
        hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes
    }
    for row in rows:
        stored = repr(vars(row))
        for code in codes:
            assert code not in stored and code.replace("-", "") not in stored
        assert row.agency_id == agency


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a rowid is SQLite's
async def test_the_codes_are_stored_in_no_order_of_issue(checkins, agency):
    """On SQLite the table has no rowid: the rows lie in the order of their hashes, so
    neither the order codes were issued in nor a batch can be read back. (PostgreSQL's
    physical order is for the database's operator only; see the threat model.)"""
    codes = await _issue(checkins, agency, 20)
    stored = [row.code_hash for row in await database_rows(checkins, FeedbackCodeRow)]
    issued = [hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes]
    assert stored == sorted(issued) != issued
    database = contextlib.closing(sqlite3.connect(checkins.runtime.engine.url.database))
    with database as db, pytest.raises(sqlite3.OperationalError, match="rowid"):
        db.execute("SELECT rowid FROM unspent_feedback_codes")


async def test_two_racing_submissions_of_one_code_count_once(checkins, agency):
    [code] = await _issue(checkins, agency, 1)
    async with _anonymous(checkins) as anonymous:
        answers = await asyncio.gather(
            *(anonymous.post("/v1/feedback", json=_rating(code)) for _ in range(5))
        )
    assert sorted(a.status_code for a in answers) == [202, 404, 404, 404, 404]


async def test_a_comment_is_refused_and_neither_spends_the_code_nor_publishes(checkins, agency):
    [code] = await _issue(checkins, agency, 1)
    subject = f"ps.{agency}.feedback.submitted"
    async with EventLog(checkins.nats_url, subject, EVENTS.name) as log, _anonymous(checkins) as a:
        refused = await a.post("/v1/feedback", json=_rating(code, comment="my PSO was great"))
        out_of_range = await a.post("/v1/feedback", json=_rating(code, rating=6))
        accepted = await a.post("/v1/feedback", json=_rating(code))  # the code is still good
        await log.wait_for(FeedbackSubmitted)
        await asyncio.sleep(0.3)
    assert (refused.status_code, out_of_range.status_code) == (422, 422)
    assert refused.headers["content-type"] == "application/problem+json"
    assert "my PSO" not in refused.text
    assert accepted.status_code == 202
    assert len(log.events) == 1


async def test_only_a_coordinator_issues_codes(checkins, agency):
    for role in (Role.SUPPORTER, Role.LEADERSHIP, Role.OFFICER):
        async with client(checkins, agency, role, "X1") as caller:
            answer = await caller.post("/v1/feedback/codes", json={"count": 1})
        assert answer.status_code == 403, role
    async with _anonymous(checkins) as anonymous:
        assert (await anonymous.post("/v1/feedback/codes", json={"count": 1})).status_code == 401
    async with client(checkins, agency, Role.COORDINATOR) as coordinator:
        for count in (0, 1001):
            answer = await coordinator.post("/v1/feedback/codes", json={"count": count})
            assert answer.status_code == 422
    assert await database_rows(checkins, FeedbackCodeRow) == []
