"""The `peerline` command line.

Each group of commands is its own Typer sub-application (`events`, `dlq`, `schema`), so
a new group is one `add_typer` line here. Commands stay thin: they turn options into
calls on the modules beside this one and exit codes into messages.
A command imports its module when it runs, so `--help` and `token` do not pay for the
NATS client, Rich and every event model.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from peerline import stackfile
from peerline.durations import parse_duration
from shared.settings import Settings
from shared.tokens import Role, issue_token

app = typer.Typer(
    help="Peerline for developers and operators: local stack, tokens, the event bus, contract.",
    no_args_is_help=True,
)
events = typer.Typer(help="Look at the events on the bus.", no_args_is_help=True)
app.add_typer(events, name="events")
dlq = typer.Typer(
    help="Messages consumers could not process: list them, replay them.", no_args_is_help=True
)
app.add_typer(dlq, name="dlq")
schema = typer.Typer(
    help="The contract files: event schemas, AsyncAPI, OpenAPI.", no_args_is_help=True
)
app.add_typer(schema, name="schema")
roster = typer.Typer(help="The roster of supporters and officers.", no_args_is_help=True)
app.add_typer(roster, name="roster")
eido = typer.Typer(help="NENA EIDOs from a PSAP's or CAD's notifier.", no_args_is_help=True)
app.add_typer(eido, name="eido")
notify = typer.Typer(help="Notifications: prove they reach people.", no_args_is_help=True)
app.add_typer(notify, name="notify")

IMPORT_TOKEN_TTL = timedelta(minutes=5)
EIDO_TOKEN_TTL = timedelta(minutes=5)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="The stack's data directory (default: PEERLINE_DATA_DIR or ./.peerline).",
        show_default=False,
    ),
]
NatsUrl = Annotated[
    str | None,
    typer.Option(
        envvar="PEERLINE_NATS_URL",
        help="NATS server (default: the running stack's, from stack.json).",
        show_default=False,
    ),
]


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def up(data_dir: DataDir = None) -> None:
    """Run NATS and every service on this machine until Ctrl-C."""
    from peerline.up import up as run_stack

    raise typer.Exit(run_stack(_settings(data_dir).data_dir))


@app.command()
def demo(data_dir: DataDir = None) -> None:
    """Fill the running stack with a sample region and report a few incidents: the
    flow to watch, with tokens to try the APIs. Running it again changes nothing."""
    from peerline.demo import DemoFailed, run

    settings = _settings(data_dir)
    stack = stackfile.read(settings.data_dir)
    if stack is None:
        _fail("no running stack here: start one with `peerline up` (or `make run`)", 2)
    try:
        secret = settings.signing_secret()
    except RuntimeError as exc:
        _fail(str(exc), 2)
    try:
        run(stack, secret, settings.data_dir, typer.echo)
    except DemoFailed as exc:
        _fail(str(exc), 1)


@app.command()
def token(
    agency: Annotated[str, typer.Option(help="Agency id, e.g. CA0190000.")],
    role: Annotated[Role, typer.Option(help="What the token may do.")],
    sub: Annotated[str | None, typer.Option(help="Subject (default: <role>@<agency>).")] = None,
    ttl: Annotated[str, typer.Option(help="Lifetime: 90s, 30m, 1h, 7d, 2w.")] = "1h",
    data_dir: DataDir = None,
) -> None:
    """Print a signed bearer token for the HTTP APIs, signed with PEERLINE_JWT_SECRET
    (a region's, from deploy/.env) or else the local stack's `<data-dir>/jwt-secret`."""
    try:
        lifetime = parse_duration(ttl)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--ttl") from None
    typer.echo(_signed(_settings(data_dir), agency, role, sub, lifetime))


def _signed(
    settings: Settings, agency: str, role: Role, sub: str | None, lifetime: timedelta
) -> str:
    """A token signed with the stack's secret; a usage error when there is none."""
    try:
        secret = settings.signing_secret()
    except RuntimeError as exc:
        _fail(str(exc), 2)
    try:
        return issue_token(secret, agency=agency, role=role, sub=sub, ttl=lifetime)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--agency") from None


@roster.command("import")
def roster_import(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.csv", exists=True, dir_okay=False, help="The roster CSV (docs/roster.md)."
        ),
    ],
    agency: Annotated[str, typer.Option(help="The agency whose roster it is, e.g. CA0190000.")],
    url: Annotated[
        str | None,
        typer.Option(
            help="The roster service (default: the running stack's, from stack.json).",
            show_default=False,
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Check every row as an import would; keep nothing.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Import supporters, their training and officers from a CSV, all or nothing: the
    counts, or every bad row with its column and the reason."""
    from peerline.roster_import import ImportFailed, send, summary

    settings = _settings(data_dir)
    roster_url = url or _stack_service_url(settings.data_dir, "roster")
    if roster_url is None:
        _fail("no roster URL: pass --url or run `peerline up`", 2)
    # Minted here and used at once, so it need only outlive one request.
    signed = _signed(settings, agency, Role.COORDINATOR, None, IMPORT_TOKEN_TTL)
    try:
        answer = send(roster_url, signed, file.read_bytes(), agency=agency, dry_run=check)
    except ImportFailed as exc:
        for line in exc.lines:
            typer.echo(line, err=True)
        raise typer.Exit(1) from None
    for line in summary(answer):
        typer.echo(line)


@eido.command("subscribe")
def eido_subscribe(
    url: Annotated[
        str,
        typer.Argument(
            metavar="URL", help="The notifier, e.g. wss://psap.example:16000/IncidentData/ent."
        ),
    ],
    agency: Annotated[
        str | None,
        typer.Option(help="The agency reporting; tokens are minted with the local secret."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="PEERLINE_INGEST_TOKEN",
            help="An ingest token instead of --agency, for a deployed region.",
            show_default=False,
        ),
    ] = None,
    incidents_url: Annotated[
        str | None,
        typer.Option(
            help="The incidents service (default: the running stack's, from stack.json).",
            show_default=False,
        ),
    ] = None,
    cert: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="This client's certificate (PEM)."),
    ] = None,
    key: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Its private key (PEM).")
    ] = None,
    ca: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="The CA of the notifier's certificate."),
    ] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Allow ws:// without TLS, for local tests only.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Subscribe to a notifier's EIDOs (NENA-STA-024) and report each notification to the
    incidents service, answering the notifier with the outcome; until Ctrl-C."""
    from peerline.eido_subscribe import Refused, subscribe, tls_for

    settings = _settings(data_dir)
    incidents = incidents_url or _stack_service_url(settings.data_dir, "incidents")
    if incidents is None:
        _fail("no incidents URL: pass --incidents-url or run `peerline up`", 2)
    if (agency is None) == (token is None):
        _fail("pass --agency (the local stack) or --token (a deployed region)", 2)
    try:
        tls = tls_for(url, cert=cert, key=key, ca=ca, insecure=insecure)
    except (ValueError, OSError) as exc:
        _fail(str(exc), 2)
    tokens = _ingest_tokens(settings, agency, token)
    try:
        asyncio.run(subscribe(url, tls, incidents, tokens, typer.echo))
    except Refused as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        pass


def _ingest_tokens(settings: Settings, agency: str | None, token: str | None) -> Callable[[], str]:
    """The given token, or a fresh short-lived one per event from the local secret; the
    first is minted now, so a missing secret or a bad agency id fails before connecting."""
    if token is not None:
        return lambda: token
    mint = partial(_signed, settings, agency, Role.INGEST, None, EIDO_TOKEN_TTL)
    mint()
    return mint


@events.command("tail")
def events_tail(
    subject: Annotated[str, typer.Argument(help="Subject filter, wildcards allowed.")] = "ps.>",
    nats_url: NatsUrl = None,
    data_dir: DataDir = None,
    count: Annotated[int | None, typer.Option(min=1, help="Stop after this many events.")] = None,
) -> None:
    """Follow events stored on the bus from now on, decoded, one per line."""
    from peerline.tail import TailError, tail

    url = _nats_url(nats_url, data_dir)
    try:
        asyncio.run(
            tail(
                url,
                subject,
                count=count,
                out=typer.echo,
                err=lambda line: typer.echo(line, err=True),
            )
        )
    except TailError as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        pass


@notify.command("test")
def notify_test(
    agency: Annotated[str, typer.Option(help="The supporter's agency.")],
    to: Annotated[str, typer.Option(help="The supporter's id (supporter_id).")],
    data_dir: DataDir = None,
) -> None:
    """Send a supporter a test message over the channels notify would use, in its order,
    until one takes it, with notify's settings (PEERLINE_SMTP_URL, PEERLINE_SMS_URL,
    PEERLINE_ROSTER_URL, or the running stack's roster). Prints each channel and how it
    went, never an address; fails when none took it."""
    from services.notify.directory import LookupFailed, RosterDirectory
    from services.notify.trial import send_test
    from shared.errors import NotFound

    settings = _settings(data_dir)
    if "PEERLINE_ROSTER_URL" not in os.environ:
        stack_roster = _stack_service_url(settings.data_dir, "roster")
        if stack_roster is not None:
            settings = settings.model_copy(update={"roster_url": stack_roster})

    async def run():
        directory = RosterDirectory(settings)
        try:
            return await send_test(settings, directory, agency, to)
        finally:
            await directory.stop()

    try:
        tried = asyncio.run(run())
    except (RuntimeError, NotFound, LookupFailed) as exc:  # no secret, no such supporter
        _fail(str(exc) or type(exc).__name__, 2)
    for attempt in tried:
        typer.echo(f"{attempt.channel.value}: {attempt.outcome.value}")
    if not tried:
        _fail(f"no channel of this service can reach {to}: see GET /v1/channels", 1)
    if tried[-1].outcome.value != "sent":
        _fail(f"no channel took the test message for {to}", 1)


@dlq.command("list")
def dlq_list(
    nats_url: NatsUrl = None,
    data_dir: DataDir = None,
    consumer: Annotated[
        str | None, typer.Option(help="Only this consumer's, e.g. incidents-intake.")
    ] = None,
) -> None:
    """Show the dead letters, oldest first: where from and why, never the payload."""
    from rich.console import Console

    from peerline.dlq import DlqError, dead_letters, table

    url = _nats_url(nats_url, data_dir)
    try:
        letters = asyncio.run(dead_letters(url, consumer))
    except DlqError as exc:
        _fail(str(exc), 1)
    if not letters:
        typer.echo("no dead letters")
        return
    Console().print(table(letters))


@dlq.command("replay")
def dlq_replay(
    dlq_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="The id `dlq list` shows.")],
    nats_url: NatsUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Publish a dead letter again on its original subject and remove it from the list."""
    from peerline.dlq import DlqError, replay

    url = _nats_url(nats_url, data_dir)
    timeout = _settings(data_dir).publish_timeout
    try:
        done = asyncio.run(replay(url, dlq_id, timeout=timeout))
    except DlqError as exc:
        _fail(str(exc), 1)
    stored = "already stored" if done.duplicate else "stored"
    typer.echo(
        f"replayed dead letter {done.dlq_id} to {done.subject} "
        f"({stored} as {done.stream} seq {done.seq})"
    )


@schema.command("export")
def schema_export(
    directory: Annotated[
        Path, typer.Argument(file_okay=False, help="Where to write, e.g. docs/contract.")
    ],
) -> None:
    """Write a JSON Schema per event, the bus's AsyncAPI and each service's OpenAPI."""
    from peerline.schema import export

    written, removed = export(directory)
    for path in written:
        typer.echo(f"wrote {path}")
    for path in removed:
        typer.echo(f"removed {path}")


@app.command("nats-config")
def nats_config(
    agencies: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="YAML: agencies: [{id: ...}]")
    ],
    out: Annotated[
        Path, typer.Option(file_okay=False, help="Where accounts.conf and credentials/ go.")
    ] = Path("deploy/nats/auth"),
    rotate: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ID",
            help="New credentials for this agency (or `peerline`, the services); the old "
            "ones stay valid until --retire.",
        ),
    ] = None,
    retire: Annotated[
        list[str] | None,
        typer.Option(metavar="ID", help="Drop the credentials a rotation replaced."),
    ] = None,
) -> None:
    """NATS users for the region: the services, and one per agency that may report only
    for itself. Reload the servers after each run (docs/operations.md)."""
    from peerline.natsconfig import write

    try:
        users = write(agencies, out, rotate=tuple(rotate or ()), retire=tuple(retire or ()))
    except ValueError as exc:
        _fail(str(exc), 2)
    typer.echo(f"wrote {out / 'accounts.conf'}: users {', '.join(users)}")
    typer.echo(f"passwords in {out / 'credentials'}/; reload the servers to apply")


def _nats_url(option: str | None, data_dir: Path | None) -> str:
    """The option or PEERLINE_NATS_URL (Typer reads both), else the running stack's."""
    url = option or _stack_nats_url(_settings(data_dir).data_dir)
    if url is None:
        _fail("no NATS URL: pass --nats-url, set PEERLINE_NATS_URL or run `peerline up`", 2)
    return url


def _stack_nats_url(data_dir: Path) -> str | None:
    stack = stackfile.read(data_dir)
    return stack.get("nats_url") if stack else None


def _stack_service_url(data_dir: Path, service: str) -> str | None:
    stack = stackfile.read(data_dir)
    return stack.get("services", {}).get(service) if stack else None
