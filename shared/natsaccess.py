"""How a process reaches NATS, from its settings, in one place: the user of
`peerline nats-config` where the servers ask for one, and TLS trusting the region's CA
where it is configured. The services hand it to FastStream (`security`), the
command's tools to nats-py (`connect_options`)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from faststream.nats import NatsSecurity, NatsUserPassword

from shared.settings import Settings


@dataclass(frozen=True)
class NatsAccess:
    user: str | None
    password: str | None
    tls: ssl.SSLContext | None

    def security(self) -> NatsSecurity | None:
        """For FastStream's broker."""
        if self.user:
            return NatsUserPassword(self.user, self.password or "", ssl_context=self.tls)
        return NatsSecurity(ssl_context=self.tls) if self.tls else None

    def connect_options(self) -> dict:
        """For `nats.connect`."""
        options: dict = {}
        if self.user:
            options |= {"user": self.user, "password": self.password or ""}
        if self.tls is not None:
            options["tls"] = self.tls
        return options


def nats_access(settings: Settings) -> NatsAccess:
    return NatsAccess(settings.nats_user, settings.nats_password, settings.nats_tls())
