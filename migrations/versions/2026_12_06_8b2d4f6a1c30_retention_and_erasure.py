"""retention and erasure: client.erased_at, and the access log's signed restart records

Revision ID: 8b2d4f6a1c30
Revises: 7a3c5e9b1d24
Create Date: 2026-12-06 07:30:00

"""
import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = '8b2d4f6a1c30'
down_revision = '7a3c5e9b1d24'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', core.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        'access_log_restart',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('removed_through_id', sa.Integer(), nullable=False),
        sa.Column('removed_rows', sa.Integer(), nullable=False),
        sa.Column('last_hash', sa.String(length=64), nullable=False),
        sa.Column('signature', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log_restart')),
    )


def downgrade():
    op.drop_table('access_log_restart')
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
