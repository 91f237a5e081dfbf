"""search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:22:19.869387+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of app/search/sql.py as of this revision.
SEARCH_VECTOR = " || ".join(
    [
        "setweight(to_tsvector('english'::regconfig, reactbin_unaccent(coalesce(title, ''))) || to_tsvector('simple'::regconfig, reactbin_unaccent(coalesce(title, ''))), 'A')",
        "setweight(to_tsvector('english'::regconfig, reactbin_unaccent(coalesce(tags_text, ''))) || to_tsvector('simple'::regconfig, reactbin_unaccent(coalesce(tags_text, ''))), 'A')",
        "setweight(to_tsvector('english'::regconfig, reactbin_unaccent(coalesce(ocr_text, ''))) || to_tsvector('simple'::regconfig, reactbin_unaccent(coalesce(ocr_text, ''))), 'B')",
        "setweight(to_tsvector('english'::regconfig, reactbin_unaccent(coalesce(description, ''))) || to_tsvector('simple'::regconfig, reactbin_unaccent(coalesce(description, ''))), 'C')",
    ]
)
UNACCENT_FUNCTION = """
CREATE OR REPLACE FUNCTION reactbin_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
"""
WORDS_TRIGGER_FUNCTION = """
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
    ON CONFLICT (word) DO NOTHING;
    RETURN NEW;
END
$$
"""
TAG_COUNT_FUNCTION = """
CREATE OR REPLACE FUNCTION reactbin_count_tags() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE tags SET image_count = image_count + 1 WHERE id = NEW.tag_id;
    ELSE
        UPDATE tags SET image_count = image_count - 1 WHERE id = OLD.tag_id;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch")
    op.execute(UNACCENT_FUNCTION)
    op.create_table(
        "search_words",
        sa.Column("word", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_words")),
    )
    op.create_index(
        "ix_search_words_word_trgm",
        "search_words",
        ["word"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )
    op.add_column("images", sa.Column("tags_text", sa.Text(), server_default="", nullable=False))
    op.add_column(
        "images",
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                SEARCH_VECTOR,
                persisted=True,
            ),
            nullable=False,
        ),
    )
    op.add_column("images", sa.Column("phash", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_images_search_vector", "images", ["search_vector"], unique=False, postgresql_using="gin"
    )
    op.add_column(
        "tags", sa.Column("image_count", sa.Integer(), server_default="0", nullable=False)
    )
    op.create_index(
        "ix_tags_image_count", "tags", [sa.literal_column("image_count DESC"), "name"], unique=False
    )
    # Existing libraries: fill what the application and the triggers keep from now on.
    op.execute(
        "UPDATE images SET tags_text = coalesce((SELECT string_agg(t.name, ' ' ORDER BY it.position) "
        "FROM image_tags it JOIN tags t ON t.id = it.tag_id WHERE it.image_id = images.id), '')"
    )
    op.execute(
        "UPDATE tags SET image_count = (SELECT count(*) FROM image_tags WHERE tag_id = tags.id)"
    )
    op.execute(WORDS_TRIGGER_FUNCTION)
    op.execute(
        "CREATE TRIGGER images_collect_search_words "
        "AFTER INSERT OR UPDATE OF title, description, ocr_text, tags_text ON images "
        "FOR EACH ROW EXECUTE FUNCTION reactbin_collect_search_words()"
    )
    op.execute("UPDATE images SET title = title")  # fires the trigger for existing rows
    op.execute(TAG_COUNT_FUNCTION)
    op.execute(
        "CREATE TRIGGER image_tags_count AFTER INSERT OR DELETE ON image_tags "
        "FOR EACH ROW EXECUTE FUNCTION reactbin_count_tags()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER image_tags_count ON image_tags")
    op.execute("DROP FUNCTION reactbin_count_tags()")
    op.execute("DROP TRIGGER images_collect_search_words ON images")
    op.execute("DROP FUNCTION reactbin_collect_search_words()")
    op.drop_index("ix_tags_image_count", table_name="tags")
    op.drop_column("tags", "image_count")
    op.drop_index("ix_images_search_vector", table_name="images", postgresql_using="gin")
    op.drop_column("images", "phash")
    op.drop_column("images", "search_vector")
    op.drop_column("images", "tags_text")
    op.drop_index(
        "ix_search_words_word_trgm",
        table_name="search_words",
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )
    op.drop_table("search_words")
    op.execute("DROP FUNCTION reactbin_unaccent(text)")
