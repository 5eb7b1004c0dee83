"""`peerline schema export`: the contract files describe what the code really sends."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, ValidationError
from typer.testing import CliRunner

from peerline.cli import app
from shared import cloudevents
from shared.events import ALL_EVENTS, FeedbackSubmitted, IncidentReported, Involved

runner = CliRunner()
INTAKE_ADDRESS = "ps.{agency_id}.intake.incident"


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("contract")
    result = runner.invoke(app, ["schema", "export", str(directory)])
    assert result.exit_code == 0, result.output
    assert f"wrote {directory / 'asyncapi.json'}" in result.stdout
    return directory


@pytest.fixture(scope="module")
def asyncapi(contract: Path) -> dict:
    return json.loads((contract / "asyncapi.json").read_text())


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def component(document: dict, ref: str) -> dict:
    """A schema that resolves `ref` against the AsyncAPI document's components."""
    return {"$ref": ref, "components": document["components"]}


def refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


def resolve(document: dict, ref: str) -> object:
    assert ref.startswith("#/"), ref
    node: object = document
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def incident_reported() -> IncidentReported:
    return IncidentReported(
        agency_id="CA0190000",
        incident_id=uuid.uuid4(),
        external_id="24-000123",
        category="officer_involved_shooting",
        involved=[Involved(personnel_id="B1234", role="primary")],
    )


def test_one_valid_json_schema_per_event(contract: Path) -> None:
    files = sorted((contract / "events").glob("*.json"))
    assert [f.name for f in files] == sorted(f"{cls.ce_type()}.json" for cls in ALL_EVENTS)
    for cls in ALL_EVENTS:
        schema = load(contract / "events" / f"{cls.ce_type()}.json")
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["title"] == cls.__name__
        assert schema["x-peerline-subject"] == f"ps.{{agency_id}}.{cls.noun}.{cls.verb}"


@pytest.mark.parametrize(
    "event",
    [FeedbackSubmitted(agency_id="A1", rating=5, would_recommend=True), incident_reported()],
    ids=lambda event: type(event).__name__,
)
def test_a_real_event_validates_against_its_schema(contract: Path, event) -> None:
    schema = validator(load(contract / "events" / f"{event.ce_type()}.json"))
    schema.validate(event.model_dump(mode="json"))


def test_the_schema_rejects_what_the_model_rejects(contract: Path) -> None:
    schema = validator(load(contract / "events" / f"{FeedbackSubmitted.ce_type()}.json"))
    payload = FeedbackSubmitted(agency_id="A1", rating=5, would_recommend=True)
    with pytest.raises(ValidationError):
        schema.validate({**payload.model_dump(mode="json"), "rating": 6})


def test_every_ref_in_the_asyncapi_resolves(asyncapi: dict) -> None:
    found = refs(asyncapi)
    assert found
    for ref in found:
        resolve(asyncapi, ref)


def test_a_channel_for_every_event_and_the_intake(asyncapi: dict) -> None:
    assert asyncapi["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in asyncapi["channels"].values()}
    expected = {f"ps.{{agency_id}}.{cls.noun}.{cls.verb}" for cls in ALL_EVENTS}
    assert addresses == expected | {INTAKE_ADDRESS}
    actions = {
        resolve(asyncapi, op["channel"]["$ref"])["address"]: op["action"]
        for op in asyncapi["operations"].values()
    }
    assert actions == {address: "send" for address in expected} | {INTAKE_ADDRESS: "receive"}
    streams = {c["address"]: c["x-peerline-stream"] for c in asyncapi["channels"].values()}
    assert streams[INTAKE_ADDRESS] == "PEERLINE_INTAKE"
    assert streams["ps.{agency_id}.checkin.due"] == "PEERLINE_CHECKINS"
    assert streams["ps.{agency_id}.incident.reported"] == "PEERLINE_EVENTS"


def test_encoded_headers_and_payload_match_the_message(asyncapi: dict) -> None:
    event = incident_reported()
    payload, headers = cloudevents.encode(event, source="peerline/incidents")
    message = asyncapi["components"]["messages"]["IncidentReported"]
    assert message["contentType"] == "application/json"
    validator(component(asyncapi, message["payload"]["$ref"])).validate(json.loads(payload))
    validator(message["headers"]).validate(headers)
    with pytest.raises(ValidationError):
        validator(message["headers"]).validate({**headers, "ce-type": "peerline.other.v1"})


def test_the_intake_message_is_the_raw_report(asyncapi: dict) -> None:
    message = asyncapi["components"]["messages"]["IncidentReport"]
    report = {
        "external_id": "24-000123",
        "source_type": "SHOOT",
        "occurred_at": "2026-11-25T22:14:00-06:00",
        "involved": [{"personnel_id": "B1234", "role": "primary"}],
    }
    validator(component(asyncapi, message["payload"]["$ref"])).validate(report)


def test_the_incidents_openapi_has_the_intake_route(contract: Path) -> None:
    document = load(contract / "openapi" / "incidents.json")
    assert "202" in document["paths"]["/v1/incidents"]["post"]["responses"]
