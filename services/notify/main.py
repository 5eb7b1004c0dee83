"""Entry point: `python -m services.notify` or `peerline-notify`."""

from __future__ import annotations

from shared.http_server import serve
from shared.settings import Settings


def main() -> None:
    settings = Settings(service="notify")
    # No signing secret, no start: every roster look-up needs a service token.
    try:
        settings.signing_secret()
    except RuntimeError as exc:
        raise SystemExit(f"notify: {exc}") from None
    serve(settings, "services.notify.app:create_app")
