"""Where a notification URL from a record may point (decision 65): the rule alone."""

from __future__ import annotations

import asyncio
import socket

import pytest

from shared import outbound

pytestmark = pytest.mark.unit

INSIDE = [
    "json://127.0.0.1:8080/hook",
    "jsons://localhost/hook",
    "json://api.localhost/hook",
    "xml://10.1.2.3/hook",
    "form://192.168.0.10/hook",
    "json://172.16.5.5/hook",
    "json://169.254.169.254/latest/meta-data",  # a cloud's metadata address
    "json://100.64.0.1/hook",  # shared address space
    "json://0.0.0.0:4222/",
    "json://[::1]/hook",
    "json://[fe80::1]/hook",
    "json://[fd00::5]/hook",
    "json://[::ffff:127.0.0.1]/hook",
    "json://224.0.0.1/hook",
    "mailto://user:pw@example.org?smtp=10.0.0.25",
    "mailtos://user:pw@127.0.0.1:587",
]
OTHER_KINDS = ["gotify://10.0.0.2/token", "apprise://internal/", "https://example.org/"]
PUBLIC = [
    "json://hooks.example.org/x",  # not resolved here: nothing to reach
    "jsons://93.184.216.34/hook",
    "json://[2606:4700:4700::1111]/hook",
    "mailto://user:pw@gmail.com",
    "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7F",
    "tgram://123456:ABCdef/987654",
    "twilio://SID:Token@+15551234567/+15557654321",
]


@pytest.mark.parametrize("url", INSIDE)
async def test_an_address_inside_the_network_is_refused(url):
    with pytest.raises(outbound.Refused, match="private, loopback or link-local"):
        await outbound.check(url, resolve=False)


@pytest.mark.parametrize("url", OTHER_KINDS)
async def test_a_kind_that_chooses_its_own_host_is_refused(url):
    with pytest.raises(outbound.Refused, match="only webhooks, mail"):
        await outbound.check(url, resolve=False)


@pytest.mark.parametrize("url", PUBLIC)
async def test_a_public_address_or_a_known_service_passes(url):
    await outbound.check(url, resolve=False)


async def test_an_allowed_network_passes_and_only_it():
    allowed = outbound.networks("10.20.0.0/16, fd00::/8")
    await outbound.check("json://10.20.3.4/hook", allowed, resolve=False)
    await outbound.check("json://[fd00::5]/hook", allowed, resolve=False)
    with pytest.raises(outbound.Refused):
        await outbound.check("json://10.21.0.1/hook", allowed, resolve=False)


async def test_a_name_is_judged_by_every_address_it_resolves_to(monkeypatch):
    """One private address among public ones is enough to refuse a name (a record's
    host could be made to resolve inside the network)."""

    async def resolved(host, port, **_):
        addresses = {"mixed.example.org": ["93.184.216.34", "10.0.0.7"]}.get(host)
        if addresses is None:
            raise socket.gaierror("unknown")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0)) for a in addresses]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolved)
    with pytest.raises(outbound.Refused):
        await outbound.check("json://mixed.example.org/hook")
    with pytest.raises(outbound.Refused):
        await outbound.check("json://localhost./hook")  # a name for loopback
    await outbound.check("json://no-such-host.example.org/hook")  # nothing to reach


async def test_a_refusal_does_not_echo_the_url():
    with pytest.raises(outbound.Refused) as refused:
        await outbound.check("json://127.0.0.1/secret-token-xyz", resolve=False)
    assert "secret-token-xyz" not in str(refused.value)
