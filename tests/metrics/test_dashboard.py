"""The dashboard in a real headless Chromium: the page (which holds no data) loads, its
script fetches the charts with the leader's token, and the SVG charts draw, suppressed
cells shown as such. A screenshot is left in the test's tmp dir."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from shared.tokens import Role
from tests.conftest import token
from tests.metrics.scenario import WINDOW, requests_counted
from tests.support.requires import unavailable

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _chromium_installed() -> None:
    if not Path(CHROMIUM).exists():
        unavailable("Debian's chromium is not installed (.ci/run installs it)")


def _chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-proxy-server",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            "--window-size=1280,2000",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_leader_opens_the_dashboard_and_sees_charts(metrics, agency, tmp_path):
    await requests_counted(metrics, agency)
    page = f"{metrics.url}/dashboard?{urlencode(WINDOW)}"
    signed_in = f"{page}#token={token(agency, Role.LEADERSHIP)}"
    dom = await asyncio.to_thread(_chromium, signed_in, tmp_path / "p1", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert 'data-loaded="yes"' in html
    assert html.count("<svg") == 12
    assert 'class="value"' in html  # bars drawn
    assert 'class="suppressed"' in html and ">suppressed<" in html
    assert "Critical incidents by category" in html
    assert "requests for a peer answered within the deadline (%)" in html
    assert "2026-01: 100%" in html  # every request answered in time, as a chief reads it

    shot = tmp_path / "dashboard.png"
    taken = await asyncio.to_thread(_chromium, signed_in, tmp_path / "p2", f"--screenshot={shot}")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.stat().st_size > 10_000


async def test_the_page_holds_no_data_and_the_charts_need_a_leader(metrics, agency, tmp_path):
    async with httpx.AsyncClient(base_url=metrics.url) as anonymous:
        bare = await anonymous.get("/dashboard")
        charts = await anonymous.get("/dashboard/charts")
    assert bare.status_code == 200 and "<svg" not in bare.text
    assert charts.status_code == 401
    dom = await asyncio.to_thread(
        _chromium, f"{metrics.url}/dashboard", tmp_path / "p", "--dump-dom"
    )
    assert "<svg" not in dom.stdout and 'id="signin"' in dom.stdout
