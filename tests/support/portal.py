"""The portal as tests drive it over HTTP: its settings beside no services, and the
local sign-in as a person fills it in."""

from __future__ import annotations

import re

import httpx

from shared.settings import Settings
from tests.conftest import JWT_SECRET

NO_SERVICE = "http://127.0.0.1:9"  # discard: a call there fails at once


def portal_settings(tmp_path, database_url: str, **more) -> Settings:
    values = {
        "service": "portal",
        "database_url": database_url,
        "data_dir": tmp_path,
        "jwt_secret": JWT_SECRET,
        "host": "127.0.0.1",
        "portal_local_signin": True,
        "portal_secure_cookies": False,
        **{
            f"{s}_url": NO_SERVICE for s in ("incidents", "roster", "checkins", "notify", "metrics")
        },
    }
    return Settings(**(values | more))


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, "the page has no anti-forgery token"
    return found.group(1)


def sign_in(client: httpx.Client, agency: str, role: str, subject: str) -> httpx.Response:
    """The local sign-in, as a person would use it: the page, then its form."""
    page = client.get("/signin")
    form = {"csrf": csrf_of(page), "agency": agency, "role": role, "subject": subject}
    return client.post("/signin/local", data=form)
