"""Entry point: `python -m services.incidents` or `peerline-incidents`."""

from __future__ import annotations

from shared.http_server import require, serve
from shared.settings import Settings


def main() -> None:
    settings = Settings(service="incidents")
    # No id key, no start: every incident id is derived under it (decision 66).
    require(settings, settings.id_secret)
    serve(settings, "services.incidents.app:create_app")
