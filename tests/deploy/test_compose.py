"""The regional deployment on a real Docker engine: deploy/compose.yaml with the images
deploy/build-local-images.sh builds (no registry is needed), driven as an agency's CAD
and a coordinator would, then one consuming service scaled to two replicas; then, while
reports keep coming, one NATS node and one consuming replica are killed and every
accepted report must still be assigned, scheduled and notified exactly once. The
stack runs with its `observability` profile: one report's trace is found across the
containers through Phoenix's own API and photographed in its UI, and Prometheus
scrapes every service and holds the region's alerts (decision 78). The web portal runs
beside the services: its sign-in page answers on its published port, as a region's
portal (no local sign-in, no bus credentials).

CI installs the engine (.ci/run) and sets CI=true: there a missing engine fails the
tests. Elsewhere they skip, saying why, when no Docker engine with Compose v2 answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats
import pytest
import yaml
from nats.js.api import StreamInfo
from testcontainers.compose import DockerCompose

from peerline.natsd import free_port
from shared.events import (
    CheckInDue,
    CheckInScheduled,
    IncidentReported,
    NotificationSent,
    PeerAssigned,
)
from shared.streams import CHECKINS, DLQ, EVENTS, StreamSpec
from shared.tokens import issue_token
from shared.vocab import TrainingArea
from tests.support.bus import EventLog
from tests.support.certs import trusting, write_certificates
from tests.support.natsauth import ConfiguredServer, credentials, leaf_example, nats_config
from tests.support.observability import Phoenix, Prometheus, poll, screenshot_trace
from tests.support.requires import unavailable
from tests.support.waiting import await_until

pytestmark = [pytest.mark.compose, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"
AGENCY = "CA0190000"
FAULTS_AGENCY = "CA0190100"  # its own agency, so the first test's events do not count
TRACE_AGENCY = "CA0190200"
NATS_AGENCY = "CA0190300"  # reports over NATS, directly and through its site's leaf node
BACKUP_AGENCY = "CA0190400"
AGENCIES = (AGENCY, FAULTS_AGENCY, TRACE_AGENCY, NATS_AGENCY)
CANARY = "CANARY-7Q4Z"  # an officer's id that no span and no log line may hold
# Prometheus's jobs (deploy/prometheus/prometheus.yml): one per service, named after it.
JOBS = ("incidents", "roster", "checkins", "notify", "metrics", "portal")


def _docker_answers() -> str | None:
    """Why the engine cannot be used, or None when it can."""
    if shutil.which("docker") is None:
        return "no docker command (CI installs one: deploy/build-local-images.sh)"
    for argv in (["docker", "info"], ["docker", "compose", "version"]):
        try:
            done = subprocess.run(argv, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"`{' '.join(argv)}` failed: {exc}"
        if done.returncode != 0:
            return f"`{' '.join(argv)}` failed: no Docker engine or no Compose v2 here"
    return None


class Stack:
    """One compose project of its own name, so it never touches another stack, with the
    `observability` profile, driven through testcontainers' `DockerCompose` (up, wait,
    ports, containers, logs, exec); the few commands it has no method for (`up
    --scale`, `kill -s HUP`) run on its compose command line."""

    def __init__(self, env_file: Path, auth_dir: Path, ca_file: Path, project: str) -> None:
        self.project = project  # COMPOSE_PROJECT_NAME in env_file
        self.auth_dir, self.ca_file = auth_dir, ca_file
        self.compose_env = DockerCompose(
            context=COMPOSE_FILE.parent,
            compose_file_name=str(COMPOSE_FILE),  # absolute: its command runs anywhere
            env_file=str(env_file),
            wait=True,
            profiles=["observability"],  # on every command: `up` keeps them running
        )

    @property
    def command(self) -> list[str]:
        """`docker compose` for this project."""
        return self.compose_env.docker_compose_command()

    def compose(self, *args: str, timeout: float = 300) -> str:
        return self.run([*self.command, *args], timeout=timeout)

    def run(self, argv: list[str], timeout: float = 300, **more_env: str) -> str:
        """A command on the project; its output, or a failure with the stack's logs."""
        env = {
            **os.environ,
            "COMPOSE_BAKE": "false",
            "COMPOSE": " ".join(self.command),
            **more_env,
        }
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed:\n{done.stderr}\n{self.logs()}")
        return done.stdout

    def logs(self) -> str:
        out, _ = self.compose_env.get_logs()
        return out[-20_000:]

    def exec(self, service: str, *command: str) -> str:
        out, err, code = self.compose_env.exec_in_container(list(command), service_name=service)
        assert code == 0, f"{' '.join(command)} in {service}: {err}"
        return out

    def address(self, service: str, port: int) -> str:
        """host:port where the engine published a service's port."""
        _, published = self.compose_env.get_service_host_and_port(service, port)
        return f"127.0.0.1:{published}"

    def nats_url(self, identity: str = "peerline") -> str:
        """nats-1's published client port, as a user of `peerline nats-config`."""
        user, password = credentials(self.auth_dir, identity)
        return f"nats://{user}:{password}@{self.address('nats-1', 4222)}"

    def cluster_urls(
        self, identity: str = "peerline", nodes: tuple[str, ...] = ("nats-1", "nats-2", "nats-3")
    ) -> list[str]:
        """Every node's published client port, as an agency's connection string lists
        them, as a user of `peerline nats-config`."""
        user, password = credentials(self.auth_dir, identity)
        return [f"nats://{user}:{password}@{self.address(node, 4222)}" for node in nodes]

    async def connect(self, identity: str = "peerline", **options) -> nats.NATS:
        """A client on nats-1 as `identity`, over TLS, trusting the region's CA."""
        return await nats.connect(self.nats_url(identity), tls=trusting(self.ca_file), **options)

    def events(self, subject: str, stream: str) -> EventLog:
        """An EventLog as the operators' user, over TLS."""
        return EventLog(self.nats_url(), subject, stream, tls=trusting(self.ca_file))

    def reload_nats(self) -> None:
        """What an operator does after `peerline nats-config`: every node reads its
        configuration, with the accounts, again."""
        self.compose("kill", "-s", "HUP", "nats-1", "nats-2", "nats-3")

    def kill(self, service: str, replica: int = 1) -> None:
        """SIGKILL one container, as a crash or a lost machine would."""
        name = f"{self.project}-{service}-{replica}"
        [container] = [c for c in self.compose_env.get_containers() if c.Name == name]
        done = subprocess.run(["docker", "kill", container.ID], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    def healthy_replicas(self, service: str) -> int:
        containers = self.compose_env.get_containers()
        return sum(1 for c in containers if c.Service == service and c.Health == "healthy")


@pytest.fixture(scope="module")
def images() -> dict[str, str]:
    """The local images, built or brought up to date with the project's source."""
    reason = _docker_answers()
    if reason:
        unavailable(f"no engine to deploy on: {reason}")
    done = subprocess.run(
        [str(ROOT / "deploy" / "build-local-images.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.split())


@pytest.fixture(scope="module")
def secret() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def stack(images, secret, tmp_path_factory) -> Iterator[Stack]:
    deploy = tmp_path_factory.mktemp("deploy")
    env_file, auth_dir = deploy / ".env", deploy / "auth"
    agencies = deploy / "agencies.yaml"
    agencies.write_text(yaml.safe_dump({"agencies": [{"id": a} for a in AGENCIES]}))
    nats_config(agencies, auth_dir)
    # TLS as a region runs it: the nodes' certificate names them and the host's loopback.
    certs = deploy / "certs"
    ca_file = write_certificates(certs, ["nats-1", "nats-2", "nats-3", "localhost", "127.0.0.1"])
    settings = {
        **images,
        "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
        "INCIDENTS_DB_PASSWORD": secrets.token_urlsafe(16),
        "ROSTER_DB_PASSWORD": secrets.token_urlsafe(16),
        "CHECKINS_DB_PASSWORD": secrets.token_urlsafe(16),
        "NOTIFY_DB_PASSWORD": secrets.token_urlsafe(16),
        "METRICS_DB_PASSWORD": secrets.token_urlsafe(16),
        "PORTAL_DB_PASSWORD": secrets.token_urlsafe(16),
        "PEERLINE_JWT_SECRET": secret,
        "PEERLINE_FIELD_KEY": "A" * 43 + "=",
        "PEERLINE_PSEUDONYM_KEY": secrets.token_urlsafe(32),
        "PEERLINE_ID_KEY": secrets.token_urlsafe(32),
        "PEERLINE_NOTIFY_CONSOLE": "true",
        # Any free host port, so that the test runs beside anything else.
        "INCIDENTS_PUBLISH": "127.0.0.1:",
        "ROSTER_PUBLISH": "127.0.0.1:",
        "METRICS_PUBLISH": "127.0.0.1:",
        "PORTAL_PUBLISH": "127.0.0.1:",
        "PHOENIX_PUBLISH": "127.0.0.1:",
        "PROMETHEUS_PUBLISH": "127.0.0.1:",
        "NATS_PUBLISH": "127.0.0.1:",
        "NATS_LEAF_PUBLISH": "127.0.0.1:",
        "NATS_2_PUBLISH": "127.0.0.1:",
        "NATS_2_LEAF_PUBLISH": "127.0.0.1:",
        "NATS_3_PUBLISH": "127.0.0.1:",
        "NATS_3_LEAF_PUBLISH": "127.0.0.1:",
        "NATS_AUTH_DIR": str(auth_dir),
        "NATS_TLS_CONF": str(ROOT / "deploy" / "nats" / "tls.conf"),
        "NATS_CERTS_DIR": str(certs),
        "NATS_CA_FILE": "/etc/nats/certs/ca.pem",
        # Every service exports its spans to the profile's viewer, as docs/deployment.md
        # says to.
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://phoenix:6006",
    }
    project = f"peerline-test-{uuid.uuid4().hex[:8]}"
    settings["COMPOSE_PROJECT_NAME"] = project  # never another stack's containers
    env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    stack = Stack(env_file, auth_dir, ca_file, project)
    try:
        stack.compose_env.start()  # up --wait: every container healthy
        yield stack
    finally:
        stack.compose_env.stop()  # down, volumes and all


async def test_a_report_reaches_a_peer_through_the_clustered_stack_and_scales(stack, secret):
    incidents = f"http://{stack.address('incidents', 8081)}"
    roster = f"http://{stack.address('roster', 8082)}"
    # Streams live on all three nodes.
    info = await _stream_info(stack, EVENTS.name)
    assert info.config.num_replicas == 3
    assert len(info.cluster.replicas or []) == 2

    coordinator, ingest = _as(secret, AGENCY, "coordinator"), _as(secret, AGENCY, "ingest")
    # Days ago: the first offer is due at once.
    days_ago = datetime(2026, 11, 25, 22, 14, tzinfo=UTC)

    async with (
        stack.events(f"ps.{AGENCY}.>", EVENTS.name) as log,
        httpx.AsyncClient(trust_env=False, timeout=10) as client,
    ):
        await _enrol(client, roster, coordinator, AGENCY, "S-9")
        answer = await client.post(
            f"{incidents}/v1/incidents", json=_report("CMP-1", "B5678", days_ago), headers=ingest
        )
        assert answer.status_code == 202, answer.text
        await log.wait_for(IncidentReported, timeout=60)
        [assigned] = await log.wait_for(PeerAssigned, timeout=60)
    assert (assigned.personnel_id, assigned.supporter_id) == ("B5678", "S-9")

    # Two check-in replicas share the service's durable consumers: scaling adds none,
    # and the next report's offer is made once, not once per replica.
    durables = await _consumers(stack)
    stack.compose("up", "-d", "--wait", "--wait-timeout", "120", "--scale", "checkins=2")
    assert stack.healthy_replicas("checkins") == 2
    async with (
        stack.events(f"ps.{AGENCY}.assignment.*", EVENTS.name) as assignments,
        stack.events(f"ps.{AGENCY}.checkin.*", CHECKINS.name) as checkins,
        httpx.AsyncClient(trust_env=False, timeout=10) as client,
    ):
        answer = await client.post(
            f"{incidents}/v1/incidents", json=_report("CMP-2", "B9012", days_ago), headers=ingest
        )
        assert answer.status_code == 202, answer.text
        made = await assignments.wait_for(PeerAssigned, count=2, timeout=60)
        [second] = [e for e in made if e.personnel_id == "B9012"]
        await checkins.wait_for(CheckInDue, count=2, timeout=60)  # B5678's, then B9012's
        due = [e for e in checkins.of_type(CheckInDue) if e.assignment_id == second.assignment_id]
    assert len(due) == 1
    assert await _consumers(stack) == durables


async def test_the_portal_runs_beside_the_services_without_local_sign_in(stack):
    """The portal is healthy beside the services, reaches each of them by the address
    the compose file gives it, holds no NATS credentials, and its sign-in page answers
    on the published port with its protections and without the local sign-in, which a
    post is refused too."""
    assert stack.healthy_replicas("portal") == 1
    # From inside its container: every service's URL answers, and no bus user is there.
    check = (
        "import os, urllib.request as u\n"
        "assert not {'NATS_USER', 'NATS_PASSWORD'} & os.environ.keys()\n"
        "for s in ('incidents', 'roster', 'checkins', 'notify', 'metrics'):\n"
        "    u.urlopen(os.environ[f'PEERLINE_{s.upper()}_URL'] + '/healthz', timeout=5)\n"
    )
    stack.exec("portal", "python", "-c", check)

    portal = f"http://{stack.address('portal', 8080)}"
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        page = await client.get(f"{portal}/signin")
        assert page.status_code == 200, page.text
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["Cache-Control"] == "no-store"
        assert "Sign in" in page.text
        assert "Local sign-in" not in page.text
        # The session cookie is for HTTPS only (the TLS proxy's), so httpx would not send
        # it back over plain HTTP: the post carries it by hand, as one behind the proxy.
        [cookie] = [c for c in page.headers.get_list("Set-Cookie") if "peerline_session" in c]
        assert "; Secure" in cookie and "; HttpOnly" in cookie, cookie
        refused = await client.post(
            f"{portal}/signin/local",
            data={"agency": AGENCY, "role": "coordinator", "subject": "C1"},
            headers={"Cookie": cookie.split(";", 1)[0]},
        )
        assert refused.status_code == 403, refused.text


async def test_an_agency_reports_over_nats_from_its_site_and_rotates_its_password(
    stack, secret, tmp_path
):
    """The agency's CAD reports with the agency's generated credentials on the published
    client port, and from its own site through a leaf node (the example filled in); both
    reports reach a peer. Then its password is rotated with the agency connected: the old
    and the new user both report after the reload, and after the retirement the old
    user is disconnected and refused while the new one still reports. Last, with every
    node in its connection string, it keeps reporting while nats-1 is killed."""
    roster = f"http://{stack.address('roster', 8082)}"
    coordinator = _as(secret, NATS_AGENCY, "coordinator")
    agencies = stack.auth_dir.parent / "agencies.yaml"
    inbox = f"_INBOX_{NATS_AGENCY}"

    async def report(client: nats.NATS, n: int) -> None:
        body = _report(f"NATS-{n}", f"N{n:03d}")
        subject = f"ps.{NATS_AGENCY}.intake.incident"
        ack = await client.jetstream().publish(subject, json.dumps(body).encode(), timeout=10)
        assert ack.stream == "PEERLINE_INTAKE"

    site_port = free_port()
    config = tmp_path / "site.conf"
    region = stack.address("nats-1", 7422)
    config.write_text(leaf_example(stack.auth_dir, NATS_AGENCY, region, stack.ca_file, site_port))
    async with (
        stack.events(f"ps.{NATS_AGENCY}.>", EVENTS.name) as log,
        httpx.AsyncClient(trust_env=False, timeout=10) as client,
    ):
        for n in range(2):  # each takes three open assignments
            await _enrol(client, roster, coordinator, NATS_AGENCY, f"S-N{n}")
        agency = await stack.connect(NATS_AGENCY, inbox_prefix=inbox)
        site = ConfiguredServer(config, f"{NATS_AGENCY}-leaf", site_port)
        try:
            await report(agency, 1)
            cad = await nats.connect(f"nats://127.0.0.1:{site_port}", inbox_prefix=inbox)
            await await_until(lambda: _acked(report(cad, 2)), timeout=30, what="the site's link")
            await cad.close()
            site.stop()

            old_url = stack.nats_url(NATS_AGENCY)
            nats_config(agencies, stack.auth_dir, "--rotate", NATS_AGENCY)
            stack.reload_nats()
            await asyncio.sleep(1)
            rotated = await stack.connect(NATS_AGENCY, inbox_prefix=inbox)
            await report(agency, 3)
            await report(rotated, 4)

            nats_config(agencies, stack.auth_dir, "--retire", NATS_AGENCY)
            stack.reload_nats()
            # The old user's connection is dropped, and its reconnections refused.
            await await_until(lambda: not agency.is_connected, timeout=10, what="a drop")
            with pytest.raises(nats.errors.Error, match="Authorization Violation"):
                await nats.connect(
                    old_url,
                    tls=trusting(stack.ca_file),
                    allow_reconnect=False,
                    max_reconnect_attempts=0,
                    connect_timeout=15,
                )
            await report(rotated, 5)
            await rotated.close()
        finally:
            site.stop()
            await agency.close()
        made = await log.wait_for(PeerAssigned, count=5, timeout=60)
    assert sorted(e.personnel_id for e in made) == [f"N{n:03d}" for n in range(1, 6)]
    assert len(log.of_type(IncidentReported)) == 5

    # Every node is published: an agency whose connection string lists all three keeps
    # reporting while nats-1, the node it reached first, is killed.
    agency = await nats.connect(
        stack.cluster_urls(NATS_AGENCY),
        tls=trusting(stack.ca_file),
        inbox_prefix=inbox,
        dont_randomize=True,
        reconnect_time_wait=0.5,
    )
    survivors = stack.cluster_urls(nodes=("nats-2", "nats-3"))
    subject = f"ps.{NATS_AGENCY}.incident.reported"
    try:
        async with EventLog(survivors, subject, EVENTS.name, tls=trusting(stack.ca_file)) as log:
            await report(agency, 6)
            stack.kill("nats-1")
            for n in (7, 8):
                await await_until(
                    lambda n=n: _acked(report(agency, n)), timeout=60, what="a surviving node"
                )
            wanted = {"NATS-6", "NATS-7", "NATS-8"}
            await await_until(
                lambda: wanted <= {e.external_id for e in log.of_type(IncidentReported)},
                timeout=60,
                what="the three reports made as nats-1 went",
            )
    finally:
        await agency.close()
        stack.compose("up", "-d", "--wait", "--wait-timeout", "120", "nats-1")


async def _acked(publishing) -> bool:
    """Whether a report over a link still being set up was acknowledged."""
    try:
        await publishing
    except (nats.errors.TimeoutError, nats.errors.NoRespondersError, nats.js.errors.Error):
        return False
    return True


async def test_operators_see_a_report_in_the_viewer_and_the_scraper_without_personal_data(
    stack, secret
):
    """The CAD's request starts a trace (its `traceparent`); the incidents container's
    server span, the roster's consumption of IncidentReported, then check-ins' and
    notify's of PeerAssigned (published through the roster's outbox) are all in it, as
    Phoenix's own API returns it, each span named with its service, and a screenshot
    shows it in Phoenix's UI. Meanwhile Prometheus scrapes the report's count and every
    service, and holds the region's alerts. No span Phoenix holds and no log line holds
    the officer's id."""
    incidents = f"http://{stack.address('incidents', 8081)}"
    roster = f"http://{stack.address('roster', 8082)}"
    viewer = f"http://{stack.address('phoenix', 6006)}"

    def headers(role: str) -> dict[str, str]:
        return _as(secret, TRACE_AGENCY, role)

    trace_id = secrets.token_hex(16)
    report = _report("TRC-1", CANARY)
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        await _enrol(client, roster, headers("coordinator"), TRACE_AGENCY, "S-T1")
        traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
        answer = await client.post(
            f"{incidents}/v1/incidents",
            json=report,
            headers={**headers("ingest"), "traceparent": traceparent},
        )
        assert answer.status_code == 202, answer.text
        counted = _intake_count((await client.get(f"{incidents}/metrics")).text)

        expected = {
            ("incidents", "POST /v1/incidents"),
            ("roster", "roster-incidents process"),
            ("checkins", "checkins-assignments process"),
            ("notify", "notify-assignments process"),
        }
        phoenix = Phoenix(client, viewer)

        async def found() -> set[tuple[str, str]]:
            spans = await phoenix.spans(trace_id)
            return {(s["attributes"].get("service.name"), s["name"]) for s in spans}

        # Spans leave each service in batches, every 5 s.
        await poll(found, lambda seen: expected <= seen, 60, "the trace in Phoenix")
        project = await phoenix.project_id()
        everything = await phoenix.spans()

        # The browser, in a thread, while Prometheus's next scrape comes (every 15 s).
        shown = [name for _, name in sorted(expected)]
        photo = asyncio.to_thread(screenshot_trace, viewer, project, trace_id, shown)
        prometheus = Prometheus(client, f"http://{stack.address('prometheus', 9090)}")
        await asyncio.gather(photo, _scraped_after(prometheus, counted))

    for span in everything:
        assert CANARY not in json.dumps(span), (span["attributes"], span["name"])
    assert CANARY not in stack.compose_env.get_logs()[0]


def _intake_count(exported: str) -> float:
    """Reports counted in a service's /metrics text, whatever their path and outcome."""
    name = "peerline_intake_reports_total{"
    counted = sum(float(line.rsplit(" ", 1)[1]) for line in exported.splitlines() if name in line)
    assert counted >= 1
    return counted


async def _scraped_after(prometheus: Prometheus, counted: float) -> None:
    """Prometheus holds the incidents service's count of reports as it was after the
    report, reads every service's /metrics (`up` is 1 for each job), holds the figures
    an operator acts on, and has loaded every alert of deploy/alerts.yaml, healthy."""

    async def scraped() -> float:
        reports = await prometheus.query('peerline_intake_reports_total{job="incidents"}')
        return sum(reports.values())

    await poll(scraped, lambda n: n >= counted, 45, "the report's count in Prometheus")
    up = {dict(k)["job"]: v for k, v in (await prometheus.query("up")).items()}
    assert up == dict.fromkeys(JOBS, 1.0)
    outbox = await prometheus.query("max by (service) (peerline_outbox_pending_rows)")
    assert {dict(k)["service"] for k in outbox} >= {"incidents", "roster", "checkins"}
    pending = await prometheus.query(
        "max by (service, durable) (peerline_consumer_pending_messages)"
    )
    durables = {(dict(k)["service"], dict(k)["durable"]) for k in pending}
    assert {("roster", "roster-incidents"), ("notify", "notify-assignments")} <= durables

    loaded = await prometheus.rules()
    groups = yaml.safe_load((ROOT / "deploy" / "alerts.yaml").read_text())["groups"]
    alerts = {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}
    assert {rule["name"] for rule in loaded if rule["type"] == "alerting"} == alerts
    assert {rule["health"] for rule in loaded} == {"ok"}


async def test_faults_mid_flow_lose_and_double_nothing(stack, secret):
    """Reports keep arriving while a NATS node (the events stream's leader when it is
    not the one the test reads through) and one of two check-in replicas are killed.
    Every report answered 202 gets one assignment, one first check-in offer and one
    notification to its supporter, and nothing is dead-lettered."""
    stack.compose("up", "-d", "--wait", "--wait-timeout", "120", "--scale", "checkins=2")
    incidents = f"http://{stack.address('incidents', 8081)}"
    roster = f"http://{stack.address('roster', 8082)}"

    def headers(role: str) -> dict[str, str]:
        return _as(secret, FAULTS_AGENCY, role)

    # nats-1 stays up: the test's window on the cluster.
    leader = (await _stream_info(stack, EVENTS.name)).cluster.leader
    node = leader if leader != "nats-1" else "nats-2"
    accepted: list[str] = []
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        for n in range(6):  # 18 reports; a supporter takes 3 open assignments by default
            await _enrol(client, roster, headers("coordinator"), FAULTS_AGENCY, f"S-F{n}")
        for i in range(18):
            if i == 6:
                stack.kill(node)
            if i == 12:
                stack.kill("checkins", 1)
            officer = f"F{i:03d}"
            answer = await client.post(
                f"{incidents}/v1/incidents",
                json=_report(f"FLT-{i}", officer),
                headers=headers("ingest"),
            )
            if answer.status_code == 202:
                accepted.append(officer)
    assert len(accepted) == 18, "intake stores in PostgreSQL: a NATS node away refuses nothing"

    # Read the streams from the start, through the surviving nodes, the killed one still
    # down (opening a log waits out the elections that follow the node's loss).
    agency = f"ps.{FAULTS_AGENCY}"
    async with contextlib.AsyncExitStack() as logs:
        assignments = await _open_log(logs, stack, f"{agency}.assignment.*", EVENTS)
        scheduled = await _open_log(logs, stack, f"{agency}.checkin.scheduled", CHECKINS)
        notified = await _open_log(logs, stack, f"{agency}.notification.*", EVENTS)
        # ack_wait (30 s) brings back what the killed replica had fetched but not settled.
        await assignments.wait_for(PeerAssigned, count=len(accepted), timeout=90)
        await scheduled.wait_for(CheckInScheduled, count=len(accepted), timeout=90)
        await notified.wait_for(NotificationSent, count=len(accepted), timeout=90)
        await asyncio.sleep(2)  # time for a doubled event to show
        made, offers = assignments.of_type(PeerAssigned), scheduled.of_type(CheckInScheduled)
        sent = notified.of_type(NotificationSent)

    assert sorted(e.personnel_id for e in made) == sorted(accepted)
    assignment_ids = {e.assignment_id for e in made}
    assert len(assignment_ids) == len(accepted)
    assert sorted(e.assignment_id for e in offers) == sorted(assignment_ids)
    assert {e.sequence for e in offers} == {1}
    assert len({e.checkin_id for e in offers}) == len(accepted)
    assert sorted(e.cause_event_id for e in sent) == sorted(e.event_id for e in made)
    assert (await _stream_info(stack, DLQ.name)).state.messages == 0
    # The operators' command in a service's container says so too, connected as the
    # services are (the region's CA, every node's URL) but as the operators' user: a
    # service's own may read nothing but its durables (decision 67).
    user, password = credentials(stack.auth_dir, "peerline")
    operator = ("env", f"NATS_USER={user}", f"NATS_PASSWORD={password}")
    listed = stack.exec("incidents", *operator, "peerline", "dlq", "list")
    assert listed.strip() == "no dead letters"

    # The killed node and replica come back: the node's /healthz answers once it has
    # caught up with the cluster's JetStream state.
    stack.compose("up", "-d", "--wait", "--wait-timeout", "120", "--scale", "checkins=2")
    assert stack.healthy_replicas(node) == 1
    assert stack.healthy_replicas("checkins") == 2


async def test_a_saved_region_comes_back_to_its_moment(stack, secret, tmp_path):
    """deploy/backup.sh: a report before the save is there after the restore, with its
    events; one after it is gone from the databases and the streams alike; and the
    region takes the next report as before. The backup is encrypted to an operator's
    key, and nothing in it is readable by anyone else, nor in clear at all."""
    saved = tmp_path / "backup"
    gpg = _operator_key(tmp_path / "gnupg")

    def headers(role: str) -> dict[str, str]:
        return _as(secret, BACKUP_AGENCY, role)

    async def report(n: int) -> str:
        """The incident's id, once its officer has a peer."""
        body = _report(f"BK-{n}", f"K{n:03d}")
        subjects = f"ps.{BACKUP_AGENCY}.assignment.*"
        async with (
            stack.events(subjects, EVENTS.name) as log,
            httpx.AsyncClient(trust_env=False, timeout=10) as client,
        ):
            answer = await client.post(
                f"http://{stack.address('incidents', 8081)}/v1/incidents",
                json=body,
                headers=headers("ingest"),
            )
            assert answer.status_code == 202, answer.text
            await log.wait_for(PeerAssigned, count=1, timeout=60)
        return answer.json()["incident_id"]

    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        roster = f"http://{stack.address('roster', 8082)}"
        await _enrol(client, roster, headers("coordinator"), BACKUP_AGENCY, "S-B0")
    before = await report(1)
    stack.run([str(ROOT / "deploy" / "backup.sh"), "save", str(saved)], **gpg)
    assert (saved / "portal.dump.gpg").stat().st_size > 0  # the portal's sessions too
    held = {p.name: (p.stat().st_mode & 0o777, p.stat().st_uid) for p in saved.iterdir()}
    assert held == {
        f"{name}.gpg": (0o600, os.getuid())
        for name in [f"{db}.dump" for db in BACKED_UP] + [f"nats-{n}.tgz" for n in (1, 2, 3)]
    }
    assert saved.stat().st_mode & 0o777 == 0o700
    after = await report(2)
    stack.run([str(ROOT / "deploy" / "backup.sh"), "restore", str(saved)], **gpg)

    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        incidents = f"http://{stack.address('incidents', 8081)}"  # ports change at a start
        for incident, status in ((before, 200), (after, 404)):
            read = await client.get(
                f"{incidents}/v1/incidents/{incident}", headers=headers("coordinator")
            )
            assert read.status_code == status, read.text
    info = await _stream_info(stack, EVENTS.name, subjects_filter=f"ps.{BACKUP_AGENCY}.>")
    assert info.state.subjects[f"ps.{BACKUP_AGENCY}.incident.reported"] == 1
    assert info.state.subjects[f"ps.{BACKUP_AGENCY}.assignment.made"] == 1
    await report(3)


# What deploy/backup.sh saves: every service's database.
BACKED_UP = ("incidents", "roster", "checkins", "notify", "metrics", "portal")


def _operator_key(home: Path) -> dict[str, str]:
    """A GnuPG home with an operator's key pair, and the settings that encrypt to it."""
    home.mkdir(mode=0o700)
    uid = "Peerline backups <backups@example.org>"

    def gpg(*argv: str) -> str:
        return subprocess.run(
            ["gpg", "--batch", "--passphrase", "", "--pinentry-mode", "loopback", *argv],
            env={**os.environ, "GNUPGHOME": str(home)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    gpg("--quick-gen-key", uid, "ed25519", "cert", "never")
    listed = gpg("--with-colons", "--list-keys", uid).splitlines()
    fingerprint = next(line.split(":")[9] for line in listed if line.startswith("fpr"))
    gpg("--quick-add-key", fingerprint, "cv25519", "encr", "never")
    return {"GNUPGHOME": str(home), "BACKUP_GPG_RECIPIENT": "backups@example.org"}


def _as(secret: str, agency: str, role: str) -> dict[str, str]:
    """Headers of a request made with a token of `role` at `agency`."""
    return {"Authorization": f"Bearer {issue_token(secret, agency=agency, role=role)}"}


def _report(external_id: str, officer: str, occurred_at: datetime | None = None) -> dict:
    """A CAD's report of one officer at a line-of-duty death, by default just now: the
    first offer then lies a day ahead, so no timer fires during a test."""
    return {
        "external_id": external_id,
        "category": "line_of_duty_death",
        "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
        "involved": [{"personnel_id": officer, "role": "primary"}],
    }


async def _enrol(
    client: httpx.AsyncClient, roster: str, headers: dict, agency: str, supporter_id: str
) -> None:
    """A supporter of `agency`, trained in every area until 2099."""
    supporter = {
        "agency_id": agency,
        "personnel_id": f"PSO-{supporter_id}",
        "display_name": "Sam Carter",
        "contact": {"email": "sam.carter@example.org"},
        "availability": {"timezone": "America/Chicago", "weekly": [], "on_call": [], "leave": []},
    }
    url = f"{roster}/v1/supporters/{supporter_id}"
    put = await client.put(url, json=supporter, headers=headers)
    assert put.status_code == 201, put.text
    for area in TrainingArea:
        record = {"completed_on": "2026-01-05", "expires_on": "2099-01-05"}
        trained = await client.put(f"{url}/training/{area}", json=record, headers=headers)
        assert trained.status_code in (200, 201), trained.text


async def _stream_info(stack: Stack, stream: str, **options) -> StreamInfo:
    nc = await stack.connect()
    try:
        return await nc.jetstream().stream_info(stream, **options)
    finally:
        await nc.close()


async def _open_log(
    logs: contextlib.AsyncExitStack, stack: Stack, subject: str, stream: StreamSpec
) -> EventLog:
    """An EventLog, once JetStream can make its consumer: the API times out while the
    cluster elects new leaders after a node's loss."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        try:
            return await logs.enter_async_context(stack.events(subject, stream.name))
        except nats.errors.TimeoutError:
            assert asyncio.get_running_loop().time() < deadline, f"no consumer on {stream.name}"
            await asyncio.sleep(0.5)


async def _consumers(stack: Stack) -> set[tuple[str, str]]:
    """The durable consumers on Peerline's streams, as (stream, name)."""
    nc = await stack.connect()
    try:
        js = nc.jetstream()
        found = set()
        for stream in (EVENTS.name, CHECKINS.name):
            for consumer in await js.consumers_info(stream):
                if consumer.config.durable_name:
                    found.add((stream, consumer.config.durable_name))
        return found
    finally:
        await nc.close()
