"""Configuration from `PEERLINE_*` environment variables.

One settings class serves every service: each process reads only what it uses, and a
service's own defaults (port, database file) come from its name, so `peerline up` and a
container need to set no more than the URLs that differ.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORTS = {
    "portal": 8080,
    "incidents": 8081,
    "roster": 8082,
    "checkins": 8083,
    "notify": 8084,
    "metrics": 8085,
}

MAX_BODY_BYTES = 1 << 20
"""1 MiB. The largest real request is a 500-officer incident report with 128-character
personnel ids: about 87 KB as compact JSON, 98 KB indented (measured in
`tests/shared/test_http_guard.py`). 1 MiB is over ten times that, and still holds the 2,000
officers the intake model accepts (about 350 KB, 600 KB if every id character needs a
JSON escape), so no valid report is refused, while a caller can make a service hold at
most 1 MiB per request."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PEERLINE_", extra="ignore")

    service: str = "incidents"
    nats_url: str = "nats://127.0.0.1:4222"
    # The NATS user, from a credentials file of `peerline nats-config` (NATS_USER and
    # NATS_PASSWORD, the names the nats CLI reads too), or the one `peerline up` gives the
    # service. Unset: no client authentication.
    nats_user: str | None = Field(
        default=None, validation_alias=AliasChoices("PEERLINE_NATS_USER", "NATS_USER")
    )
    nats_password: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PEERLINE_NATS_PASSWORD", "NATS_PASSWORD"),
        repr=False,
    )
    nats_ca_file: Path | None = Field(
        default=None,
        description="The CA that signed the NATS servers' certificates (a region's own); "
        "used when a server asks for TLS. Unset: the system's CAs.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; a SQLite file under data_dir when unset.",
    )
    data_dir: Path = Path(".peerline")
    host: str = "127.0.0.1"
    port: int | None = None

    jwt_secret: str | None = Field(default=None, description="HS256 signing secret.")
    jwt_jwks_url: str | None = Field(
        default=None, description="JWKS URL for RS256/EdDSA tokens (production)."
    )
    jwt_issuer: str = "peerline"
    jwt_audience: str = "peerline"

    field_key: str | None = Field(
        default=None,
        description="Key that seals personal fields at rest (`shared.crypto`): 32 random "
        "bytes, URL-safe base64. Unset: the one `peerline up` wrote to data_dir.",
    )

    pseudonym_key: str | None = Field(
        default=None,
        description="Key of the officer pseudonyms (`officer_ref`, an HMAC): any long random "
        "string, the same for every replica, kept for as long as periods are compared. "
        "Unset: the one `peerline up` wrote to data_dir.",
    )
    id_key: str | None = Field(
        default=None,
        description="Key of the ids derived from what a report names (incident, assignment, "
        "event ids: HMACs, decision 66): any long random string, the same for every "
        "service and replica, never changed while records are kept. Unset: the one "
        "`peerline up` wrote to data_dir.",
    )
    care_retention_days: int = Field(
        default=90,
        ge=1,
        description="Days after the last activity of a finished care episode before its "
        "identifiable records are purged (rule 8).",
    )

    # Where services and the people they notify find each other.
    roster_url: str = Field(
        default="http://127.0.0.1:8082",
        description="The roster's base URL: notify looks recipients' contact details up there.",
    )
    roster_match_within_days: int = Field(
        default=30,
        ge=1,
        description="Days after an incident within which the roster still matches its "
        "officers with peers; an older report (a CAD's history) is counted, not matched.",
    )
    portal_url: str = Field(
        default="http://127.0.0.1:8080",
        description="The portal's base URL, for links in notifications.",
    )

    incidents_url: str = Field(
        default="http://127.0.0.1:8081", description="The incidents service's base URL."
    )
    checkins_url: str = Field(
        default="http://127.0.0.1:8083", description="The check-ins service's base URL."
    )
    notify_url: str = Field(
        default="http://127.0.0.1:8084", description="The notify service's base URL."
    )
    metrics_url: str = Field(
        default="http://127.0.0.1:8085", description="The metrics service's base URL."
    )

    # The portal (`services.portal`, docs/portal.md).
    oidc_issuer: str | None = Field(
        default=None,
        description="The identity provider's issuer URL; its discovery document is read "
        "from `<issuer>/.well-known/openid-configuration`. Unset: no OpenID Connect sign-in.",
    )
    oidc_client_id: str | None = Field(default=None, description="The portal's client id.")
    oidc_client_secret: str | None = Field(
        default=None, repr=False, description="The portal's client secret, if it has one."
    )
    oidc_scopes: str = Field(default="openid profile email", description="Scopes asked for.")
    oidc_agency_claim: str = Field(
        default="agency", description="The claim that holds the person's agency id."
    )
    oidc_role_claim: str = Field(
        default="role", description="The claim that holds the person's Peerline role."
    )
    oidc_subject_claim: str = Field(
        default="sub",
        description="The claim that holds the person's Peerline id: a supporter's "
        "supporter_id, an officer's personnel_id.",
    )
    oidc_name_claim: str = Field(default="name", description="The claim with a name to show.")
    portal_local_signin: bool = Field(
        default=False,
        description="Offer the local sign-in (pick a person, no password): `peerline up` "
        "sets it. Refused unless the portal listens on a loopback address.",
    )
    portal_session_idle_minutes: int = Field(
        default=30, ge=1, le=720, description="Minutes of inactivity that end a session."
    )
    portal_secure_cookies: bool = Field(
        default=True,
        description="Mark the session cookie Secure (HTTPS only). `peerline up`, on plain "
        "HTTP over loopback, turns it off.",
    )
    crisis_lines: str = Field(
        default="",
        description="Crisis lines every portal page offers beside 988, as "
        "`Name=number;Name=number`.",
    )

    # Notifications (`services.notify`, docs/notify.md).
    smtp_url: str | None = Field(
        default=None,
        description="The SMTP relay as an apprise URL with the sender, e.g. "
        "`mailtos://user:pass@relay.example.org:587?from=peerline@example.org`; unset: no "
        "email by address.",
    )
    sms_url: str | None = Field(
        default=None,
        description="An SMS gateway as an apprise URL with a `{phone}` placeholder for the "
        "recipient's number, e.g. `twilio://SID:Token@+15551234567/{phone}`; unset: no SMS.",
    )
    notify_allowed_networks: str | None = Field(
        default=None,
        description="Comma-separated CIDRs that notification URLs in people's records may "
        "reach although private (e.g. `10.20.0.0/16`); unset: public addresses only "
        "(decision 65). The SMTP and SMS relays above are not held to this.",
    )
    notify_console: bool = Field(
        default=False,
        description="Deliver to the notify service's log (reference and kind only) when no "
        "other channel is left: the local stack's channel.",
    )
    notify_attempts_per_channel: int = Field(
        default=4, ge=1, description="Tries of one channel before the next one is used."
    )
    notify_retry_base: float = Field(
        default=10.0, gt=0, description="Seconds before the first retry; doubling after."
    )
    notify_retry_max: float = Field(default=600.0, gt=0, description="Longest retry delay.")
    notify_rate_limit: int = Field(
        default=10, ge=1, description="Messages a recipient gets per `notify_rate_window`."
    )
    notify_rate_window: float = Field(default=3600.0, gt=0, description="Seconds.")
    notify_directory_ttl: float = Field(
        default=60.0, ge=0, description="Seconds a recipient's looked-up details are reused."
    )
    notify_poll_interval: float = Field(
        default=1.0, gt=0, description="Seconds between looks for deliveries that are due."
    )

    # Metrics (`services.metrics`, docs/metrics.md).
    metrics_min_cell: int = Field(
        default=5,
        ge=1,
        description="Smallest count a published metric cell may show; 1 to this minus one "
        "is suppressed, with complementary cells (rule 2).",
    )
    metrics_min_agency_officers: int = Field(
        default=20,
        ge=0,
        description="Officers involved in incidents of a month below which an agency's own "
        "figures of that month are withheld: it appears only in the regional rollup.",
    )
    metrics_release_after_hours: float = Field(
        default=6.0,
        ge=0,
        description="Hours after a month ends before its figures are released and frozen "
        "(events still on their way arrive meanwhile; later ones count in the next month).",
    )
    metrics_close_after_days: int = Field(
        default=45,
        ge=1,
        description="Days after a quarter ends before its distinct-officer counts are "
        "frozen and the officer pseudonyms behind them dropped.",
    )
    metrics_dp_epsilon: float = Field(
        default=1.0, gt=0, description="Privacy loss of one differentially private release."
    )
    metrics_dp_budget: float = Field(
        default=3.0,
        gt=0,
        description="Total privacy loss allowed per period across DP releases; a release "
        "that would exceed it is refused.",
    )
    metrics_goal_within_72h: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="The program's goal for the share of officers offered support who are "
        "reached within 72 hours of the incident; the leadership report sets the share "
        "beside it.",
    )

    publish_timeout: float = 5.0
    max_deliver: int = 5
    stream_replicas: int = 1
    figures_interval: float = Field(
        default=15.0,
        gt=0,
        description="Seconds between two readings of the figures `/metrics` shows from the "
        "database and the bus (consumer lag, outbox, dead letters, timers; `shared.figures`).",
    )

    # Hostile HTTP load: `shared.http_guard` (bodies) and `shared.http_server` (heads,
    # idle connections).
    max_body_bytes: int = Field(
        default=MAX_BODY_BYTES, gt=0, description="Largest request body; 413 above it."
    )
    body_timeout: float = Field(
        default=15.0,
        gt=0,
        description="Seconds to receive a whole request body; 408 after. A 1 MiB body "
        "needs 70 KB/s, the largest real report 6 KB/s.",
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds from a connection's opening, or a request's first byte, to "
        "the end of its head; the connection is cut off after.",
    )
    max_header_bytes: int = Field(
        default=32_768,
        gt=0,
        description="Largest request head (request line and headers); 431 above it. A "
        "bearer token is 1-2 KB.",
    )
    keep_alive_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds an idle keep-alive connection is held open after a response.",
    )
    workers: int = Field(
        default=1,
        ge=1,
        description="HTTP worker processes of this service (replicas on one machine, "
        "sharing its database and durable consumers): a process uses one core.",
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service}.db').resolve()}"

    def resolved_port(self) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[self.service]

    def nats_servers(self) -> list[str]:
        """`nats_url` as a list: several servers (a cluster) are separated by commas, and
        any of them will do for the first connection."""
        return [url.strip() for url in self.nats_url.split(",")]

    @field_validator("nats_ca_file", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        """Compose passes an empty value for "no CA" (`${NATS_CA_FILE:-}`)."""
        return value or None

    def nats_tls(self) -> ssl.SSLContext | None:
        """The TLS context toward NATS when a CA is configured. Clients upgrade only when
        the server asks, so the same setting serves a server without TLS."""
        if self.nats_ca_file is None:
            return None
        return ssl.create_default_context(cafile=self.nats_ca_file)

    def signing_secret(self) -> str:
        """The HS256 secret: from the environment, else the one `peerline up` wrote."""
        return self._set_or_written(self.jwt_secret, "jwt-secret", "token secret", "JWT_SECRET")

    def sealing_key(self) -> str:
        """The field key: from the environment, else the one `peerline up` wrote."""
        return self._set_or_written(self.field_key, "field-key", "field key", "FIELD_KEY")

    def pseudonym_secret(self) -> str:
        """The officer pseudonym key: from the environment, else the one `peerline up`
        wrote."""
        return self._set_or_written(
            self.pseudonym_key, "pseudonym-key", "pseudonym key", "PSEUDONYM_KEY"
        )

    def id_secret(self) -> str:
        """The key of derived ids: from the environment, else the one `peerline up`
        wrote."""
        return self._set_or_written(self.id_key, "id-key", "id key", "ID_KEY")

    def _set_or_written(self, value: str | None, file_name: str, what: str, env: str) -> str:
        if value:
            return value
        written = self.data_dir / file_name
        if written.exists():
            return written.read_text().strip()
        raise RuntimeError(
            f"No {what}: set PEERLINE_{env} or run `peerline up` once to create {written}"
        )
