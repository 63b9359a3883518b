"""Bring the database schema to the newest Alembic revision.

Run on start by the app (`python -m storage.migrate` does the same by hand). On PostgreSQL an
advisory lock keeps several replicas starting at once from migrating twice.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_to_head(engine: Engine) -> None:
    config = alembic_config(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(hashtext('atelier-migrations'))"))
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                connection.commit()
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(hashtext('atelier-migrations'))")
                )
                connection.commit()
    else:
        command.upgrade(config, "head")
    log.info("database schema is up to date", extra={"dialect": engine.dialect.name})


if __name__ == "__main__":
    from core.config import Settings
    from storage.db import create_db_engine

    logging.basicConfig(level=logging.INFO)
    upgrade_to_head(create_db_engine(Settings().resolved_database_url))
