"""account deletion: a marker on users, and usage that outlives its user

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:00:00

Usage events lose their user when the account goes (ON DELETE SET NULL). Generations and
import jobs may have no owner too, but only because the deletion let go of it after blanking
their words (core/account_deletion.py): their foreign keys still CASCADE, so a row that still
has its owner's words when the user row goes goes with it.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USER_FK = "fk_usage_events_user_id_users"
# The columns that become nullable, by table.
OWNERS = {"generations": "user_id", "jobs": "owner_id"}


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("deleting_since", storage.models.UTCDateTime(timezone=True), nullable=True),
    )
    # SQLite cannot change a column or a foreign key in place: batch mode copies the table
    # (PostgreSQL gets plain ALTER TABLE statements).
    with op.batch_alter_table("usage_events") as batch:
        batch.drop_constraint(USER_FK, type_="foreignkey")
        batch.alter_column("user_id", existing_type=sa.Uuid(), nullable=True)
        batch.create_foreign_key(USER_FK, "users", ["user_id"], ["id"], ondelete="SET NULL")
    with _event_links_kept():
        for table, column in OWNERS.items():
            with op.batch_alter_table(table) as batch:
                batch.alter_column(column, existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    # What a deleted account left has no user to go back to: it is dropped.
    with _event_links_kept():
        for table, column in OWNERS.items():
            op.execute(sa.table(table).delete().where(sa.column(column).is_(None)))
            with op.batch_alter_table(table) as batch:
                batch.alter_column(column, existing_type=sa.Uuid(), nullable=False)
    op.execute("DELETE FROM usage_events WHERE user_id IS NULL")
    with op.batch_alter_table("usage_events") as batch:
        batch.drop_constraint(USER_FK, type_="foreignkey")
        batch.alter_column("user_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_foreign_key(USER_FK, "users", ["user_id"], ["id"], ondelete="CASCADE")
    op.drop_column("users", "deleting_since")


@contextmanager
def _event_links_kept() -> Iterator[None]:
    """On SQLite, batch mode drops the old `generations` table, and with foreign keys on that
    is a DELETE: every usage event's `generation_id` would be SET NULL. The links are saved
    before and written back after. PostgreSQL alters in place and needs none of it."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    op.execute(
        "CREATE TEMP TABLE event_generations AS SELECT id, generation_id "
        "FROM usage_events WHERE generation_id IS NOT NULL"
    )
    yield
    # A generation the downgrade dropped loses its events' links, as its foreign key says.
    op.execute(
        "UPDATE usage_events SET generation_id = (SELECT e.generation_id "
        "FROM event_generations AS e JOIN generations AS g ON g.id = e.generation_id "
        "WHERE e.id = usage_events.id) WHERE id IN (SELECT id FROM event_generations)"
    )
    op.execute("DROP TABLE event_generations")
