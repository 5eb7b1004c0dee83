"""A use case's refusal becomes its problem document in one place, whatever raised it."""

from __future__ import annotations

import json

import pytest

from shared.errors import Conflict, Invalid, NotAllowed, NotFound
from shared.problems import PROBLEM_JSON, domain_problem

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("No supporter has this id."), 404),
        (NotAllowed("This check-in is another supporter's."), 403),
        (Conflict("Another supporter of the agency has this personnel_id."), 409),
    ],
)
def test_each_kind_of_refusal_has_its_status(error, status):
    answer = domain_problem(error)
    body = json.loads(answer.body)
    assert answer.status_code == status and answer.media_type == PROBLEM_JSON
    assert body["status"] == status and body["detail"] == error.message


def test_an_invalid_field_is_named_as_a_request_models_would_be():
    body = json.loads(domain_problem(Invalid("supervisor_id", "not their own supervisor")).body)
    assert body["status"] == 422
    assert body["errors"] == [{"loc": ["supervisor_id"], "msg": "not their own supervisor"}]
