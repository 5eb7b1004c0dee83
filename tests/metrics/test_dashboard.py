"""The dashboard as a chief reads it, in a real headless Chromium (Debian's, driven by
Playwright): the page (which holds no data) loads, its script fetches the charts with the
leader's token from the address's fragment, and the SVG charts draw with the agency and
the period, a key, the 72-hour split, hatched hidden cells and the month still open.
Checked with axe-core and for month labels that touch at a phone's width; screenshots
at 360 and 1280 px are kept beside the portal's (`PEERLINE_TEST_ARTIFACTS`). The
drawing itself, without a browser, below."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, sync_playwright

from services.metrics.charts import dashboard, span
from services.metrics.domain import Counts
from services.metrics.report import build
from shared.events import (
    AssignmentAcknowledged,
    AssignmentEscalated,
    CheckInScheduled,
    Event,
    FeedbackSubmitted,
    PeerAssigned,
    ReferralMade,
    SupportRequested,
)
from shared.tokens import Role
from shared.vocab import Category, Channel, EscalationReason, Reach
from tests.conftest import token
from tests.metrics.scenario import contact, counted, incident
from tests.support.browser import ARTIFACTS, accessible, launch_chromium
from tests.support.bus import publish
from tests.support.requires import unavailable

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
HATCHED = (
    "Hatched: fewer than 5, or a figure that would let someone work one out; hidden to "
    "protect the officers."
)


@pytest.fixture
def _chromium_installed() -> None:
    if not Path(CHROMIUM).exists():
        unavailable("Debian's chromium is not installed (.ci/run installs it)")


# A first quarter of 2026 in one agency, big enough to be shown on its own (20 officers
# involved or more each month) with some figures under 5.

MONTHS = {
    # incidents (category, officers in each, how many); first offers contacted within
    # 72 h, after 72 h, not yet; requests answered in time, late; referrals; ratings
    # (stars: count); would not recommend; escalations
    1: {
        "incidents": [(Category.OFFICER_INVOLVED_SHOOTING, 5, 5), (Category.FATAL_COLLISION, 1, 1)],
        "offers": (9, 6, 5),
        "answered": (12, 0),
        "referrals": {"eap": 6, "chaplain": 2},
        "ratings": {5: 6, 4: 5},
        "not_recommend": 0,
        "escalations": 1,
    },
    2: {
        "incidents": [(Category.OFFICER_INVOLVED_SHOOTING, 4, 5)],
        "offers": (11, 3, 7),
        "answered": (9, 5),
        "referrals": {"eap": 7, "clinician": 5},
        "ratings": {5: 7, 3: 2},
        "not_recommend": 2,
        "escalations": 0,
    },
    3: {
        "incidents": [(Category.OFFICER_INVOLVED_SHOOTING, 4, 6), (Category.MASS_CASUALTY, 3, 1)],
        "offers": (8, 6, 2),
        "answered": (14, 0),
        "referrals": {"eap": 5, "family": 1},
        "ratings": {5: 8, 4: 5},
        "not_recommend": 0,
        "escalations": 0,
    },
}


def _offers(agency: str, at: datetime, within: int, after: int, none: int):
    """First offers for officers of one incident: contacted within 72 h (from 20 h on),
    after (at 90 h), or not yet. (events, check-ins, contacts)"""
    events, checkins, contacts = [], [], 0
    hours = [20 + 3 * i for i in range(within)] + [90] * after + [None] * none
    for i, waited in enumerate(hours):
        assignment, checkin = uuid.uuid4(), uuid.uuid4()
        events.append(
            PeerAssigned(
                agency_id=agency,
                occurred_at=at + timedelta(hours=1),
                assignment_id=assignment,
                incident_id=uuid.uuid4(),
                personnel_id=f"P{at.month}-{i}",
                supporter_id=f"S{i % 3}",
                supporter_agency_id=agency,
                incident_occurred_at=at,
            )
        )
        checkins.append(
            CheckInScheduled(
                agency_id=agency,
                occurred_at=at + timedelta(hours=1),
                checkin_id=checkin,
                assignment_id=assignment,
                incident_id=uuid.uuid4(),
                supporter_id=f"S{i % 3}",
                due_at=at + timedelta(hours=24),
                window_closes_at=at + timedelta(hours=72),
                sequence=1,
            )
        )
        if waited is not None:
            channel = Channel.IN_PERSON if i % 3 == 0 else Channel.PHONE
            events.append(
                contact(
                    agency,
                    at.month * 100 + i,
                    at + timedelta(hours=waited),
                    checkin_id=checkin,
                    channel=channel,
                )
            )
            contacts += 1
    return events, checkins, contacts


def first_quarter(agency: str) -> tuple[list[Event], dict]:
    """Every event of the quarter, and how many of each the metrics service counts."""
    events: list[Event] = []
    n = {"incidents": 0, "contacts": 0, "offers": 0, "facts": 0, "acknowledgments": 0}
    for month, plan in MONTHS.items():
        at = datetime(2026, month, 10, 8, 0, tzinfo=UTC)
        for category, officers, times in plan["incidents"]:
            events += [incident(agency, category, officers, at) for _ in range(times)]
            n["incidents"] += times
        offered, checkins, contacts = _offers(agency, at, *plan["offers"])
        events += offered + checkins
        n["offers"] += len(checkins)
        n["contacts"] += contacts
        within, late = plan["answered"]
        for i in range(within + late):
            events.append(
                SupportRequested(
                    agency_id=agency, occurred_at=at, request_id=uuid.uuid4(), reach=Reach.CALL
                )
            )
            waited = 60 * (2 + i % 6) if i < within else 60 * 25
            events.append(
                AssignmentAcknowledged(
                    agency_id=agency,
                    occurred_at=at + timedelta(seconds=waited),
                    assignment_id=uuid.uuid4(),
                    supporter_id="S1",
                    reach_by=at + timedelta(minutes=10),
                    waited_seconds=waited,
                    within_deadline=i < within,
                    for_request=True,
                )
            )
        n["facts"] += within + late
        n["acknowledgments"] += within + late
        for kind, times in plan["referrals"].items():
            events += [
                ReferralMade(
                    agency_id=agency,
                    occurred_at=at,
                    referral_id=uuid.uuid4(),
                    contact_id=uuid.uuid4(),
                    resource_type=kind,
                    resource_id="R1",
                    urgency="routine",
                )
                for _ in range(times)
            ]
            n["facts"] += times
        ratings = [stars for stars, times in plan["ratings"].items() for _ in range(times)]
        for i, stars in enumerate(ratings):
            events.append(
                FeedbackSubmitted(
                    agency_id=agency,
                    occurred_at=at,
                    rating=stars,
                    would_recommend=i >= plan["not_recommend"],
                )
            )
        n["facts"] += 2 * len(ratings)
        for _ in range(plan["escalations"]):
            events.append(
                AssignmentEscalated(
                    agency_id=agency,
                    occurred_at=at,
                    assignment_id=uuid.uuid4(),
                    reason=EscalationReason.MOVES_EXHAUSTED,
                    moves=3,
                    for_request=True,
                )
            )
            n["facts"] += 1
    return events, n


def _save(page: Page, name: str) -> Path:
    """A full-page screenshot among the test artifacts, replaced whole (two runs of the
    test, one per database, may write it at once)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"metrics-dashboard-{name}.png"
    part = path.with_suffix(f".{os.getpid()}.part")
    page.screenshot(path=part, full_page=True, type="png")
    part.replace(path)
    assert path.stat().st_size > 20_000
    return path


