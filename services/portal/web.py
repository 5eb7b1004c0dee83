"""What every page shares: the session of the request, who may open a page, forms
protected against cross-site forgery, and rendering a template with the frame every
page has (navigation by role, the crisis lines, the anti-forgery token).

Routes stay thin: they take the person from `Officer`, `Supporter` and the like
(`signed_in`), call the services through `Backend`, and render. A service's refusal
(`Refused`) or absence (`Unavailable`) becomes a page in one place,
`install_error_pages`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.tokens import Role

from . import domain
from .backend import Backend, Refused, Unavailable
from .domain import Person
from .sessions import COOKIE, Session, SessionStore

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["labels"] = {
    "channels": domain.CHANNELS,
    "durations": domain.DURATIONS,
    "outcomes": domain.OUTCOMES,
    "initiators": domain.INITIATORS,
    "resource_types": domain.RESOURCE_TYPES,
    "urgencies": domain.URGENCIES,
    "preferred": domain.PREFERRED_WAYS,
    "asked": domain.ASKED_THIS_TIME,
}


def when(value: str | datetime | None, fmt: str = "%a %d %b, %H:%M UTC") -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).strftime(fmt)


templates.env.filters["when"] = when
templates.env.filters["day"] = lambda v: when(v, "%d %b %Y")
templates.env.filters["dial"] = lambda number: "".join(
    c for c in str(number or "") if c.isdigit() or c == "+"
)
templates.env.filters["duration"] = domain.describe_duration
templates.env.filters["words"] = lambda code: str(code or "").replace("_", " ")


class SignInNeeded(Exception):
    def __init__(self, next_page: str) -> None:
        self.next_page = next_page


class NotYours(Exception):
    """The signed-in person's role has no business on this page."""


def store(request: Request) -> SessionStore:
    return request.app.state.sessions


def backend(request: Request) -> Backend:
    return request.app.state.backend


async def current_session(request: Request) -> Session | None:
    if "session" not in request.scope.setdefault("state", {}):
        request.state.session = await store(request).load(request.cookies.get(COOKIE))
    return request.state.session


def signed_in(*roles: Role):
    """Dependency: the signed-in person, if their role is one of `roles` (any portal
    role when none are named); otherwise to the sign-in page, or a 403 page."""

    async def dependency(request: Request) -> Person:
        session = await current_session(request)
        if session is None or session.person is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInNeeded(target)
        if roles and session.person.role not in roles:
            raise NotYours
        return session.person

    return dependency


Anyone = Annotated[Person, Depends(signed_in())]
Officer = Annotated[Person, Depends(signed_in(Role.OFFICER))]
Supporter = Annotated[Person, Depends(signed_in(Role.SUPPORTER))]
Coordinator = Annotated[Person, Depends(signed_in(Role.COORDINATOR))]
Leader = Annotated[Person, Depends(signed_in(*domain.LEADERS))]


async def form_of(request: Request) -> dict[str, Any]:
    """The posted form, after checking its anti-forgery token against the session's
    (and the Origin header, where the browser sends one). A forged post is a 403."""
    form = await request.form()
    session = await current_session(request)
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise NotYours
    if session is None or not session.csrf_ok(form.get("csrf")):
        raise NotYours
    return {key: form.getlist(key) if len(form.getlist(key)) > 1 else form.get(key) for key in form}


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    session = request.state.session if "session" in request.scope.get("state", {}) else None
    person = session.person if session else None
    frame = {
        "person": person,
        "navigation": domain.NAVIGATION.get(person.role, ()) if person else (),
        "crisis": request.app.state.crisis_lines[0],
        "csrf": session.csrf if session else "",
        "path": request.url.path,
    }
    return templates.TemplateResponse(
        request, template, {**frame, **(context or {})}, status_code=status
    )


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def invalid_fields(refused: Refused, *also: int) -> dict[str, str]:
    """What a form shows when a service refused its input: the `{loc, msg}` errors by
    the field they name (the last part). A refusal of another kind than 422 (or the
    statuses in `also`) is not the form's to show: it goes on up to the error pages."""
    if refused.status not in (422, *also):
        raise refused
    out: dict[str, str] = {}
    for error in refused.errors:
        loc = [str(part) for part in error.get("loc", []) if part not in ("body", "query")]
        out.setdefault(loc[-1] if loc else "", str(error.get("msg", "invalid")))
    return out


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInNeeded)
    async def sign_in(request: Request, exc: SignInNeeded) -> Response:
        return see_other(f"/signin?next={quote(exc.next_page, safe='')}")

    @app.exception_handler(NotYours)
    async def not_yours(request: Request, exc: NotYours) -> Response:
        return render(request, "error.html", {"title": "Not for this account"}, status=403)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        titles = {403: "Not for this account", 404: "Not found"}
        title = titles.get(exc.status, "That did not work")
        context = {"title": title, "detail": exc.detail}
        return render(request, "error.html", context, status=exc.status)

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> Response:
        context = {
            "title": "Not available just now",
            "detail": f"The {exc.service} service did not answer. Please try again in a moment.",
        }
        return render(request, "error.html", context, status=503)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title = "Not found" if exc.status_code == 404 else "That did not work"
        return render(request, "error.html", {"title": title}, status=exc.status_code)
