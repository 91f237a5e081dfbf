from __future__ import annotations

from sqlalchemy import BigInteger, Identity, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)

    __table_args__ = (
        # Prefix autocomplete (`name LIKE 'do%'`) uses this index whatever the collation.
        Index("ix_tags_name_pattern", "name", postgresql_ops={"name": "text_pattern_ops"}),
    )
