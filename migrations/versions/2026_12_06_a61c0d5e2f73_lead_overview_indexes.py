"""index for the lead's overview at county scale: a group's sessions by time (the unit staff's
groups, then each group's recent sessions, not every session of the county's last 90 days)

Revision ID: a61c0d5e2f73
Revises: 5c8d2e7f1a94
Create Date: 2026-12-06 14:05:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a61c0d5e2f73'
down_revision = '5c8d2e7f1a94'
branch_labels = None
depends_on = None


def upgrade():
    # (group_id, starts_at) serves every lookup the group_id index served, and the time range after it.
    with op.batch_alter_table('group_session') as batch_op:
        batch_op.drop_index('ix_group_session_group_id')
        batch_op.create_index('ix_group_session_group_id_starts_at', ['group_id', 'starts_at'])


def downgrade():
    with op.batch_alter_table('group_session') as batch_op:
        batch_op.drop_index('ix_group_session_group_id_starts_at')
        batch_op.create_index('ix_group_session_group_id', ['group_id'])
