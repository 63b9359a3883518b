"""Alembic environment: the engine (or an open connection) comes from `storage.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from storage.models import Base

# Indexes the migrations create by hand because the models cannot describe them portably.
UNMODELLED_INDEXES = frozenset({"ix_generations_prompt_trgm"})


def _include_object(
    object_: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (type_ == "index" and name in UNMODELLED_INDEXES)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_include_object,
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
