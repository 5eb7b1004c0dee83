"""Entry point: `python -m services.portal` or `peerline-portal`."""

from __future__ import annotations

from shared.http_server import require, serve
from shared.settings import Settings


def main() -> None:
    settings = Settings(service="portal")
    # Every call the portal makes carries a token it signs for the signed-in person.
    require(settings, settings.signing_secret)
    serve(settings, "services.portal.app:create_app")
