"""`peerline demo`: the sample region is the same every run, every row of it is one the
roster takes, its chains of command end at the agency's head; and without a stack the
command says what to start. (`tests/e2e/test_demo.py` runs it against `peerline up`.)"""

from __future__ import annotations

from typer.testing import CliRunner

from peerline.cli import app
from peerline.demo import AGENCIES, incidents, roster, roster_csv
from services.roster.domain import rank_rung
from services.roster.roster_csv import OfficerLine, SupporterLine, parse
from tests.conftest import JWT_SECRET

runner = CliRunner(env={"PEERLINE_JWT_SECRET": JWT_SECRET})


def test_the_region_is_the_size_asked_for_and_the_same_every_time():
    region = {agency.agency_id: roster(agency) for agency in AGENCIES}
    assert sum(len(r.officers) for r in region.values()) == 400
    assert sum(len(r.supporters) for r in region.values()) == 40
    again = {agency.agency_id: roster(agency) for agency in AGENCIES}
    assert again == region
    assert incidents(again) == incidents(region)


def test_every_row_is_one_the_roster_import_takes():
    for agency in AGENCIES:
        region = roster(agency)
        lines, errors = parse(roster_csv(agency, region), agency.agency_id)
        assert errors == []
        supporters = [line for line in lines if isinstance(line, SupporterLine)]
        assert len(supporters) == len(region.supporters)
        assert all(len(line.training) == 5 for line in supporters)  # every area: eligible
        assert sum(isinstance(line, OfficerLine) for line in lines) == len(region.officers)


def test_chains_of_command_climb_the_rank_ladder_to_the_agencys_head():
    for agency in AGENCIES:
        officers = {o.personnel_id: o for o in roster(agency).officers}
        heads = [o for o in officers.values() if o.supervisor_id is None]
        assert [head.rank for head in heads] == [agency.ranks[-1]]
        for officer in officers.values():
            if officer.supervisor_id is not None:
                supervisor = officers[officer.supervisor_id]
                assert rank_rung(supervisor.rank) > rank_rung(officer.rank)


def test_incidents_name_officers_of_their_agency_once_each():
    region = {agency.agency_id: roster(agency) for agency in AGENCIES}
    for incident in incidents(region):
        known = {o.personnel_id for o in region[incident.agency.agency_id].officers}
        named = [personnel_id for personnel_id, _ in incident.involved]
        assert len(set(named)) == len(named) and set(named) <= known
        assert set(incident.preferences) <= set(named)
    sizes = sorted(len(incident.involved) for incident in incidents(region))
    assert sizes == [2, 3, 4, 30]


def test_without_a_running_stack_it_says_what_to_start(tmp_path):
    result = runner.invoke(app, ["demo", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "peerline up" in result.output
