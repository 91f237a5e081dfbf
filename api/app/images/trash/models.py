from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import func

from app.db import Base


class TrashedImage(Base):
    """An image in the trash: its row, tags and renditions as a snapshot, its objects untouched.

    A separate table rather than a flag on `images`, so no read query (lists, search,
    Tenor, files) needs a filter and the tag counts (kept by the image_tags trigger)
    drop the image while it is in the trash. Restoring re-inserts the snapshot with
    the same id and created time, so every link works again.
    """

    __tablename__ = "trashed_images"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    # A byte-identical upload finds its trashed original here. Not unique: two
    # generations of the same bytes can meet in the trash (trash, upload, trash).
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(Text)
    original_key: Mapped[str] = mapped_column(Text)
    thumbnail_key: Mapped[str] = mapped_column(Text)
    # The images row (every column but the generated search vector), plus
    # "tags" (names in order) and "renditions" (the renditions rows).
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    trashed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_trashed_images_trashed_at", trashed_at),)
