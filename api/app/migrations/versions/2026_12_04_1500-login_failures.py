"""failed logins in PostgreSQL: one login rate limit across every API process;
search words inserted in order (no deadlock between two processes adding new words)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-04 15:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# As in 0003, plus ORDER BY: two transactions inserting the same new words (an upload
# and an edit on two API processes) wait for each other's uncommitted rows; in the
# same order, one waits for the other instead of both waiting forever (a deadlock,
# which PostgreSQL breaks by failing one of them).
WORDS_FUNCTION = """
CREATE OR REPLACE FUNCTION reactbin_collect_search_words() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word)
    SELECT DISTINCT lexeme
    FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, reactbin_unaccent(
        coalesce(NEW.title, '') || ' ' || coalesce(NEW.tags_text, '') || ' ' ||
        coalesce(NEW.description, '') || ' ' || coalesce(NEW.ocr_text, '')
    )))) AS lexeme
    WHERE length(lexeme) BETWEEN 3 AND 40
    ORDER BY lexeme
    ON CONFLICT (word) DO NOTHING;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.execute(WORDS_FUNCTION)
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column(
            "failed_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
    )
    op.create_index("login_failures_client", "login_failures", ["client", "failed_at"])
    op.create_index("login_failures_failed_at", "login_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_table("login_failures")
    op.execute(WORDS_FUNCTION.replace("    ORDER BY lexeme\n", ""))
