"""When notifications cannot reach people, an operator is told: a warning at start,
`GET /v1/channels`, and `peerline notify test` sending a real message through a real
SMTP server to a supporter of the real roster."""

from __future__ import annotations

import asyncio
import logging

import httpx
from typer.testing import CliRunner

from peerline.cli import app as command
from shared.tokens import Role
from tests.conftest import JWT_SECRET, bearer
from tests.notify.scenario import add_supporter, notify_settings, running


async def _channels(app) -> dict:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notify") as client:
        answer = await client.get("/v1/channels", headers=bearer("OPS1", Role.OPS))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_no_channel_but_recipients_urls_is_said_at_start_and_on_asking(
    nats_url, database_url, tmp_path, roster, smtp, caplog
):
    bare = notify_settings(nats_url, database_url, tmp_path / "bare", roster.url)
    with caplog.at_level(logging.WARNING, logger="services.notify.delivery"):
        async with running(bare) as [app]:
            silent = await _channels(app)
    assert silent["warning"] and not (silent["email"] or silent["sms"] or silent["console"])
    assert any("no SMTP relay" in r.getMessage() for r in caplog.records)

    relayed = notify_settings(
        nats_url, database_url, tmp_path / "relayed", roster.url, smtp_url=smtp.url()
    )
    async with running(relayed) as [app]:
        assert await _channels(app) == {
            "email": True,
            "sms": False,
            "console": False,
            "warning": None,
        }


def test_notify_test_sends_one_message_and_names_no_address(roster, smtp, agency, monkeypatch):
    asyncio.run(add_supporter(roster, agency, "S-1", {"email": "dana@example.org"}))
    asyncio.run(add_supporter(roster, agency, "S-2", {"phone": "+15550100"}))  # no SMS here
    for name, value in {
        "PEERLINE_ROSTER_URL": roster.url,
        "PEERLINE_SMTP_URL": smtp.url(),
        "PEERLINE_JWT_SECRET": JWT_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    sent = runner.invoke(command, ["notify", "test", "--agency", agency, "--to", "S-1"])
    unreachable = runner.invoke(command, ["notify", "test", "--agency", agency, "--to", "S-2"])
    unknown = runner.invoke(command, ["notify", "test", "--agency", agency, "--to", "S-9"])

    assert (sent.exit_code, sent.output) == (0, "email: sent\n")
    [mail] = smtp.to("dana@example.org")
    assert "Peerline: test message" in mail.text
    assert "dana@example.org" not in sent.output
    assert unreachable.exit_code == 1 and "no channel" in unreachable.output
    assert unknown.exit_code == 2 and "no such supporter" in unknown.output
