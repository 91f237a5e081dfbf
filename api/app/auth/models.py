from __future__ import annotations

from sqlalchemy import Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class OwnerTokenVersion(Base):
    """Tokens carry the version current when they were issued; "sign out
    everywhere" bumps it, so every earlier token stops working at once."""

    __tablename__ = "owner_token_versions"

    username: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, server_default="0")
