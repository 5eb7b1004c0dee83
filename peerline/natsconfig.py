"""NATS accounts and users for a region, from its list of agencies.

`peerline nats-config AGENCIES.yaml --out DIR` writes:

- `DIR/accounts.conf`, for the region's NATS servers (`include accounts.conf`): one
  account, `PEERLINE`, with JetStream; a `peerline` user for the services, allowed
  everything; and one user per agency that may publish reports only to its own intake
  subject and read only its own intake results and its own reply inboxes
  (`_INBOX_<agency>.>`: the agency's client sets this inbox prefix). Passwords are
  stored as bcrypt hashes.
- `DIR/credentials/<user>.env` (mode 0600): each user's `NATS_USER` and `NATS_PASSWORD`,
  to hand to the agency or to the services. Kept across runs, so adding an agency does
  not change anyone else's password; delete a file to rotate that password.

The agency is bound to its credentials by the subject (decision 8): an agency cannot
report for another, nor forge the intake results Peerline publishes.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import bcrypt
import yaml

from shared.ids import AGENCY_ID_PATTERN

SERVICES_USER = "peerline"


def agency_permissions(agency: str) -> dict:
    return {
        "publish": {
            "allow": [f"ps.{agency}.intake.>"],
            # Published by Peerline only: an agency must not forge its own rejections.
            "deny": [f"ps.{agency}.intake.rejected"],
        },
        "subscribe": {
            "allow": [f"ps.{agency}.intake.rejected", f"_INBOX_{agency}.>"],
        },
    }


def read_agencies(path: Path) -> list[str]:
    """Agency ids from `agencies: [{id: ...}, ...]` (or plain ids), checked and unique."""
    document = yaml.safe_load(path.read_text()) or {}
    ids = [a["id"] if isinstance(a, dict) else a for a in document.get("agencies", [])]
    for agency in ids:
        if not isinstance(agency, str) or not AGENCY_ID_PATTERN.fullmatch(agency):
            raise ValueError(f"not an agency id: {agency!r}")
    if len(set(ids)) != len(ids):
        raise ValueError("an agency is listed twice")
    return ids


def _password(credentials: Path, user: str) -> str:
    """The user's password from its credentials file, or a new one written there."""
    path = credentials / f"{user}.env"
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("NATS_PASSWORD="):
                return line.split("=", 1)[1]
    password = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(f"NATS_USER={user}\nNATS_PASSWORD={password}\n")
    return password


def _user(name: str, password: str, permissions: dict | None = None) -> str:
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    fields = {"user": name, "password": hashed}
    if permissions:
        fields["permissions"] = permissions
    # NATS's configuration format reads JSON objects.
    return json.dumps(fields)


def write(agencies_file: Path, out: Path) -> list[str]:
    """Write accounts.conf and the credentials; return the users' names."""
    agencies = read_agencies(agencies_file)
    credentials = out / "credentials"
    credentials.mkdir(parents=True, exist_ok=True)
    users = [_user(SERVICES_USER, _password(credentials, SERVICES_USER))]
    for agency in agencies:
        users.append(_user(agency, _password(credentials, agency), agency_permissions(agency)))
    lines = "\n".join(f"      {user}" for user in users)
    (out / "accounts.conf").write_text(
        f"# Written by `peerline nats-config {agencies_file.name}`; edit the list, not this.\n"
        "accounts {\n"
        "  PEERLINE {\n"
        "    jetstream: enabled\n"
        "    users: [\n"
        f"{lines}\n"
        "    ]\n"
        "  }\n"
        "}\n"
    )
    return [SERVICES_USER, *agencies]
