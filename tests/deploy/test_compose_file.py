"""The regional compose file, read without an engine: valid against the Compose
Specification, and shaped as docs/deployment.md promises."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

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
SERVICES = ("incidents", "roster", "checkins", "notify", "metrics")


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
        assert set(service["depends_on"]) == {"nats-1", "nats-2", "nats-3", "postgres"}
        assert {d["condition"] for d in service["depends_on"].values()} == {"service_healthy"}
        assert "healthcheck" in service
        env = service["environment"]
        assert env["PEERLINE_STREAM_REPLICAS"] == "3"
        assert env["PEERLINE_DATABASE_URL"].endswith(f"@postgres:5432/{name}")
        assert env["PEERLINE_DATABASE_URL"].startswith(f"postgresql+asyncpg://{name}:")


def test_nats_is_a_three_node_cluster_that_syncs_every_write():
    config = (DEPLOY / "nats" / "nats-server.conf").read_text()
    assert re.search(r"^\s*sync_interval:\s*always\s*$", config, re.M)
    assert all(f"nats-route://nats-{n}:6222" in config for n in (1, 2, 3))


def test_observability_is_an_optional_profile(compose):
    services = compose["services"]
    for name in ("otel-collector", "jaeger"):
        assert services[name]["profiles"] == ["observability"]
    core = [s for s in services.values() if "profiles" not in s]
    assert all("otel-collector" not in s.get("depends_on", {}) for s in core)


def test_no_secret_is_committed():
    """Every secret in the example env file is empty: operators generate their own."""
    example = (DEPLOY / ".env.example").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in example if line and line[0] not in "# ")
    secrets = {k: v for k, v in settings.items() if re.search("PASSWORD|SECRET|KEY", k)}
    assert len(secrets) == 9
    assert set(secrets.values()) == {""}


def test_nats_asks_every_client_for_a_user_of_nats_config(compose):
    """The nodes include the generated accounts (never an empty directory in their
    place), and every service connects as the services' user."""
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
    for name in SERVICES:
        [credentials] = [e for e in services[name]["env_file"] if "credentials" in e["path"]]
        assert credentials == {
            "path": "${NATS_AUTH_DIR:-./nats/auth}/credentials/peerline.env",
            "required": True,
        }
