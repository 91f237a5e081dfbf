"""owner token versions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:14:33.895577+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "owner_token_versions",
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_owner_token_versions")),
    )


def downgrade() -> None:
    op.drop_table("owner_token_versions")
