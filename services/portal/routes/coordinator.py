"""The coordinator's pages: what needs attention (unfilled assignments, overdue
offers: never which officer), what is waiting for a peer (assignments and officers'
requests nobody took in time: never who asked) and giving it to a supporter, the roster
and its CSV import, resources, the check-in policy, feedback codes as printable cards,
intake settings and notification delivery.

A coordinator never sees an officer's contact details: no page here asks the roster
for them, and the roster would refuse if one did.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shared.vocab import Category, ResourceType

from ..backend import Refused
from ..domain import days_as_durations, hours_as_duration, waiting_words
from ..web import Coordinator, backend, form_of, invalid_fields, render, see_other

router = APIRouter()


@router.get("/queue", include_in_schema=False)
async def queue(request: Request, person: Coordinator) -> Response:
    unfilled = await backend(request).get(person, "roster", "/v1/unfilled")
    overdue = await backend(request).get(
        person, "checkins", "/v1/checkins", params={"status": "overdue"}
    )
    return render(request, "queue.html", {"unfilled": unfilled, "overdue": overdue})


@router.get("/waiting", include_in_schema=False)
async def waiting(request: Request, person: Coordinator) -> Response:
    return await _waiting_page(request, person)


async def _waiting_page(
    request: Request, person, *, errors: dict | None = None, status: int = 200
) -> Response:
    """Each assignment nobody took in time, with whom it could go to: the agency's
    active supporters (the roster says at once if one cannot take it)."""
    listed = await backend(request).get(person, "roster", "/v1/waiting")
    supporters = await backend(request).get(person, "roster", "/v1/supporters")
    now = datetime.now(UTC)
    names = {s["supporter_id"]: s["display_name"] for s in supporters}
    given = request.query_params.get("given")
    context = {
        "waiting": [{**item, "words": waiting_words(item, now)} for item in listed],
        "supporters": [s for s in supporters if s.get("active")],
        "given": names.get(given) if given else None,
        "errors": errors or {},
    }
    return render(request, "waiting.html", context, status=status)


@router.post("/waiting/{assignment_id}/give", include_in_schema=False)
async def give(request: Request, person: Coordinator, assignment_id: uuid.UUID) -> Response:
    """Give a waiting assignment to one of the agency's supporters, who is notified."""
    form = await form_of(request)
    supporter_id = str(form.get("supporter_id") or "")
    key = str(assignment_id)
    if not supporter_id:
        errors = {key: "Choose a supporter to give it to."}
        return await _waiting_page(request, person, errors=errors, status=422)
    try:
        await backend(request).send(
            person,
            "roster",
            "POST",
            f"/v1/waiting/{assignment_id}/give",
            {"supporter_id": supporter_id},
        )
    except Refused as refused:
        known = {
            404: "It is no longer waiting.",
            409: "This supporter cannot take it now (at their limit, away, not "
            "certified, or too close to the officer): choose someone else.",
        }
        message = known.get(refused.status) or next(
            iter(invalid_fields(refused).values()), refused.detail
        )
        return await _waiting_page(request, person, errors={key: message}, status=422)
    return see_other(f"/waiting?given={quote(supporter_id, safe='')}")


@router.get("/roster", include_in_schema=False)
async def roster(request: Request, person: Coordinator) -> Response:
    return await _roster_page(request, person)


async def _roster_page(
    request: Request,
    person,
    *,
    result: dict | None = None,
    problem: dict | None = None,
    status: int = 200,
) -> Response:
    supporters = await backend(request).get(person, "roster", "/v1/supporters")
    coordinators = await backend(request).get(person, "roster", "/v1/coordinators")
    officers = await backend(request).get(person, "roster", "/v1/officers")
    context = {
        "supporters": supporters,
        "officers": officers,
        "coordinators": coordinators,
        "result": result,
        "problem": problem,
    }
    return render(request, "roster.html", context, status=status)


