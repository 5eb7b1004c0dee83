"""Where a notification URL from a person's record may point (decision 65).

A coordinator types a supporter's notification URL; notify then sends to it from inside
the region's network. Left open, that is a way to make Peerline call its own databases,
its NATS monitoring or a cloud metadata address. So a record's URL must be one of two
kinds:

- a service apprise reaches at its own public address (Slack, Teams, Telegram, the SMS
  gateways): the URL chooses no host;
- a webhook (`json://`, `xml://`, `form://`, with `s` for TLS) or mail (`mailto://`,
  `mailtos://`) whose host, and `smtp=` server, must be on the public internet: not
  loopback, private, link-local, shared, reserved or multicast, unless it falls in a
  network the region allows (`PEERLINE_NOTIFY_ALLOWED_NETWORKS`).

The roster checks a URL when it is written, notify again before each send with the
addresses the name resolves to then (DNS can change), and notify follows no redirect.
The operator's own relays (`PEERLINE_SMTP_URL`, `PEERLINE_SMS_URL`) are configuration,
not records, and are not held to this.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAIL_SCHEMES = frozenset({"mailto", "mailtos"})
WEBHOOK_SCHEMES = frozenset({"json", "jsons", "xml", "xmls", "form", "forms"})
HOSTED = MAIL_SCHEMES | WEBHOOK_SCHEMES  # the URL chooses the host: it is checked
# SMS gateways at an address of their own (self-hosted ones, like SMSEagle, are not).
SMS_GATEWAYS = frozenset(
    {
        "bulksms",
        "bulkvs",
        "clickatell",
        "clicksend",
        "d7sms",
        "httpsms",
        "msg91",
        "msgbird",
        "nexmo",
        "plivo",
        "seven",
        "sinch",
        "sns",
        "telnyx",
        "twilio",
        "vonage",
    }
)
# Services at an address of their own, which the URL carries only tokens for.
SERVICES = SMS_GATEWAYS | {"slack", "msteams", "discord", "tgram", "pover", "pbul"}


class Refused(ValueError):
    """The URL may not be sent to; the message says why without echoing it."""


def networks(text: str | None) -> tuple[IpNetwork, ...]:
    """Networks from a comma-separated list of CIDRs (`10.20.0.0/16, fd00::/8`)."""
    return tuple(ipaddress.ip_network(n.strip()) for n in (text or "").split(",") if n.strip())


async def check(url: str, allowed: Iterable[IpNetwork] = (), *, resolve: bool = True) -> None:
    """Raise `Refused` unless `url` may be sent to. With `resolve`, a host name is
    looked up and every address it has must pass; a name that does not resolve passes
    (there is nothing to reach, and the send itself will fail)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in SERVICES:
        return
    if scheme not in HOSTED:
        raise Refused("only webhooks, mail and known chat and SMS services may be used")
    allowed = tuple(allowed)
    for host in _hosts(parts.hostname, parts.query):
        for address in await _addresses(host, resolve):
            if not _public(address) and not any(address in net for net in allowed):
                raise Refused("it reaches a private, loopback or link-local address")


def _hosts(host: str | None, query: str) -> list[str]:
    smtp = parse_qs(query).get("smtp", [])
    hosts = [h for h in (host, *smtp) if h]
    if not hosts:
        raise Refused("it names no host")
    return [h.split(":")[0] if h.count(":") == 1 else h.strip("[]") for h in hosts]


async def _addresses(host: str, resolve: bool) -> list[IpAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return [ipaddress.ip_address("127.0.0.1")]
    if not resolve:
        return []
    try:
        found = await asyncio.get_running_loop().getaddrinfo(name, None)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]


def _public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast
