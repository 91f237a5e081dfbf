from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class TrashedRead(BaseModel):
    id: str
    title: str
    description: str
    tags: list[str]
    mime_type: str
    width: int
    height: int
    size_bytes: int
    sha256: str
    created_at: datetime
    trashed_at: datetime
    purge_after: datetime = Field(
        description="From then on the worker deletes the image and its files for good."
    )


class TrashPage(BaseModel):
    items: list[TrashedRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
    trash_days: int = Field(description="How long an image stays in the trash (TRASH_DAYS).")
