from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.dependencies import SessionDep
from app.readcache.middleware import cacheable
from app.tags import repository

router = APIRouter(prefix="/api/v1/tags", tags=["tags"])


class TagCount(BaseModel):
    name: str
    count: int


@router.get("", response_model=list[TagCount])
@cacheable
async def list_tags(
    session: SessionDep,
    prefix: Annotated[
        str | None, Query(max_length=50, description="Autocomplete: names starting with this.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[TagCount]:
    """Tags in use with their image counts, most used first."""
    normalized = " ".join(prefix.split()).lower() if prefix else None
    rows = await repository.tag_counts(session, prefix=normalized, limit=limit)
    return [TagCount(name=name, count=count) for name, count in rows]
