"""The leadership report (`GET /v1/reports/{period}`): who may read it, that every
figure in it is the one `/v1/metrics` publishes (a dash where that is suppressed), the
one-line summary in plain words, the print stylesheet, and the PDF: one page, rendered
to PNG with poppler's pdftoppm and kept as an artifact."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from html import unescape
from io import BytesIO

import pytest
from PIL import Image

from services.metrics import leadership, printing
from services.metrics.domain import Counts, Granularity, period_of
from services.metrics.hierarchy import REGION, assemble, release_month
from services.metrics.releases import WITHHELD
from services.metrics.report import load_table
from shared.errors import Invalid
from shared.tokens import Role
from shared.vocab import Category
from tests.metrics.scenario import counted, incident, january_counted, offered_and_contacted
from tests.support.browser import ARTIFACTS
from tests.support.bus import publish
from tests.support.clients import client
from tests.support.requires import unavailable

Q1 = "/v1/reports/2026-Q1"
QUARTER = {"from": "2026-01-01", "to": "2026-03-31", "granularity": "quarter"}
LINE = re.compile(r'<tr class="line[^"]*"><th scope="row">([^<]*)</th>((?:<td>[^<]*</td>)*)</tr>')


def lines(page: str) -> dict[str, list[str]]:
    """The report's lines as printed: label → the values of its columns."""
    return {
        unescape(label): [unescape(v) for v in re.findall(r"<td>([^<]*)</td>", cells)]
        for label, cells in LINE.findall(page)
    }


def headings(page: str) -> list[str]:
    """The columns' headings: `who when`."""
    found = re.findall(r'<th scope="col">([^<]+)<br>([^<]+)', page)
    return [unescape(f"{who} {when}") for who, when in found]


def summary_of(page: str) -> str:
    return unescape(re.search(r'<p class="summary" id="summary">([^<]*)</p>', page)[1])


# Who may read it.


async def test_leadership_reads_its_own_agency_and_the_region_reads_any(metrics, agency):
    other = "O" + uuid.uuid4().hex[:12].upper()
    await january_counted(metrics, agency)
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        own = await leader.get(Q1)
        also_own = await leader.get(Q1, params={"agency": agency})
    assert own.status_code == 200, own.text
    assert own.headers["content-type"].startswith("text/html")
    assert own.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in own.headers["content-security-policy"]
    assert also_own.status_code == 200
    async with client(metrics, other, Role.LEADERSHIP) as stranger:
        refused = await stranger.get(Q1, params={"agency": agency})
        refused_pdf = await stranger.get(Q1, params={"agency": agency, "format": "pdf"})
    for answer in (refused, refused_pdf):
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"
    for role in (Role.COORDINATOR, Role.SUPPORTER, Role.OFFICER, Role.INGEST, Role.SERVICE):
        async with client(metrics, agency, role) as someone:
            assert (await someone.get(Q1)).status_code == 403
    async with client(metrics, other, Role.REGIONAL) as regional:
        region = await regional.get(Q1)
        theirs = await regional.get(Q1, params={"agency": agency})
    assert region.status_code == theirs.status_code == 200
    assert "The region (every agency)" in region.text
    assert headings(region.text) == ["Region 2026 Q1", "Region 2025 Q4"]
    assert f"Agency {agency}" in theirs.text
    assert headings(theirs.text) == [f"{agency} 2026 Q1", f"{agency} 2025 Q4", "Region 2026 Q1"]
    assert headings(own.text) == headings(theirs.text)


async def test_a_period_that_is_not_a_month_or_a_quarter_is_refused(metrics, agency):
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        answers = [
            await leader.get(f"/v1/reports/{period}")
            for period in ("2026-Q5", "2026-13", "2026-Q1x", "Q1-2026", "1969-Q4", "2026")
        ]
        bad_format = await leader.get(Q1, params={"format": "docx"})
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["loc"][-1] == "period"
    assert bad_format.status_code == 422


# What it says.


