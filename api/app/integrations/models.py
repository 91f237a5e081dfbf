from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class IntegrationRequest(Base):
    """A chat app's recent request: its key refuses a replay, and the rows of one
    workspace in the last minute are its rate. In PostgreSQL so that every server
    process behind the proxy sees the same ones."""

    __tablename__ = "integration_requests"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    workspace: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_integration_requests_workspace_seen_at", "workspace", "seen_at"),
        Index("ix_integration_requests_seen_at", "seen_at"),
    )
