from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class OwnerTokenVersion(Base):
    """Tokens carry the version current when they were issued; "sign out
    everywhere" bumps it, so every earlier token stops working at once."""

    __tablename__ = "owner_token_versions"

    username: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, server_default="0")


class LoginFailure(Base):
    """One failed (or in-progress) login, shared by every API process: the limiter of
    app/auth/ratelimit.py counts a client's rows of the last minute."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("login_failures_client", "client", "failed_at"),
        Index("login_failures_failed_at", "failed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    client: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
