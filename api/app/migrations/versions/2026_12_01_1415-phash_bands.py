"""near-duplicate lookup by perceptual hash bands

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:15:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the function as of this revision (app/images/models.py uses it).
# Seven disjoint 9-bit bands of the 64-bit hash, each tagged with its number:
# two hashes within 6 bits of each other are equal on at least one band
# (pigeonhole), so a GIN lookup of shared bands finds every near-duplicate.
PHASH_BANDS_FUNCTION = (
    "CREATE OR REPLACE FUNCTION reactbin_phash_bands(bigint) RETURNS integer[] "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$ SELECT ARRAY["
    + ", ".join(f"({band << 9} | (($1 >> {9 * band}) & 511))::integer" for band in range(7))
    + "] $$"
)


def upgrade() -> None:
    op.execute(PHASH_BANDS_FUNCTION)
    op.create_index(
        "ix_images_phash_bands",
        "images",
        [sa.text("reactbin_phash_bands(phash)")],
        unique=False,
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_images_phash_bands", table_name="images", postgresql_using="gin")
    op.execute("DROP FUNCTION reactbin_phash_bands(bigint)")
