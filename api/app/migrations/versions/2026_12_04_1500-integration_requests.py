"""chat apps' recent requests (replay refusal, rate per workspace)

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-04 15:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integration_requests",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("workspace", sa.Text(), nullable=False),
        sa.Column(
            "seen_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_integration_requests")),
    )
    op.create_index(
        "ix_integration_requests_workspace_seen_at",
        "integration_requests",
        ["workspace", "seen_at"],
    )
    op.create_index("ix_integration_requests_seen_at", "integration_requests", ["seen_at"])


def downgrade() -> None:
    op.drop_table("integration_requests")
