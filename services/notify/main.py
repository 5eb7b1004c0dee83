"""Entry point: `python -m services.notify` or `peerline-notify`."""

from __future__ import annotations

from shared.http_server import require, serve
from shared.settings import Settings


def main() -> None:
    settings = Settings(service="notify")
    # No signing secret, no start: every roster look-up needs a service token.
    require(settings, settings.signing_secret)
    require(settings, settings.id_secret)  # notification ids are derived under it
    serve(settings, "services.notify.app:create_app")
