"""The regional compose file, read without an engine: valid against the Compose
Specification, and shaped as docs/deployment.md promises."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from shared.settings import Settings
from tests.support.requires import unavailable

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# The contract's schemas sit beside the project (../shared); a clone elsewhere finds
# them where the machine keeps them.
SCHEMA = next(
    (
        place / "schemas" / "compose-spec.json"
        for place in (ROOT.parent / "shared", Path("/work/shared"))
        if (place / "schemas" / "compose-spec.json").exists()
    ),
    ROOT.parent / "shared" / "schemas" / "compose-spec.json",
)
# The services on the bus, and every service (the portal has no bus).
BUS_SERVICES = ("incidents", "roster", "checkins", "notify", "metrics")
SERVICES = (*BUS_SERVICES, "portal")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _schema() -> dict:
    if not SCHEMA.exists():
        unavailable(f"the Compose Specification schema is not at {SCHEMA}")
    return json.loads(SCHEMA.read_text())


def test_the_compose_file_follows_the_compose_specification(compose):
    validator = jsonschema.Draft7Validator(_schema())
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_a_file_that_breaks_the_specification_is_caught(compose):
    broken = {**compose, "services": {**compose["services"], "incidents": {"imag": "x"}}}
    assert not jsonschema.Draft7Validator(_schema()).is_valid(broken)


def test_every_service_runs_from_one_image_with_its_own_command(compose):
    services = compose["services"]
    images = {services[name]["image"] for name in SERVICES}
    assert images == {"${PEERLINE_IMAGE:-peerline:latest}"}
    for name in SERVICES:
        assert services[name]["command"] == ["python", "-m", f"services.{name}"]


def test_images_default_to_public_names_that_a_variable_replaces(compose):
    for service in compose["services"].values():
        assert re.fullmatch(r"\$\{[A-Z_]+_IMAGE:-[a-z0-9./_-]+:[\w.-]+\}", service["image"])


def test_services_can_scale_and_start_after_healthy_dependencies(compose):
    services = compose["services"]
    for name in SERVICES:
        service = services[name]
        assert "container_name" not in service
        for port in service.get("ports", []):
            # The host side comes from a variable, so it can be left to the engine.
            assert port.startswith("${"), port
        assert "postgres" in service["depends_on"]
        if name in BUS_SERVICES:
            assert set(service["depends_on"]) == {"nats-1", "nats-2", "nats-3", "postgres"}
            assert service["environment"]["PEERLINE_STREAM_REPLICAS"] == "3"
        assert {d["condition"] for d in service["depends_on"].values()} == {"service_healthy"}
        assert "healthcheck" in service
        env = service["environment"]
        assert env["PEERLINE_DATABASE_URL"].endswith(f"@postgres:5432/{name}")
        assert env["PEERLINE_DATABASE_URL"].startswith(f"postgresql+asyncpg://{name}:")
        assert f"${{{name.upper()}_DB_PASSWORD}}" in env["PEERLINE_DATABASE_URL"]


def test_every_database_is_created_and_backed_up(compose):
    """The first start creates, and the backup saves, one database per service, each
    with the password PostgreSQL's container is given."""
    init = (DEPLOY / "postgres" / "init-databases.sh").read_text()
    [created] = re.findall(r"\$\{PEERLINE_DATABASES:-([a-z ]+)\}", init)
    [saved] = re.findall(r"^databases=\(([a-z ]+)\)$", (DEPLOY / "backup.sh").read_text(), re.M)
    assert set(created.split()) == set(saved.split()) == set(SERVICES)
    postgres = compose["services"]["postgres"]["environment"]
    assert {f"{name.upper()}_DB_PASSWORD" for name in SERVICES} <= postgres.keys()


def test_nats_is_a_three_node_cluster_that_syncs_every_write():
    config = (DEPLOY / "nats" / "nats-server.conf").read_text()
    assert re.search(r"^\s*sync_interval:\s*always\s*$", config, re.M)
    assert all(f"nats-route://nats-{n}:6222" in config for n in (1, 2, 3))


