"""feedback: releases stored once shown, windows flagged when over-answered

Revision ID: 5e1f0a7c2b94
Revises: 5c1a9e27b4d3
Create Date: 2026-12-06 04:50:00

"""
import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = '5e1f0a7c2b94'
down_revision = '5c1a9e27b4d3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('released_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period_date', sa.Date(), nullable=False),
    sa.Column('theme', sa.String(length=200), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('score_sum', sa.Float(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.CheckConstraint('(group_id IS NULL) <> (meeting_id IS NULL)', name=op.f('ck_feedback_release_one_target')),
    sa.ForeignKeyConstraint(['group_id'], ['client_group.id'], name=op.f('fk_feedback_release_group_id_client_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_feedback_release_meeting_id_meeting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_release')),
    sa.UniqueConstraint('group_id', name=op.f('uq_feedback_release_group_id')),
    sa.UniqueConstraint('meeting_id', name=op.f('uq_feedback_release_meeting_id'))
    )
    with op.batch_alter_table('feedback_release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_release_period_date'), ['period_date'], unique=False)
    with op.batch_alter_table('feedback_window', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overfilled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_feedback_window_overfilled', ['overfilled', 'session_id'], unique=False)


def downgrade():
    with op.batch_alter_table('feedback_window', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_window_overfilled')
        batch_op.drop_column('overfilled')
    with op.batch_alter_table('feedback_release', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_release_period_date'))
    op.drop_table('feedback_release')
