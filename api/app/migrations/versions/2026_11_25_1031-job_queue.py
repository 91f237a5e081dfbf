"""job queue

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:31:50.549420+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.util import await_only

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("images", sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
    # procrastinate's own schema, as shipped by the pinned version (3.10.0). A
    # later procrastinate upgrade adds a migration applying its delta files.
    # The schema is a multi-statement script, which asyncpg runs only through its
    # simple-query path (not a prepared statement), on the migration's connection.
    driver_connection = op.get_bind().connection.driver_connection
    if driver_connection is None:
        raise RuntimeError("the migration's connection has no driver connection")
    await_only(driver_connection.execute(SchemaManager.get_schema()))


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers CASCADE"
    )
    op.drop_column("images", "processed_at")
