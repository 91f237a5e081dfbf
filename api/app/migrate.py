"""Apply Alembic migrations from code (`reactbin migrate`, `serve` start-up, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.config import DatabasePooler

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on a '%' in a URL-encoded password.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head", *, pooler: DatabasePooler = "none") -> None:
    """Blocking: runs its own event loop, so call it from a thread inside async code."""
    config = alembic_config(database_url)
    config.attributes["pooler"] = pooler  # migrations/env.py connects as the server would
    command.upgrade(config, revision)


def check(database_url: str) -> None:
    """Raise if the models and the migrations differ (`alembic check`)."""
    command.check(alembic_config(database_url))
