"""NATS accounts and users for a region, from its list of agencies.

`peerline nats-config AGENCIES.yaml --out DIR` writes:

- `DIR/accounts.conf`, which the region's NATS servers include: one account,
  `PEERLINE`, with JetStream; a user for the operators' tools (`peerline`), allowed
  everything; a user per service, allowed to publish only the subjects it owns and to
  read only its own durables (`shared.bus_permissions`, decision 67); and users per
  agency that may publish reports only to its own intake subject and read only its own
  intake's rejections, its own incidents' events (live, or through one durable named by
  its id; decision 68) and its own reply inboxes (`_INBOX_<agency>.>`: the agency's
  client sets this inbox prefix). Passwords are stored as bcrypt hashes.
- `DIR/credentials/<id>.env` (mode 0600) for the operators (`peerline`), each service
  (`incidents`, `roster`, ...) and each agency: `NATS_USER` and `NATS_PASSWORD`, to hand
  to the agency or to the service. Kept across runs, so adding an agency changes nobody
  else's password.

Rotation without downtime (decision 52): `--rotate ID` moves the current credentials
to `DIR/credentials/<id>.previous.env` and writes new ones under the next user name
(`<id>.<n>`), so that both are valid once the servers reload; `--retire ID` then drops
the previous ones, and the next reload disconnects whoever still uses them.

The agency is bound to its credentials by the subject (decision 8): an agency cannot
report for another, nor forge the intake results Peerline publishes.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml

from shared.bus_permissions import USERS
from shared.ids import AGENCY_ID_PATTERN
from shared.streams import EVENTS
from shared.subjects import subject

OPERATORS = "peerline"  # the operators' tools: dlq, events tail


@dataclass(frozen=True)
class Credential:
    user: str
    password: str

    @property
    def generation(self) -> int:
        return int(self.user.rsplit(".", 1)[1])


def agency_permissions(agency: str) -> dict:
    """An agency reports its own incidents and follows what became of them: its intake's
    rejections and its incidents' events, live or through one durable of its own named
    by its id; never a care event (decision 68)."""
    incidents = subject(agency, "incident", "*")
    own = f"{EVENTS.name}.{agency}"
    return {
        "publish": {
            "allow": [
                subject(agency, "intake", ">"),
                f"$JS.API.CONSUMER.CREATE.{own}.{incidents}",
                f"$JS.API.CONSUMER.INFO.{own}",
                f"$JS.API.CONSUMER.MSG.NEXT.{own}",
                f"$JS.ACK.{own}.>",
            ],
            # Published by Peerline only: an agency must not forge its own rejections.
            "deny": [subject(agency, "intake", "rejected")],
        },
        "subscribe": {
            "allow": [subject(agency, "intake", "rejected"), incidents, f"_INBOX_{agency}.>"],
        },
    }


def read_agencies(path: Path) -> list[str]:
    """Agency ids from `agencies: [{id: ...}, ...]` (or plain ids), checked and unique."""
    document = yaml.safe_load(path.read_text()) or {}
    ids = [a["id"] if isinstance(a, dict) else a for a in document.get("agencies", [])]
    for agency in ids:
        if not isinstance(agency, str) or not AGENCY_ID_PATTERN.fullmatch(agency):
            raise ValueError(f"not an agency id: {agency!r}")
        if agency in (OPERATORS, *USERS):
            raise ValueError(f"an agency may not be named as a service's user: {agency!r}")
    if len(set(ids)) != len(ids):
        raise ValueError("an agency is listed twice")
    return ids


def read_credential(out: Path, identity: str) -> tuple[str, str]:
    """(user, password) of `identity` from the credentials `write_users` wrote to `out`."""
    credential = _read(out / "credentials" / f"{identity}.env")
    if credential is None:
        raise FileNotFoundError(f"no credentials for {identity} in {out}")
    return credential.user, credential.password


def _read(path: Path) -> Credential | None:
    if not path.exists():
        return None
    values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return Credential(values["NATS_USER"], values["NATS_PASSWORD"])


def _write(path: Path, credential: Credential) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(f"NATS_USER={credential.user}\nNATS_PASSWORD={credential.password}\n")


def _new(identity: str, generation: int) -> Credential:
    return Credential(f"{identity}.{generation}", secrets.token_urlsafe(24))


class Credentials:
    """The credentials directory: each identity's current file and, during a
    rotation, its previous one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def current_path(self, identity: str) -> Path:
        return self.directory / f"{identity}.env"

    def previous_path(self, identity: str) -> Path:
        return self.directory / f"{identity}.previous.env"

    def valid(self, identity: str) -> list[Credential]:
        """The identity's credentials the servers accept: the current one (made the
        first time), and the previous one while a rotation is under way."""
        current = _read(self.current_path(identity))
        if current is None:
            current = _new(identity, 1)
            _write(self.current_path(identity), current)
        previous = _read(self.previous_path(identity))
        return [current] if previous is None else [previous, current]

    def rotating(self, identity: str) -> bool:
        return self.previous_path(identity).exists()

    def rotate(self, identity: str) -> None:
        current = self.valid(identity)[-1]
        self.current_path(identity).rename(self.previous_path(identity))
        _write(self.current_path(identity), _new(identity, current.generation + 1))

    def retire(self, identity: str) -> None:
        self.previous_path(identity).unlink()


