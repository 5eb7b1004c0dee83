"""The portal in a real browser (Debian's chromium, driven by Playwright) on the whole
stack as `peerline up` runs it, with a real SMTP relay catching the notifications: the
stack, the browser, and what every journey does with them (sign in as a newcomer would,
follow a link, check a page with axe-core at a phone's width, save a screenshot). The
fixtures that hold them are in tests/portal/conftest.py."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, Playwright

from peerline.natsd import free_port
from shared.tokens import issue_token
from shared.vocab import TrainingArea
from tests.support.mail import Mail, Mailbox
from tests.support.requires import unavailable
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}
ARTIFACTS = Path(os.environ.get("PEERLINE_TEST_ARTIFACTS", ROOT / ".peerline" / "test-artifacts"))


@dataclass
class Stack:
    """`peerline up` with a mail relay; tokens signed with its secret."""

    urls: dict[str, str]
    secret: str
    mailbox: Mailbox
    logs: Path

    @property
    def portal(self) -> str:
        return self.urls["portal"]

    def call(self, agency: str, role: str, method: str, service: str, path: str, **kw):
        token = issue_token(self.secret, agency=agency, role=role, sub=kw.pop("sub", None))
        answer = httpx.request(
            method,
            self.urls[service] + path,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            **kw,
        )
        assert answer.is_success, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def mail_to(self, address: str, count: int = 1, timeout: float = 60) -> list[Mail]:
        """The mails `address` got, once there are at least `count` of them."""
        return wait_until(
            lambda: len(self.mailbox.to(address)) >= count and self.mailbox.to(address),
            timeout,
            f"{count} mail(s) to {address}",
        )


@contextlib.contextmanager
def running_stack(workdir: Path) -> Iterator[Stack]:
    """`peerline up` in `workdir` on free ports, its notify sending to a relay here;
    stopped with Ctrl-C as a person would."""
    mailbox = Mailbox("127.0.0.1", free_port())
    relay = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    relay.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLINE_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "PEERLINE_SMTP_URL": mailbox.url(),
        # Another worker's stack may be starting at the same moment.
        "PEERLINE_STACK_PORTS": "any",
    }
    with open(workdir / "up.log", "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "peerline", "up"],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    stack_file = workdir / ".peerline" / "stack.json"
    try:
        wait_until(lambda: stack_file.exists() or proc.poll() is not None, 90, "stack.json")
        assert proc.poll() is None, (workdir / "up.log").read_text()
        urls = json.loads(stack_file.read_text())["services"]
        wait_until(lambda: _ready(urls), 60, "every service ready")
        secret = (workdir / ".peerline" / "jwt-secret").read_text().strip()
        yield Stack(urls, secret, mailbox, workdir / ".peerline" / "logs")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        relay.stop()


def _ready(urls: dict[str, str]) -> bool:
    try:
        return all(httpx.get(f"{u}/readyz", timeout=2).status_code == 200 for u in urls.values())
    except httpx.HTTPError:
        return False


def launch_chromium(playwright: Playwright) -> Browser:
    if not Path(CHROMIUM).exists():
        unavailable("Debian's chromium is not installed (.ci/run installs it)")
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-proxy-server",
        ],
    )


def phone_page(browser: Browser) -> Page:
    """A new page in a context of its own (its own cookies) the size of a phone."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    return context.new_page()


def accessible(page: Page) -> None:
    """No serious or critical axe-core violation, and nothing wider than the phone."""
    result = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: {bad}"
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > 360).map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert width <= PHONE["width"], f"{page.url} is {width}px wide: {wide}"


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"portal-{name}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 5_000
    return path


def sign_in(page: Page, portal: str, agency: str, role: str, subject: str) -> None:
    """The local sign-in form, as a newcomer fills it in."""
    if "/signin" not in page.url:
        page.goto(f"{portal}/signin")
    page.get_by_label("Agency id").fill(agency)
    page.get_by_label("Role").select_option(role)
    page.get_by_label("Id (an officer's personnel id, a supporter's id)").fill(subject)
    follow(page, page.get_by_role("button", name="Sign in", exact=True))


def follow(page: Page, target: Locator) -> None:
    """Click a link or a form's button, and wait for the page it leads to."""
    with page.expect_navigation():
        target.click()


def links_in(mails: list[Mail], page: str) -> set[str]:
    """The portal links to `page` (a path, such as `/assignments/`) the mails carry."""
    pattern = rf"http://\S+{re.escape(page)}[0-9a-f-]*"
    return {link for mail in mails for link in re.findall(pattern, mail.text)}


def new_agency() -> str:
    return "T" + uuid.uuid4().hex[:12].upper()


def on_call_now() -> list[dict]:
    now = datetime.now(UTC)
    return [
        {
            "start": (now - timedelta(hours=1)).isoformat(),
            "end": (now + timedelta(hours=6)).isoformat(),
        }
    ]


def put_supporter(stack: Stack, agency: str, supporter_id: str, name: str, **more) -> None:
    """A supporter with every training current, reachable by email at
    `<supporter_id>@pso.example` (lower case)."""
    body = {
        "agency_id": agency,
        "personnel_id": f"P-{supporter_id}",
        "display_name": name,
        "contact": {"email": f"{supporter_id.lower()}@pso.example", "phone": "+1 555 0100 200"},
        "rank": "Sergeant",
        "gender": "female",
        "languages": ["en"],
        "specialties": ["officer_involved_shooting"],
        "certified_until": (datetime.now(UTC) + timedelta(days=365)).date().isoformat(),
        "active": True,
        "availability": {"timezone": "UTC", "weekly": [], "on_call": [], "leave": []},
        **more,
    }
    stack.call(agency, "coordinator", "PUT", "roster", f"/v1/supporters/{supporter_id}", json=body)
    today = datetime.now(UTC).date()
    record = {
        "completed_on": today.isoformat(),
        "expires_on": (today + timedelta(days=700)).isoformat(),
    }
    for area in TrainingArea:
        stack.call(
            agency,
            "coordinator",
            "PUT",
            "roster",
            f"/v1/supporters/{supporter_id}/training/{area}",
            json=record,
        )
