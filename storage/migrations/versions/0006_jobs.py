"""the job queue: jobs and the workers that run them

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=False),
        sa.Column("request", JSON_DOCUMENT, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("progress_message", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("generation_ids", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("claimed_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("worker_id", sa.String(length=200), nullable=True),
        sa.Column("heartbeat_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_jobs_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(op.f("ix_jobs_state_queue_created_at"), "jobs", ["state", "queue", "created_at"])
    op.create_index(op.f("ix_jobs_owner_id_created_at"), "jobs", ["owner_id", "created_at"])
    op.create_index(op.f("ix_jobs_owner_id_state"), "jobs", ["owner_id", "state"])
    op.create_index(op.f("ix_jobs_owner_id_claimed_at"), "jobs", ["owner_id", "claimed_at"])
    op.create_table(
        "job_workers",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("queues", JSON_DOCUMENT, nullable=False),
        sa.Column("engines", JSON_DOCUMENT, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_workers")),
    )


def downgrade() -> None:
    op.drop_table("job_workers")
    op.drop_index(op.f("ix_jobs_owner_id_claimed_at"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_owner_id_state"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_owner_id_created_at"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_state_queue_created_at"), table_name="jobs")
    op.drop_table("jobs")