async def test_every_figure_is_the_one_v1_metrics_publishes(metrics, agency):
    await january_counted(metrics, agency)
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        page = (await leader.get(Q1)).text
        published = (await leader.get("/v1/metrics", params=QUARTER)).json()
        before = (
            await leader.get(
                "/v1/metrics",
                params={**QUARTER, "from": "2025-10-01", "to": "2025-12-31"},
            )
        ).json()
    async with client(metrics, agency, Role.REGIONAL) as regional:
        region = (await regional.get("/v1/metrics", params=QUARTER)).json()
    printed = lines(page)
    for _, _, specs in leadership.SECTIONS:
        for label, source, unit, _, _ in specs:
            expected = [leadership.text(source(a), unit, True) for a in (published, before, region)]
            assert printed[label.format(goal="90 %")] == expected, label
    # January's figures, as a chief reads them.
    assert printed["Critical incidents"] == ["7", "0", "7"]
    assert printed["Officers involved"] == ["31", "0", "31"]
    assert printed["Share of those reached: within 72 h (goal 90 %)"] == ["100 %", "n/a", "100 %"]
    assert printed["Median hours from incident to first contact"][0] == "30 h"
    # Two chaplain referrals beside six to the EAP: both suppressed, printed as dashes.
    assert printed["Chaplain"][0] == printed["Employee assistance program"][0] == "—"
    assert printed["Supporters with 1 open assignment"][1] == ""  # today's, not Q4's
    assert printed["Supporters whose training is current"] == ["not counted yet"] * 3
    assert summary_of(page) == (
        "Of the officers peer supporters reached after a critical incident this quarter, "
        "100 % were reached within 72 hours, meeting the program's goal of 90 %."
    )
    assert "— Not published: a count from 1 to 4" in unescape(page)
    assert "@media print" in page and "@page" in page
    assert "<script" not in page


async def test_the_summary_says_so_when_the_share_would_identify_someone(metrics, agency):
    small = "S" + uuid.uuid4().hex[:12].upper()
    # 25 officers involved, three of them offered support and reached in 30 hours: a
    # share of 3 would identify them. A second agency with 3 officers is withheld.
    offers, checkins = offered_and_contacted(agency, 3, timedelta(hours=30))
    events = [
        incident(agency, Category.OFFICER_INVOLVED_SHOOTING, 25),
        incident(small, Category.LINE_OF_DUTY_DEATH, 3),
        *offers,
    ]
    await publish(metrics.nats_url, *events, *checkins)
    await counted(metrics, 2, 3, 3, 0)
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        page = (await leader.get(Q1)).text
    assert summary_of(page) == (
        "The share reached within 72 hours is not published this quarter: it could reveal a "
        "count of fewer than 5 officers and so identify them."
    )
    assert lines(page)["Share of those reached: within 72 h (goal 90 %)"][0] == "—"
    async with client(metrics, small, Role.LEADERSHIP) as leader:
        withheld = (await leader.get(Q1)).text
    assert summary_of(withheld) == (
        "Too few officers were involved in critical incidents this quarter to report the "
        "agency's figures on their own without identifying anyone: they are counted in the "
        "region's."
    )
    assert lines(withheld)["Officers involved"][0] == "—"
    assert WITHHELD in unescape(withheld)


async def test_a_period_not_over_yet_is_not_published(metrics, agency):
    now = period_of(datetime.now(UTC), Granularity.QUARTER)
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        page = (await leader.get(f"/v1/reports/{now}")).text
    assert summary_of(page).startswith(f"{now.replace('-', ' ')} has not closed yet:")
    assert "not released yet" in page
    this, _, region = lines(page)["Critical incidents"]
    assert this == region == "—"


# The PDF.


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        unavailable(f"poppler-utils' {tool} is not installed (.ci/run installs it)")
    return found


async def test_the_pdf_is_one_page_a_chief_can_read(metrics, agency, tmp_path):
    pdftoppm, pdfinfo = _poppler("pdftoppm"), _poppler("pdfinfo")
    await january_counted(metrics, agency)
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        answer = await leader.get(Q1, params={"format": "pdf"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == (
        f'inline; filename="peerline-report-{agency}-2026-Q1.pdf"'
    )
    assert answer.content.startswith(b"%PDF-")
    document = tmp_path / "report.pdf"
    document.write_bytes(answer.content)

    info = await asyncio.to_thread(_run, pdfinfo, str(document))
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE), info
    assert "Peer support program: 2026 Q1" in info  # its title
    await asyncio.to_thread(
        _run, pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", str(document), str(tmp_path / "p")
    )
    (png,) = tmp_path.glob("p*.png")
    image = Image.open(BytesIO(png.read_bytes())).convert("L")
    # US Letter at 60 dpi: 8.5 x 11 inches.
    assert image.size == (510, 660)
    pixels = list(image.getdata())
    white = sum(p > 235 for p in pixels) / len(pixels)
    dark = sum(p < 100 for p in pixels) / len(pixels)
    assert white > 0.7, f"{white:.0%} white"  # a page of text, not a blank or a smear
    assert dark > 0.01, f"{dark:.1%} dark"  # with text on it
    # The text fills the page from top to bottom, within its margins.
    left, top, right, bottom = image.point(lambda p: 255 if p < 100 else 0).getbbox()
    assert top < 60 and bottom > 450, (top, bottom)
    assert left > 10 and right < 500, (left, right)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, ARTIFACTS / "metrics-leadership-report.png")
    shutil.copyfile(document, ARTIFACTS / "metrics-leadership-report.pdf")


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