TICKS_APART = """() => [...document.querySelectorAll('#charts svg[role=img]')].flatMap(svg => {
  const boxes = [...svg.querySelectorAll('text.tick, text.year')]
    .map(t => ({y: t.getAttribute('class'), r: t.getBoundingClientRect()}));
  const touching = [];
  for (const a of boxes) for (const b of boxes)
    if (a !== b && a.y === b.y && a.r.left < b.r.left && a.r.right + 1 > b.r.left)
      touching.push(svg.querySelector('title').textContent);
  return touching;
})"""


def _look(url: str) -> dict:
    """What a chief sees at a phone's width and at a desktop's, in one browser."""
    seen: dict = {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                mobile = name == "phone"
                context = browser.new_context(viewport=viewport, is_mobile=mobile, has_touch=mobile)
                page = context.new_page()
                page.goto(url)
                page.wait_for_selector("body[data-loaded=yes]", timeout=60_000)
                if mobile:
                    accessible(page)  # axe, and nothing wider than the phone
                    seen["address"] = page.url
                    seen["touching"] = page.evaluate(TICKS_APART)
                    seen["text"] = page.inner_text("#charts")
                    seen["html"] = page.inner_html("#charts")
                    seen["alternatives"] = page.evaluate(
                        "[...document.querySelectorAll('#charts svg[role=img]')].map(s =>"
                        " [s.querySelector(':scope > title')?.textContent,"
                        " s.querySelector(':scope > desc')?.textContent,"
                        " !!s.closest('figure').querySelector('details table')])"
                    )
                else:
                    accessible_wide(page)
                seen[name] = _save(page, name)
                context.close()
        finally:
            browser.close()
    return seen


def accessible_wide(page: Page) -> None:
    """No serious or critical axe-core violation at a desktop's width."""
    result = Axe().run(page)
    bad = [
        (v["id"], v["impact"])
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == []


@pytest.mark.browser
@pytest.mark.usefixtures("_chromium_installed")
async def test_a_chief_reads_the_first_quarter_on_a_phone_and_a_desktop(metrics, agency):
    events, n = first_quarter(agency)
    await publish(metrics.nats_url, *events)
    await counted(
        metrics, n["incidents"], n["contacts"], n["offers"], n["facts"], n["acknowledgments"]
    )
    today = datetime.now(UTC).date()
    window = {"from": "2026-01-01", "to": today.isoformat()}
    url = f"{metrics.url}/dashboard?{urlencode(window)}#token={token(agency, Role.LEADERSHIP)}"

    seen = await asyncio.to_thread(_look, url)

    assert "#token" not in seen["address"]  # taken out of the address at once
    text, html = seen["text"], seen["html"]
    months = [f"2026-{m:02d}" for m in range(1, 13)][: today.month if today.year == 2026 else 12]
    # Whose figures, and when.
    assert f"Agency {agency}" in text
    assert f"{span(months) if today.year == 2026 else 'January 2026'}" in text
    assert "month by month" in text
    # The key: hatched cells explained in one line, the open month named.
    assert HATCHED in text
    assert "Not yet released:" in text
    assert 'class="open"' in html and "not yet released" in html
    # Figures above the threshold, and hidden ones, hatched.
    assert 'class="value"' in html and 'class="suppressed"' in html
    assert 'fill="url(#chart-' in html
    assert "2026-01: 6</title>" in html  # six critical incidents in January
    # Over the released months: February's five shootings, and the months hidden.
    assert "Officer-involved shooting: 5 + hidden" in html
    # The 72-hour split, stacked, with a legend.
    assert "2026-01: 9 within 72 h</title>" in html
    assert "2026-02: 11 within 72 h</title>" in html
    for name in ("within 72 h", "after 72 h", "no contact yet"):
        assert f"</svg> {name}</li>" in html
    # Shares as percentages; short month labels, the year once.
    assert "Officers' requests for a peer answered within the deadline (%)" in text
    assert "2026-01: 100%</title>" in html
    assert re.search(r'class="tick"[^>]*>Jan</text>', html)
    assert seen["touching"] == []  # no two labels touch at 360 px
    # Every chart has a text alternative: its title, every figure, and a table.
    assert seen["alternatives"] and all(t and d and table for t, d, table in seen["alternatives"])
    assert seen["phone"].exists() and seen["desktop"].exists()


async def test_the_page_holds_no_data_and_the_charts_need_a_leader(
    _chromium_installed, metrics, agency, tmp_path
):
    async with httpx.AsyncClient(base_url=metrics.url) as anonymous:
        bare = await anonymous.get("/dashboard")
        charts = await anonymous.get("/dashboard/charts")
    assert bare.status_code == 200 and "<svg" not in bare.text
    assert charts.status_code == 401
    dom = await asyncio.to_thread(
        subprocess.run,
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-proxy-server",
            f"--user-data-dir={tmp_path / 'p'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            f"{metrics.url}/dashboard",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "<svg" not in dom.stdout and 'id="signin"' in dom.stdout


# The drawing, without a browser.

PERIODS = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)]


def _answer(periods: list[str], **more) -> dict:
    counts = Counts(periods)
    for p in periods[:3]:
        counts.add("incidents", "officer_involved_shooting", p, 12)
        counts.add("first_offers", "within_72h", p, 9)
        counts.add("first_offers", "after_72h", p, 2)
    answer = build(counts, 5)
    return answer | {"periods": periods, "withheld": None, "min_cell": 5, **more}


def _first_chart(html: str) -> str:
    return html.split('role="img"')[1].split("</svg>")[0]


def _ticks(html: str) -> list[tuple[float, str]]:
    return [
        (float(x), label)
        for x, label in re.findall(
            r'<text x="([\d.]+)"[^>]*class="tick">([^<]+)<', _first_chart(html)
        )
    ]


@pytest.mark.unit
@pytest.mark.parametrize("months", [3, 12, 24, 60])
def test_month_labels_are_short_and_thinned_so_they_never_touch(months):
    periods = [f"{2022 + i // 12}-{i % 12 + 1:02d}" for i in range(months)]
    html = dashboard(_answer(periods, scope="region"))
    ticks = _ticks(html)
    assert ticks and all(len(label) == 3 for _, label in ticks)  # "Jan", never "2026-01"
    widest = 3 * 6.2
    assert all(b[0] - a[0] > widest for a, b in itertools.pairwise(ticks))
    years = re.findall(r'class="year">(\d{4})<', _first_chart(html))
    assert years == sorted(set(years))  # each year once
    assert "Region: every agency" in html


@pytest.mark.unit
def test_a_quarter_and_a_month_still_open_are_named_as_a_person_reads_them():
    periods = ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    html = dashboard(_answer(periods, scope="agency", agency="HARBOR", open=["2026-12"]))
    assert "<strong>Agency HARBOR</strong> · Q1 to Q4 2026, quarter by quarter" in html
    assert [label for _, label in _ticks(html)] == ["Q1", "Q2", "Q3", "Q4"]
    assert "Not yet released: Q4 2026." in html
    assert span(["2025-11", "2026-02"]) == "November 2025 to February 2026"


@pytest.mark.unit
def test_hidden_parts_are_hatched_and_a_withheld_month_still_shows_the_others():
    answer = _answer(PERIODS[:6], scope="agency", agency="HARBOR")
    answer |= {"withheld": "Too few officers.", "withheld_months": ["2025-02"]}
    html = dashboard(answer)
    assert "Too few officers. (Feb 2025)" in html
    assert html.count('role="img"') >= 3  # the charts are still drawn
    # After 72 h (2) is hidden, so is within 72 h: the column's total still shows.
    assert "2025-01: hidden (within 72 h, after 72 h)" in html
    assert ">11</text>" in html
    assert HATCHED in html


@pytest.mark.unit
def test_an_agency_with_nothing_counted_gets_one_line_not_charts_of_zeros():
    periods = PERIODS[12:]
    answer = build(Counts(periods), 5) | {
        "periods": periods,
        "withheld": None,
        "scope": "agency",
        "agency": "QUIET",
        "open": ["2026-12"],
    }
    html = dashboard(answer)
    assert "<svg" not in html
    assert "Nothing counted in January to November 2026: no critical incidents" in html
