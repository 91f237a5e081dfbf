from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, WithJsonSchema

from app.dependencies import SessionDep
from app.openapi import NO_NUL, responses
from app.readcache.middleware import cacheable
from app.tags import repository
from app.tags.prefix import clean_tag_prefix

router = APIRouter(prefix="/api/v1/tags", tags=["tags"])


class TagCount(BaseModel):
    name: str
    count: int


@router.get("", response_model=list[TagCount], responses=responses(422, 503))
@cacheable
async def list_tags(
    session: SessionDep,
    prefix: Annotated[
        str | None,
        Query(max_length=50, description="Autocomplete: names starting with this."),
        WithJsonSchema({"type": "string", "maxLength": 50, "pattern": NO_NUL}),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[TagCount]:
    """Tags in use with their image counts, most used first."""
    rows = await repository.tag_counts(session, prefix=clean_tag_prefix(prefix), limit=limit)
    return [TagCount(name=name, count=count) for name, count in rows]
