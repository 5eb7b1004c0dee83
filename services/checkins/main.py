"""Entry point: `python -m services.checkins` or `peerline-checkins`."""

from __future__ import annotations

from shared.http_server import require, serve
from shared.settings import Settings


def main() -> None:
    settings = Settings(service="checkins")
    # No pseudonym key, no start: contacts must never go out with an unkeyed officer ref.
    require(settings, settings.pseudonym_secret)
    require(settings, settings.id_secret)  # check-in ids are derived under it
    serve(settings, "services.checkins.app:create_app")
