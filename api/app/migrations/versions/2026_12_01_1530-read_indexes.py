"""indexes for the read paths: Tenor `featured` order

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 15:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # /v2/featured orders by (share_count, created_at, id), newest first: without
    # this index every page sorts the whole table (110-170 ms at 100,000 images).
    op.create_index(
        "ix_images_featured",
        "images",
        [sa.text("share_count DESC"), sa.text("created_at DESC"), sa.text("id DESC")],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_images_featured", table_name="images")
