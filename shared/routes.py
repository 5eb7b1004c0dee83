"""What every service's routes share: the runtime and the objects it provides as
dependencies, the problem answers they document, and a 422 that names the field at
fault."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.service import ServiceRuntime


async def _runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


Runtime = Annotated[ServiceRuntime, Depends(_runtime)]


class Provided:
    """`Provided[Sealer]`: a route's parameter of the object the service wired with
    `runtime.provide(...)`."""

    def __class_getitem__(cls, kind: type):
        async def provided(request: Request):
            return request.app.state.runtime.provided(kind)

        return Annotated[kind, Depends(provided)]


def problems(**descriptions: str) -> dict[int, dict[str, str]]:
    """The problem answers a route documents: the common ones, with a service's own
    wording where it gives one (`problems(s404="No such incident")`)."""
    answers = {
        400: "The body could not be parsed",
        401: "No valid bearer token",
        403: "Wrong role, or another agency's data",
        404: "No such record",
        408: "The body did not arrive in time",
        413: "The body is larger than the service accepts",
        422: "Invalid body or query; `errors` names each field at fault",
    }
    answers |= {int(code.removeprefix("s")): text for code, text in descriptions.items()}
    return {code: {"description": text} for code, text in sorted(answers.items())}
