"""bulk image import: a job's running summary, and each image's content hash

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("jobs", sa.Column("summary", JSON_DOCUMENT, nullable=True))
    op.add_column("generations", sa.Column("content_sha256", sa.String(length=64), nullable=True))
    op.create_index(
        op.f("ix_generations_user_id_content_sha256"),
        "generations",
        ["user_id", "content_sha256"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_generations_user_id_content_sha256"), table_name="generations")
    op.drop_column("generations", "content_sha256")
    op.drop_column("jobs", "summary")
