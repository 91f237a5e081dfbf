from __future__ import annotations

from sqlalchemy import BigInteger, Identity, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    # Maintained by a trigger on image_tags (see app/images/search_vector.py).
    image_count: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (
        # Prefix autocomplete (`name LIKE 'do%'`) uses this index whatever the collation.
        Index("ix_tags_name_pattern", "name", postgresql_ops={"name": "text_pattern_ops"}),
        Index("ix_tags_image_count", image_count.desc(), "name"),
    )
