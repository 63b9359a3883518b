"""admin and analytics: per-user limits, indexes for a million generations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANALYTICS_COLUMNS = [
    "modality",
    "provider",
    "model",
    "status",
    "user_id",
    "latency_ms",
    "duration_seconds",
    "tokens_in",
    "tokens_out",
    "cost_usd",
]


def upgrade() -> None:
    op.create_table(
        "user_limits",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("generations_per_minute", sa.Integer(), nullable=True),
        sa.Column("daily_image", sa.Integer(), nullable=True),
        sa.Column("daily_speech", sa.Integer(), nullable=True),
        sa.Column("daily_chat", sa.Integer(), nullable=True),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_limits_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_limits")),
    )
    op.create_index(
        "ix_generations_created_at_analytics",
        "generations",
        ["created_at"],
        unique=False,
        postgresql_include=ANALYTICS_COLUMNS,
    )
    if op.get_bind().dialect.name == "postgresql":
        _create_prompt_search_index()


def _create_prompt_search_index() -> None:
    """Trigram index so "text in prompt" stays fast at a million rows.

    pg_trgm ships with PostgreSQL and is a trusted extension (PostgreSQL 13+), so a database
    owner may create it; where it is not available the search still works, only slower.
    """
    bind = op.get_bind()
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).scalar()
    if not available:
        return
    try:
        # A savepoint, so a refusal (no privilege) does not abort the migration's transaction.
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        return
    op.execute(
        "CREATE INDEX ix_generations_prompt_trgm ON generations USING gin (prompt gin_trgm_ops)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_generations_prompt_trgm")
    op.drop_index("ix_generations_created_at_analytics", table_name="generations")
    op.drop_table("user_limits")
