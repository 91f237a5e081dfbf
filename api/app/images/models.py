from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import func

from app.db import Base
from app.images.search_vector import SEARCH_VECTOR
from app.tags.models import Tag


class Image(Base):
    __tablename__ = "images"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, server_default="")
    ocr_text: Mapped[str | None] = mapped_column(Text)
    mime_type: Mapped[str] = mapped_column(String(32))
    extension: Mapped[str] = mapped_column(String(8))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    frame_count: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # Unique: the database, not a racy pre-check, decides which of two
    # simultaneous identical uploads wins.
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    original_key: Mapped[str] = mapped_column(Text)
    thumbnail_key: Mapped[str] = mapped_column(Text)
    thumbnail_bytes: Mapped[int] = mapped_column(Integer)
    # The tags joined by spaces: kept beside the rows so the search document
    # below can be a generated column.
    tags_text: Mapped[str] = mapped_column(Text, server_default="")
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR, persisted=True), deferred=True
    )
    phash: Mapped[int | None] = mapped_column(BigInteger)
    # When the background job (text recognition) last finished; NULL: pending.
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the renditions were last (re)built; NULL: pending.
    renditions_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Shares counted by the Tenor-compatible `registershare` (orders `featured`).
    share_count: Mapped[int] = mapped_column(Integer, server_default="0")
    # The tag names in their order, kept by triggers on image_tags and tags
    # (migration 0012) so a page of images reads them without a join per row.
    # Read-only here: the links are what the application writes.
    stored_tag_names: Mapped[list[str]] = mapped_column(
        "tag_names", ARRAY(Text), server_default=text("'{}'"), deferred=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    tag_links: Mapped[list[ImageTag]] = relationship(
        back_populates="image",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="ImageTag.position",
        passive_deletes=True,
    )

    __table_args__ = (
        # Keyset pagination: newest first, id breaks ties.
        Index("ix_images_created_at_id", created_at.desc(), id.desc()),
        Index("ix_images_search_vector", "search_vector", postgresql_using="gin"),
        # Near-duplicates at upload: images sharing a band of the perceptual
        # hash (function in migration 0006), instead of a scan of every row.
        Index("ix_images_phash_bands", func.reactbin_phash_bands(phash), postgresql_using="gin"),
        # The Tenor-compatible `featured` order (most shared, then newest).
        Index("ix_images_featured", share_count.desc(), created_at.desc(), id.desc()),
    )

    @property
    def tag_names(self) -> list[str]:
        return [link.tag.name for link in self.tag_links]


class ImageTag(Base):
    __tablename__ = "image_tags"

    image_id: Mapped[str] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger)

    image: Mapped[Image] = relationship(back_populates="tag_links", lazy="raise")
    tag: Mapped[Tag] = relationship(lazy="joined")

    __table_args__ = (Index("ix_image_tags_tag_id_image_id", "tag_id", "image_id"),)