# The rules, without a server.


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "start", "end", "previous"),
    [
        ("2026-Q1", "2026-01-01", "2026-03-31", "2025-Q4"),
        ("2026-Q4", "2026-10-01", "2026-12-31", "2026-Q3"),
        ("2026-03", "2026-03-01", "2026-03-31", "2026-02"),
        ("2026-01", "2026-01-01", "2026-01-31", "2025-12"),
        ("2028-02", "2028-02-01", "2028-02-29", "2028-01"),
    ],
)
def test_a_period_and_the_one_before(text, start, end, previous):
    period = leadership.parse_period(text)
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)
    assert period.previous().name == previous
    assert leadership.parse_period("1970-Q1").previous() is None


@pytest.mark.unit
def test_a_bad_period_names_the_field():
    with pytest.raises(Invalid) as refused:
        leadership.parse_period("2026-Q0")
    assert refused.value.field == "period"


def _release(agencies: dict[str, Counts], audience: str, period: str, released=True) -> dict:
    """A month's release of `audience`, as `releases.release` answers it."""
    region = Counts([period])
    for counts in agencies.values():
        for measure, rows in counts.counts.items():
            for key, by_period in rows.items():
                region.add(measure, key, period, by_period[period])
        region.officers_involved_total += counts.officers_involved_total
        region.load.update(counts.load)
    body = release_month(period, agencies, region, 5, 20) if released else None
    answer = assemble(audience, [period], {period: [period]}, {period: body}, {}, {})
    answer["tables"].append(load_table(region if audience == REGION else agencies[audience], 5))
    withheld = [period] if body and audience in body["withheld"] else []
    return {
        "scope": "region" if audience == REGION else "agency",
        "agency": None if audience == REGION else audience,
        "min_cell": 5,
        "open": [] if released else [period],
        "withheld_months": withheld,
        "withheld": WITHHELD if withheld else None,
    } | answer


def _counts(period: str, within: int, after: int, officers: int) -> Counts:
    counts = Counts([period])
    counts.add("incidents", "officer_involved_shooting", period, 2)
    counts.add("officers_involved", "officer_involved_shooting", period, officers)
    counts.add("first_offers", "within_72h", period, within)
    counts.add("first_offers", "after_72h", period, after)
    counts.officers_involved_total = officers
    counts.load.update({"1": 6, "2": 5})
    return counts


@pytest.mark.unit
def test_the_summary_puts_the_share_beside_the_goal():
    period = leadership.parse_period("2026-03")
    closes = datetime(2026, 4, 1, 6, tzinfo=UTC)
    below = _release({"A1": _counts("2026-03", 17, 8, 30)}, "A1", "2026-03")
    assert leadership.summary(period, below, 0.9, closes) == (
        "Of the officers peer supporters reached after a critical incident this month, 68 % "
        "were reached within 72 hours, below the program's goal of 90 %."
    )
    unreached = _counts("2026-03", 17, 8, 30)
    unreached.add("first_offers", "no_contact_yet", "2026-03", 6)
    assert leadership.summary(
        period, _release({"A1": unreached}, "A1", "2026-03"), 0.9, closes
    ) == (
        "Of the officers peer supporters reached after a critical incident this month, 68 % "
        "were reached within 72 hours, below the program's goal of 90 %; 6 more officers "
        "offered support were not reached."
    )
    nobody = _release({"A1": _counts("2026-03", 0, 0, 30)}, "A1", "2026-03")
    assert leadership.summary(period, nobody, 0.9, closes) == (
        "No officer was offered support after a critical incident this month."
    )
    still_open = _release({"A1": _counts("2026-03", 17, 8, 30)}, "A1", "2026-03", False)
    assert leadership.summary(period, still_open, 0.9, closes) == (
        "March 2026 has not closed yet: its figures are published from 1 April 2026, 06:00 UTC."
    )


@pytest.mark.unit
def test_the_fullest_report_still_prints_on_one_page():
    """Three columns, two not released, every note, the longest agency id: one page of
    PDF, and its HTML."""
    small = "B" * 32
    period = leadership.parse_period("2026-09")
    september = {"A1": _counts("2026-09", 17, 8, 30), small: _counts("2026-09", 2, 1, 3)}
    august = {"A1": _counts("2026-08", 17, 8, 30), small: _counts("2026-08", 0, 0, 3)}
    report = leadership.report(
        period,
        _release(september, small, "2026-09", released=False),
        _release(august, small, "2026-08"),
        _release(september, REGION, "2026-09", released=False),
        0.9,
        datetime(2027, 1, 1, 6, tzinfo=UTC),
    )
    assert [c.released for c in report.columns] == [False, True, False]
    assert len(report.notes) == 4  # suppressed, withheld, not released, n/a
    document = printing.pdf(report)
    assert re.findall(rb"/Count (\d+)", document) == [b"1"], "one page"
    page = printing.html(report)
    assert page.count('<tr class="line') == sum(len(s.lines) for s in report.sections)
