"""Alembic environment: the engine (or an open connection) comes from `storage.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from storage.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with context.config.attributes["engine"].connect() as new_connection:
        _run(new_connection)
        new_connection.commit()
