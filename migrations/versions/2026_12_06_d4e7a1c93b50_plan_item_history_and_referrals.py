"""plan items' status history; referrals of clients to groups and ideas

Revision ID: d4e7a1c93b50
Revises: c4e7a2b9d051
Create Date: 2026-12-06 07:25:00

"""
import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = 'd4e7a1c93b50'
down_revision = 'c4e7a2b9d051'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'action_item_status_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('old_status', sa.String(length=20), nullable=False),
        sa.Column('new_status', sa.String(length=20), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.Column('changed_by_name', sa.String(length=160), nullable=False),
        sa.Column('changed_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['changed_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['item_id'], ['action_item.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('action_item_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_item_status_change_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_item_status_change_meeting_id'), ['meeting_id'], unique=False)

    op.create_table(
        'group_referral',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=True),
        sa.Column('idea_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('referred_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('decline_reason', sa.String(length=300), nullable=False),
        sa.CheckConstraint('group_id IS NOT NULL OR idea_id IS NOT NULL', name='referral_has_target'),
        sa.ForeignKeyConstraint(['client_id'], ['client.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['group_id'], ['client_group.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['idea_id'], ['group_idea.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['referred_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('group_referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_referral_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_referral_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_referral_idea_id'), ['idea_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_referral_referred_by_id'), ['referred_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('group_referral', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_referral_referred_by_id'))
        batch_op.drop_index(batch_op.f('ix_group_referral_idea_id'))
        batch_op.drop_index(batch_op.f('ix_group_referral_group_id'))
        batch_op.drop_index(batch_op.f('ix_group_referral_client_id'))
    op.drop_table('group_referral')
    with op.batch_alter_table('action_item_status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_item_status_change_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_action_item_status_change_item_id'))
    op.drop_table('action_item_status_change')