@router.post("/roster/import", include_in_schema=False)
async def import_roster(request: Request, person: Coordinator) -> Response:
    """The spreadsheet's CSV, all or nothing: the roster checks every row, and its
    row and column errors are shown in the page to fix and try again."""
    form = await form_of(request)
    upload = form.get("file")
    content = await upload.read() if hasattr(upload, "read") else b""
    if not content:
        problem = {"detail": "Choose a CSV file to import.", "errors": []}
        return await _roster_page(request, person, problem=problem, status=422)
    try:
        response = await backend(request).request(
            person,
            "roster",
            "POST",
            "/v1/imports",
            content=content,
            headers={"Content-Type": "text/csv"},
        )
    except Refused as refused:
        invalid_fields(refused)  # a 422 is the file's fault; anything else goes on up
        problem = {"detail": refused.detail, "errors": refused.errors}
        return await _roster_page(request, person, problem=problem, status=422)
    return await _roster_page(request, person, result=response.json())


@router.get("/policy", include_in_schema=False)
async def policy(request: Request, person: Coordinator) -> Response:
    return await _policy_page(request, person)


async def _policy_page(
    request: Request, person, errors: dict | None = None, status: int = 200
) -> Response:
    policies = await backend(request).get(person, "checkins", "/v1/policies")
    context = {"policies": policies, "categories": ["default", *Category], "errors": errors or {}}
    return render(request, "policy.html", context, status=status)


@router.post("/policy", include_in_schema=False)
async def set_policy(request: Request, person: Coordinator) -> Response:
    """One category's offers (or the agency's default), in hours and days."""
    form = await form_of(request)
    category = str(form.get("category") or "default")
    body = {
        "first_offer_after": hours_as_duration(str(form.get("first_offer_hours") or "")),
        "window_closes_after": hours_as_duration(str(form.get("window_hours") or "")),
        "follow_ups": days_as_durations(str(form.get("follow_up_days") or "")),
        "anniversary_after": "P365D" if form.get("anniversary") == "on" else None,
        "follow_up_min_gap": days_as_durations(str(form.get("gap_days") or "3")),
    }
    wrong = {k: "a whole number" for k, v in body.items() if v is None and k != "anniversary_after"}
    if wrong:
        return await _policy_page(request, person, wrong, status=422)
    if len(body["follow_up_min_gap"]) != 1:
        return await _policy_page(request, person, {"follow_up_min_gap": "one number"}, 422)
    body["follow_up_min_gap"] = body["follow_up_min_gap"][0]
    try:
        await backend(request).send(person, "checkins", "PUT", f"/v1/policies/{category}", body)
    except Refused as refused:
        return await _policy_page(request, person, invalid_fields(refused), status=422)
    return see_other("/policy?saved=1")


@router.post("/resources", include_in_schema=False)
async def add_resource(request: Request, person: Coordinator) -> Response:
    """A resource of the agency, added from the resources page; or one retired."""
    form = await form_of(request)
    retire = form.get("retire")
    if retire:
        listed = await backend(request).get(person, "roster", "/v1/resources")
        mine = [r for r in listed if r["resource_id"] == retire and r["agency_id"] == person.agency]
        if mine:
            body = {
                k: mine[0][k]
                for k in ("name", "resource_type", "phone", "url", "crisis_line", "always_open")
            }
            await backend(request).send(
                person, "roster", "PUT", f"/v1/resources/{retire}", {**body, "active": False}
            )
        return see_other("/resources")
    body = {
        "name": str(form.get("name") or "").strip(),
        "resource_type": form.get("resource_type"),
        "phone": str(form.get("phone") or "").strip() or None,
        "url": str(form.get("url") or "").strip() or None,
        "crisis_line": form.get("crisis_line") == "on",
        "always_open": form.get("always_open") == "on",
    }
    resource_id = f"r-{uuid.uuid4().hex[:12]}"
    try:
        await backend(request).send(person, "roster", "PUT", f"/v1/resources/{resource_id}", body)
    except Refused as refused:
        listed = await backend(request).get(person, "roster", "/v1/resources")
        context = {
            "resources": listed,
            "types": list(ResourceType),
            "form": body,
            "errors": invalid_fields(refused),
        }
        return render(request, "resources.html", context, status=422)
    return see_other("/resources?saved=1")