def test_observability_is_an_optional_profile(compose):
    """Phoenix and Prometheus only (Phoenix receives OTLP itself: no collector), which
    nothing in the core stack waits on; Prometheus scrapes one job per service, named
    after it, and loads the region's alerts (decision 78)."""
    services = compose["services"]
    profiled = {name for name, s in services.items() if "profiles" in s}
    assert profiled == {"phoenix", "prometheus"}
    for name in profiled:
        assert services[name]["profiles"] == ["observability"]
        assert "healthcheck" in services[name]
    core = [s for s in services.values() if "profiles" not in s]
    assert all(not profiled & set(s.get("depends_on", {})) for s in core)
    # The services' endpoint, as the docs set it, is Phoenix's OTLP/HTTP port.
    assert services["phoenix"]["ports"] == ["${PHOENIX_PUBLISH:-127.0.0.1:6006}:6006"]
    assert services["phoenix"]["environment"]["PHOENIX_TELEMETRY_ENABLED"] == "false"
    assert services["phoenix"]["environment"]["PHOENIX_ALLOW_EXTERNAL_RESOURCES"] == "false"

    prometheus = services["prometheus"]
    assert "./alerts.yaml:/etc/prometheus/alerts.yaml:ro" in prometheus["volumes"]
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yaml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == set(SERVICES)
    for name in SERVICES:
        port = services[name]["environment"]["PEERLINE_PORT"]
        assert jobs[name]["static_configs"] == [{"targets": [f"{name}:{port}"]}]


def test_no_secret_is_committed():
    """Every secret in the example env file is empty: operators generate their own."""
    example = (DEPLOY / ".env.example").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in example if line and line[0] not in "# ")
    secrets = {k: v for k, v in settings.items() if re.search("PASSWORD|SECRET|KEY", k)}
    assert len(secrets) == 12
    assert set(secrets.values()) == {""}


def test_nats_asks_every_client_for_a_user_of_nats_config(compose):
    """The nodes include the generated accounts (never an empty directory in their
    place), and every service connects as its own user (decision 67)."""
    config = (DEPLOY / "nats" / "nats-server.conf").read_text()
    assert re.search(r"^include auth/accounts\.conf$", config, re.M)
    services = compose["services"]
    for node in ("nats-1", "nats-2", "nats-3"):
        [accounts] = [
            v
            for v in services[node]["volumes"]
            if isinstance(v, dict) and v["target"] == "/etc/nats/auth/accounts.conf"
        ]
        assert accounts["bind"] == {"create_host_path": False}
        assert accounts["read_only"] is True
    for name in BUS_SERVICES:
        [credentials] = [e for e in services[name]["env_file"] if "credentials" in e["path"]]
        assert credentials == {
            "path": f"${{NATS_AUTH_DIR:-./nats/auth}}/credentials/{name}.env",
            "required": True,
        }


def test_the_portal_is_a_region_s_portal(compose):
    """No bus and no NATS credentials; the services at their compose addresses; the
    sign-in with the region's identity provider; secure cookies; never the local
    sign-in; the published port from a variable."""
    services = compose["services"]
    portal = services["portal"]
    env = portal["environment"]
    assert portal["env_file"] == [{"path": "peerline.env", "required": False}]
    assert not portal["volumes"]
    assert not any(k.startswith("PEERLINE_NATS") for k in env)
    assert env["PEERLINE_PORT"] == "8080"
    for name in BUS_SERVICES:
        port = services[name]["environment"]["PEERLINE_PORT"]
        assert env[f"PEERLINE_{name.upper()}_URL"] == f"http://{name}:{port}"
    assert env["PEERLINE_JWT_SECRET"] == services["incidents"]["environment"]["PEERLINE_JWT_SECRET"]
    assert "PEERLINE_PORTAL_LOCAL_SIGNIN" not in env
    assert env["PEERLINE_PORTAL_SECURE_COOKIES"] == "${PEERLINE_PORTAL_SECURE_COOKIES:-true}"
    for setting in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET"):
        assert env[f"PEERLINE_OIDC_{setting}"] == f"${{PEERLINE_OIDC_{setting}:-}}"
    # An empty claim name would replace the portal's default and match no claim, so the
    # defaults here are the portal's own.
    for setting in ("SCOPES", "AGENCY_CLAIM", "ROLE_CLAIM", "SUBJECT_CLAIM", "NAME_CLAIM"):
        default = Settings.model_fields[f"oidc_{setting.lower()}"].default
        assert env[f"PEERLINE_OIDC_{setting}"] == f"${{PEERLINE_OIDC_{setting}:-{default}}}"
    assert env["PEERLINE_CRISIS_LINES"] == "${PEERLINE_CRISIS_LINES:-}"
    assert portal["ports"] == ["${PORTAL_PUBLISH:-127.0.0.1:8080}:8080"]
    # Notifications link to the portal's public address, by default where it is published.
    notify = services["notify"]["environment"]
    assert notify["PEERLINE_PORTAL_URL"] == "${PEERLINE_PORTAL_URL:-http://127.0.0.1:8080}"
