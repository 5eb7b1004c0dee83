"""The agency's source-type mapping (decision 5): thin, `source_types` does the work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict

from shared.routes import Runtime
from shared.vocab import Category

from .. import source_types
from ..domain import SourceType
from .deps import PROBLEMS, Coordinator

router = APIRouter(prefix="/v1")


class SourceTypeMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Category | None


class SourceTypeView(BaseModel):
    code: str
    category: Category | None
    origin: str


def _view(entry: source_types.Entry) -> SourceTypeView:
    return SourceTypeView(code=entry.code, category=entry.category, origin=entry.origin)


@router.get(
    "/source-types",
    response_model=list[SourceTypeView],
    responses=PROBLEMS,
    summary="The agency's effective source-type mapping (defaults and overrides)",
)
async def list_source_types(caller: Coordinator, rt: Runtime) -> list[SourceTypeView]:
    return [_view(m) for m in await source_types.effective(rt, caller.agency)]


@router.put(
    "/source-types/{code}",
    response_model=SourceTypeView,
    responses=PROBLEMS,
    summary="Map an agency source-type code to a category (null: not critical)",
)
async def put_source_type(
    code: Annotated[SourceType, Path()], body: SourceTypeMapping, caller: Coordinator, rt: Runtime
) -> SourceTypeView:
    return _view(await source_types.override(rt, caller.agency, code, body.category))


@router.delete(
    "/source-types/{code}",
    status_code=204,
    responses=PROBLEMS,
    summary="Drop the agency's override; the default (if any) applies again",
)
async def delete_source_type(
    code: Annotated[SourceType, Path()], caller: Coordinator, rt: Runtime
) -> Response:
    await source_types.drop(rt, caller.agency, code)
    return Response(status_code=204)
