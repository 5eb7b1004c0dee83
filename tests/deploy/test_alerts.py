"""The region's alert rules (deploy/alerts.yaml): valid and passing their unit tests
under Prometheus's own rule tester (`promtool`, Debian's `prometheus` package, which
.ci/run installs), every alert with a fixture that fires it and one that does not,
labelled and annotated for the person on call, and reading only metrics the services
export."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.requires import unavailable

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "alerts.yaml"
RULE_TESTS = ROOT / "deploy" / "alerts.test.yaml"
OPERATIONS = ROOT / "docs" / "operations.md"
# Where the services' metrics are defined: the repository's Python sources, not its tests.
SOURCES = ("shared", "services", "peerline")

# Metrics the rules read that the services are about to export (another change adds
# them): listed here until the source tree names them, and only until then. A name the
# rules read must be in the source tree or here; a name here that the source tree has
# come to name must leave this set, so it only shrinks.
EXPECTED_FROM_SERVICES: set[str] = set()  # all exported now (shared/figures.py, decision 76)

SEVERITIES = {"page", "ticket"}
# The labels an alert may carry into its annotations: none names a person, an agency or
# an id (the services' metrics carry no such label either, docs/operations.md "Health").
ANNOTATED_LABELS = {"job", "instance", "service", "durable", "channel", "kind", "file"}


def _rules() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        unavailable("promtool is not installed (Debian's prometheus package; .ci/run installs it)")
    return found


def _run_promtool(*argv: str) -> None:
    done = subprocess.run(
        [_promtool(), *argv], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, (
        f"`promtool {' '.join(argv)}` failed (exit {done.returncode}):\n"
        f"{done.stdout}\n{done.stderr}"
    )


def test_the_rules_are_valid_for_promtool():
    _run_promtool("check", "rules", str(RULES.relative_to(ROOT)))


def test_the_rules_pass_their_unit_tests_in_promtool():
    _run_promtool("test", "rules", str(RULE_TESTS.relative_to(ROOT)))


def test_every_alert_has_a_firing_and_a_quiet_fixture():
    alerts = {rule["alert"] for rule in _rules()}
    firing: set[str] = set()
    quiet: set[str] = set()
    for group in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for case in group.get("alert_rule_test", []):
            expected = case.get("exp_alerts")
            assert expected is not None, f"{group['name']}: say exp_alerts, [] for none"
            (firing if expected else quiet).add(case["alertname"])
    assert (firing | quiet) - alerts == set(), "the tests name alerts alerts.yaml lacks"
    assert alerts - firing == set(), "alerts without a fixture that fires them"
    assert alerts - quiet == set(), "alerts without a fixture that does not fire them"


def test_every_alert_has_a_severity_and_points_to_its_section_of_the_operations_doc():
    alerts_section = OPERATIONS.read_text().split("\n## Alerts\n", 1)
    assert len(alerts_section) == 2, 'docs/operations.md has no "## Alerts" section'
    headings = set(re.findall(r"^### (\w+)$", alerts_section[1].split("\n## ", 1)[0], re.M))
    for rule in _rules():
        name = rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES, name
        annotations = rule["annotations"]
        assert set(annotations) >= {"summary", "description"}, name
        assert f"docs/operations.md#{name.lower()}" in annotations["description"], name
        assert name in headings, f'docs/operations.md, "Alerts", has no "### {name}"'


def test_annotations_name_only_labels_that_carry_no_personal_data():
    for rule in _rules():
        shown = {
            label
            for text in rule["annotations"].values()
            for label in re.findall(r"\$labels\.(\w+)", text)
        }
        assert shown <= ANNOTATED_LABELS, (rule["alert"], shown - ANNOTATED_LABELS)


def _names_in_source_tree(names: set[str]) -> set[str]:
    """Which of these metric names a Python source of the services defines. A counter
    may be declared without its `_total`, which prometheus_client adds."""
    text = "\n".join(
        path.read_text()
        for directory in SOURCES
        for path in (ROOT / directory).rglob("*.py")
        if not path.name.startswith("test_")
    )
    found = set()
    for name in names:
        base = name.removesuffix("_total")
        suffix = "(?:_total)?" if name.endswith("_total") else ""
        if re.search(rf"(?<!\w){re.escape(base)}{suffix}(?!\w)", text):
            found.add(name)
    return found


def test_every_metric_the_rules_read_is_one_the_services_export():
    used = {name for rule in _rules() for name in re.findall(r"\bpeerline_\w+", str(rule["expr"]))}
    exported = _names_in_source_tree(used | EXPECTED_FROM_SERVICES)
    assert used - exported - EXPECTED_FROM_SERVICES == set(), (
        "the rules read metrics no service exports (a typo, or a name the services changed)"
    )
    assert EXPECTED_FROM_SERVICES - used == set(), (
        "EXPECTED_FROM_SERVICES lists names the rules no longer read: remove them"
    )
    assert EXPECTED_FROM_SERVICES & exported == set(), (
        "the services now export these: remove them from EXPECTED_FROM_SERVICES"
    )
