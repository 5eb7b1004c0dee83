"""A real SMTP relay's mailbox (aiosmtpd): what notify delivered by email, and the
`smtp` fixture serving one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from peerline.natsd import free_port


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def text(self) -> str:
        """Every part of the message decoded, headers included."""
        message = message_from_bytes(self.raw, policy=policy.default)
        parts = [str(value) for value in message.values()]
        parts += [part.get_content() for part in message.walk() if not part.is_multipart()]
        return "\n".join(parts)


@dataclass
class Mailbox:
    """What the SMTP relay received."""

    host: str
    port: int
    mails: list[Mail] = field(default_factory=list)

    def url(self) -> str:
        """The relay as notify's `smtp_url`."""
        return f"mailto://{self.host}:{self.port}?from=peerline@example.org"

    def to(self, address: str) -> list[Mail]:
        return [mail for mail in self.mails if address in mail.recipients]

    async def handle_DATA(self, server, session, envelope) -> str:
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free port, keeping what it receives."""
    mailbox = Mailbox("127.0.0.1", free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()
