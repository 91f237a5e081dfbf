"""each image's tag names as an array beside its row, kept by triggers

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-04 15:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A page of images showed each image's tag names by joining image_tags and tags
# per row (~200 index probes for a page of 51 at 100,000 images, a sixth of a
# list page's PostgreSQL time). The names in their order, kept in the row, make
# a page one index range and no join. Triggers keep them, whoever writes the
# links (the upload's one statement, PATCH, a cascade, psql), per statement: a
# bulk COPY updates each image once.
TAG_NAMES_OF = (
    "coalesce((SELECT array_agg(t.name ORDER BY it.position) FROM image_tags it "
    "JOIN tags t ON t.id = it.tag_id WHERE it.image_id = images.id), '{}')"
)

REFRESH_FUNCTION = f"""
CREATE FUNCTION reactbin_refresh_tag_names(image_ids text[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE images SET tag_names = {TAG_NAMES_OF}
    WHERE images.id = ANY(image_ids) AND tag_names IS DISTINCT FROM {TAG_NAMES_OF}
$$
"""  # noqa: S608 (constants only)

# Transition tables are named per trigger below; plpgsql plans a statement on
# first use, so each branch only ever sees the tables its trigger has.
LINKS_FUNCTION = """
CREATE FUNCTION reactbin_links_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM reactbin_refresh_tag_names(ARRAY(SELECT DISTINCT image_id FROM new_links));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM reactbin_refresh_tag_names(ARRAY(SELECT DISTINCT image_id FROM old_links));
    ELSE
        PERFORM reactbin_refresh_tag_names(
            ARRAY(SELECT image_id FROM old_links UNION SELECT image_id FROM new_links));
    END IF;
    RETURN NULL;
END
$$
"""

# A renamed tag (nothing renames tags today; psql could): its images' arrays.
TAGS_FUNCTION = """
CREATE FUNCTION reactbin_tag_renamed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM reactbin_refresh_tag_names(ARRAY(
        SELECT DISTINCT it.image_id FROM image_tags it
        JOIN new_tags n ON n.id = it.tag_id JOIN old_tags o ON o.id = n.id
        WHERE o.name IS DISTINCT FROM n.name));
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute("ALTER TABLE images ADD COLUMN tag_names text[] DEFAULT '{}' NOT NULL")
    op.execute(
        f"UPDATE images SET tag_names = {TAG_NAMES_OF} "  # noqa: S608 (constants only)
        "WHERE EXISTS (SELECT 1 FROM image_tags WHERE image_id = images.id)"
    )
    op.execute(REFRESH_FUNCTION)
    op.execute(LINKS_FUNCTION)
    op.execute(TAGS_FUNCTION)
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_links"),
        ("DELETE", "OLD TABLE AS old_links"),
        ("UPDATE", "OLD TABLE AS old_links NEW TABLE AS new_links"),
    ):
        op.execute(
            f"CREATE TRIGGER image_tags_names_{event.lower()} AFTER {event} ON image_tags "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION reactbin_links_changed()"
        )
    op.execute(
        "CREATE TRIGGER tags_names_update AFTER UPDATE ON tags "
        "REFERENCING OLD TABLE AS old_tags NEW TABLE AS new_tags "
        "FOR EACH STATEMENT EXECUTE FUNCTION reactbin_tag_renamed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER tags_names_update ON tags")
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER image_tags_names_{event} ON image_tags")
    op.execute("DROP FUNCTION reactbin_tag_renamed()")
    op.execute("DROP FUNCTION reactbin_links_changed()")
    op.execute("DROP FUNCTION reactbin_refresh_tag_names(text[])")
    op.execute("ALTER TABLE images DROP COLUMN tag_names")
