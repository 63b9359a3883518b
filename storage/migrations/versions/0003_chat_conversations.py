"""chat conversations

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 05:16:33.991365
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = '0003'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('conversations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('system_prompt', sa.Text(), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('temperature', sa.Float(), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_conversations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations'))
    )
    op.create_index(op.f('ix_conversations_user_id_updated_at'), 'conversations', ['user_id', 'updated_at'], unique=False)
    # Batch mode: SQLite cannot add a foreign key in place, so it rebuilds the table.
    with op.batch_alter_table('generations') as batch:
        batch.add_column(sa.Column('conversation_id', sa.Uuid(), nullable=True))
        batch.create_index(batch.f('ix_generations_conversation_id_created_at'), ['conversation_id', 'created_at'], unique=False)
        batch.create_foreign_key(batch.f('fk_generations_conversation_id_conversations'), 'conversations', ['conversation_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('generations') as batch:
        batch.drop_constraint(batch.f('fk_generations_conversation_id_conversations'), type_='foreignkey')
        batch.drop_index(batch.f('ix_generations_conversation_id_created_at'))
        batch.drop_column('conversation_id')
    op.drop_index(op.f('ix_conversations_user_id_updated_at'), table_name='conversations')
    op.drop_table('conversations')
