"""notify listeners when the library changes (the servers' response caches)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 17:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table whose rows show in a cached answer (app/readcache).
TABLES = ("images", "tags", "image_tags", "renditions", "search_words")


def upgrade() -> None:
    # Per statement, not per row: a bulk COPY notifies once. PostgreSQL delivers
    # a transaction's identical notifications once, at commit, and none on rollback.
    op.execute(
        """
        CREATE FUNCTION reactbin_library_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('reactbin_library', '');
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_library_changed "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION reactbin_library_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_library_changed ON {table}")
    op.execute("DROP FUNCTION reactbin_library_changed()")
