"""Errors as `application/problem+json` (RFC 9457).

Callers' mistakes are 4xx with the field at fault; the messages never echo the input
values, since a rejected body may carry exactly the personal data we refuse to keep.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import Conflict, DomainError, Invalid, Malformed, NotAllowed, NotFound

PROBLEM_JSON = "application/problem+json"
_LOC_PART = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Problem(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.extra = extra


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`{loc, msg}` pairs from pydantic errors, without the offending input values."""
    out = []
    for err in errors:
        if err.get("type") == "json_invalid":
            out.append({"loc": [], "msg": "body is not valid JSON"})
            continue
        loc = [
            p if isinstance(p, int) or _LOC_PART.fullmatch(str(p)) else "?"
            for p in err.get("loc", ())
            if p != "body"
        ]
        out.append({"loc": loc, "msg": str(err.get("msg", "invalid"))})
    return out


def problem_response(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _validation_problem(errors: list[dict[str, Any]]) -> JSONResponse:
    errs = field_errors(errors)
    first = ".".join(str(p) for p in errs[0]["loc"]) if errs else "body"
    detail = f"{first or 'body'}: {errs[0]['msg']}" if errs else "The body is not valid."
    return problem_response(422, "Unprocessable Content", detail, errors=errs)


DOMAIN_STATUS: dict[type[DomainError], tuple[int, str]] = {
    Malformed: (400, "Bad Request"),
    NotFound: (404, "Not Found"),
    NotAllowed: (403, "Forbidden"),
    Conflict: (409, "Conflict"),
    Invalid: (422, "Unprocessable Content"),
}


def domain_problem(exc: DomainError) -> JSONResponse:
    """The problem document of a use case's refusal: the one place its kind becomes a
    status. A 422 names the fields at fault in `errors`, as a request model's would."""
    status, title = next(v for k, v in DOMAIN_STATUS.items() if isinstance(exc, k))
    detail = exc.message
    if isinstance(exc, Invalid) and exc.field is not None:
        detail = f"{exc.field}: {exc.message}"
    extra = exc.details if exc.errors is None else exc.details | {"errors": exc.errors}
    return problem_response(status, title, detail, **extra)


def install_problem_handlers(
    app: FastAPI, unavailable: Callable[[], Awaitable[bool]] | None = None
) -> None:
    """Problem documents for every error. An unexpected error while `unavailable()` is
    true (the database is down) is a 503 the caller may retry, not a 500."""

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_problem(list(exc.errors()))

    @app.exception_handler(json.JSONDecodeError)
    async def _bad_json(_: Request, exc: json.JSONDecodeError) -> JSONResponse:
        return problem_response(400, "Bad Request", "The body is not valid JSON.")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Logged by the server with its traceback; the caller learns nothing internal.
        if unavailable is not None and await unavailable():
            response = problem_response(
                503, "Service Unavailable", "The database is unavailable; retry later."
            )
            response.headers["Retry-After"] = "5"
            return response
        return problem_response(500, "Internal Server Error", "Something went wrong.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem_response(exc.status_code, _title(exc.status_code), str(exc.detail))
        response.headers.update(exc.headers or {})  # e.g. `Allow` on a 405
        return response


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
