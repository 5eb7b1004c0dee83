"""How the command's tools (`events tail`, `dlq`) connect to a region's NATS.

As the services do (`shared.natsaccess`): the user from `NATS_USER` and `NATS_PASSWORD`,
the names of a credentials file of `peerline nats-config` (and of the nats CLI), so an
operator runs `set -a; . deploy/nats/auth/credentials/peerline.env; set +a` once and
every tool works; TLS trusting `PEERLINE_NATS_CA_FILE` where the servers ask for TLS. A
URL with `user:password@` works as well; messages show it without them.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import nats
from nats.aio.client import Client

from shared.natsaccess import nats_access
from shared.settings import Settings


async def connect(nats_url: str, **options) -> Client:
    settings = Settings(nats_url=nats_url)
    return await nats.connect(
        settings.nats_servers(), **(nats_access(settings).connect_options() | options)
    )


def shown(nats_url: str) -> str:
    """The URL(s) for a message: any `user:password@` left out."""
    return ",".join(_without_user(url.strip()) for url in nats_url.split(","))


def _without_user(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
