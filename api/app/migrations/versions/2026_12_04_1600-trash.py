"""the trash: deleted images kept until restored or purged

Revision ID: 0009
Revises: 0012
Create Date: 2026-12-04 16:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trashed_images",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("original_key", sa.Text(), nullable=False),
        sa.Column("thumbnail_key", sa.Text(), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "trashed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trashed_images")),
    )
    op.create_index("ix_trashed_images_trashed_at", "trashed_images", ["trashed_at"], unique=False)
    op.create_index(op.f("ix_trashed_images_sha256"), "trashed_images", ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_trashed_images_sha256"), table_name="trashed_images")
    op.drop_index("ix_trashed_images_trashed_at", table_name="trashed_images")
    op.drop_table("trashed_images")