def _user(credential: Credential, permissions: dict | None = None) -> str:
    # The passwords are 192 random bits: the hash keeps a leaked accounts.conf from
    # giving them away, and no cost could make them guessable, so the cost is low and a
    # connection's authentication stays cheap for the server (a reconnecting region).
    hashed = bcrypt.hashpw(credential.password.encode(), bcrypt.gensalt(rounds=6)).decode()
    fields = {"user": credential.user, "password": hashed}
    if permissions:
        fields["permissions"] = permissions
    # NATS's configuration format reads JSON objects.
    return json.dumps(fields)


def write(
    agencies_file: Path,
    out: Path,
    *,
    rotate: tuple[str, ...] = (),
    retire: tuple[str, ...] = (),
) -> list[str]:
    """Write accounts.conf and the credentials, rotating or retiring as asked; return
    the users the servers will accept."""
    return write_users(
        read_agencies(agencies_file), out, rotate=rotate, retire=retire, by=agencies_file.name
    )


def write_users(
    agencies: list[str],
    out: Path,
    *,
    rotate: tuple[str, ...] = (),
    retire: tuple[str, ...] = (),
    by: str = "",
) -> list[str]:
    """accounts.conf and the credentials for the operators' tools (`peerline`), each
    service (its permissions from `shared.bus_permissions`) and each of `agencies`."""
    identities = [OPERATORS, *USERS, *agencies]
    for identity in (*rotate, *retire):
        if identity not in identities:
            raise ValueError(f"not a service or in {by or 'the list'}: {identity!r}")
        if identity in rotate and identity in retire:
            raise ValueError(f"rotate {identity}, reload the servers, then retire: two runs")
    credentials = Credentials(out / "credentials")
    # Every request checked before any file changes.
    for identity in rotate:
        if credentials.rotating(identity):
            raise ValueError(f"{identity} is being rotated already: --retire {identity} first")
    for identity in retire:
        if not credentials.rotating(identity):
            raise ValueError(f"{identity} has no previous credentials to retire")
    for identity in rotate:
        credentials.rotate(identity)
    for identity in retire:
        credentials.retire(identity)
    users = [_user(c) for c in credentials.valid(OPERATORS)]
    for service, user in USERS.items():
        users += [_user(c, user.permissions()) for c in credentials.valid(service)]
    for agency in agencies:
        users += [_user(c, agency_permissions(agency)) for c in credentials.valid(agency)]
    lines = "\n".join(f"      {user}" for user in users)
    # Rewritten in place (same file), so a server's bind-mounted copy sees the change.
    (out / "accounts.conf").write_text(
        f"# Written by `peerline nats-config {by}`; edit the list, not this.\n"
        "accounts {\n"
        "  PEERLINE {\n"
        "    jetstream: enabled\n"
        "    users: [\n"
        f"{lines}\n"
        "    ]\n"
        "  }\n"
        "}\n"
    )
    return [json.loads(user)["user"] for user in users]
