"""Entry point: `python -m services.roster` or `peerline-roster`."""

from __future__ import annotations

from shared.crypto import FieldCipher
from shared.http_server import require, serve
from shared.settings import Settings


def main() -> None:
    settings = Settings(service="roster")
    # No usable field key, no start: the roster must never store contact details in clear.
    try:
        FieldCipher(settings.sealing_key())
    except (RuntimeError, ValueError) as exc:
        raise SystemExit(f"roster: {exc}") from None
    require(settings, settings.id_secret)  # assignment ids are derived under it
    serve(settings, "services.roster.app:create_app")