@router.get("/feedback-codes", include_in_schema=False)
async def feedback_codes(request: Request, person: Coordinator) -> Response:
    return render(request, "feedback_codes.html", {"codes": [], "errors": {}})


@router.post("/feedback-codes", include_in_schema=False)
async def issue_feedback_codes(request: Request, person: Coordinator) -> Response:
    """Codes are shown this once, as cards to print: only their hashes are kept."""
    form = await form_of(request)
    count = str(form.get("count") or "")
    try:
        answer = await backend(request).send(
            person,
            "checkins",
            "POST",
            "/v1/feedback/codes",
            {"count": int(count) if count.isdigit() else 0},
        )
    except Refused as refused:
        context = {"codes": [], "errors": invalid_fields(refused)}
        return render(request, "feedback_codes.html", context, status=422)
    return render(request, "feedback_codes.html", {"codes": answer["codes"], "errors": {}})


@router.get("/intake", include_in_schema=False)
async def intake(request: Request, person: Coordinator) -> Response:
    return await _intake_page(request, person)


async def _intake_page(
    request: Request, person, errors: dict | None = None, status: int = 200
) -> Response:
    source_types = await backend(request).get(person, "incidents", "/v1/source-types")
    eido = await backend(request).get(person, "incidents", "/v1/eido/settings")
    context = {
        "source_types": source_types,
        "eido": eido,
        "categories": list(Category),
        "errors": errors or {},
    }
    return render(request, "intake.html", context, status=status)


@router.post("/intake/source-types", include_in_schema=False)
async def map_source_type(request: Request, person: Coordinator) -> Response:
    """Map one of the dispatch system's codes to a category (or not critical), or drop
    the agency's own mapping so the default applies again."""
    form = await form_of(request)
    code = str(form.get("code") or "").strip()
    if not code or "/" in code:
        return await _intake_page(request, person, {"code": "a code is needed"}, status=422)
    try:
        if form.get("reset"):
            await backend(request).send(person, "incidents", "DELETE", f"/v1/source-types/{code}")
        else:
            category = form.get("category") or None
            await backend(request).send(
                person, "incidents", "PUT", f"/v1/source-types/{code}", {"category": category}
            )
    except Refused as refused:
        errors = invalid_fields(refused, 404) or {"code": refused.detail}
        return await _intake_page(request, person, errors, status=422)
    return see_other("/intake?saved=1")


@router.post("/intake/eido", include_in_schema=False)
async def set_eido(request: Request, person: Coordinator) -> Response:
    """How the agency's EIDO documents are read: which EIDO agency ids are this agency,
    whether dispatchers count as involved, and where personnel ids come from."""
    form = await form_of(request)
    ids = [part.strip() for part in str(form.get("agency_identifiers") or "").split(",")]
    body = {
        "agency_identifiers": [part for part in ids if part],
        "dispatchers": form.get("dispatchers") == "on",
        "personnel_id": form.get("personnel_id"),
    }
    try:
        await backend(request).send(person, "incidents", "PUT", "/v1/eido/settings", body)
    except Refused as refused:
        return await _intake_page(request, person, invalid_fields(refused), status=422)
    return see_other("/intake?saved=1")


@router.get("/notifications", include_in_schema=False)
async def notifications(request: Request, person: Coordinator) -> Response:
    listed = await backend(request).get(person, "notify", "/v1/notifications")
    return render(request, "notifications.html", {"notifications": listed})


# Where notifications' links for coordinators lead.


@router.get("/checkins/{reference}", include_in_schema=False)
async def overdue_link(person: Coordinator, reference: str) -> Response:
    return see_other("/queue")


@router.get("/incidents/{reference}", include_in_schema=False)
async def unfilled_link(person: Coordinator, reference: str) -> Response:
    return see_other("/queue")


@router.get("/waiting/{reference}", include_in_schema=False)
async def escalated_link(person: Coordinator, reference: str) -> Response:
    return see_other("/waiting")
