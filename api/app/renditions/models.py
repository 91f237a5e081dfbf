from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import func

from app.db import Base


class Rendition(Base):
    """One derived file of an image (`tinygif`, `mp4`, ...), stored in the bucket.

    Written by the background worker after the object is in the bucket, so a
    row never points to a missing object; rows go with their image (cascade)
    and the image's delete removes every object under its prefix.
    """

    __tablename__ = "renditions"

    image_id: Mapped[str] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    # Tenor's format name: preview, gif, mediumgif, tinygif, nanogif, webp, mp4, ...
    format: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(Text)
    mime_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    # Seconds; 0.0 for a still.
    duration: Mapped[float] = mapped_column(Float, server_default="0")
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
