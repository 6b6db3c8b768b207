"""indexes for the statements that scanned a growing table (tests/test_query_plans.py):
the client list (active clients by name), the feedback report (action items by due date, the
feedback windows still open)

Revision ID: 5c1a9e27b4d3
Revises: 3b31e5b1994a
Create Date: 2026-12-06 05:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '5c1a9e27b4d3'
down_revision = '3b31e5b1994a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.create_index('ix_client_active_name', ['active', 'name'], unique=False)

    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.create_index('ix_action_item_due_date', ['due_date'], unique=False)

    with op.batch_alter_table('feedback_window', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_window_closes_at', ['closes_at'], unique=False)


def downgrade():
    with op.batch_alter_table('feedback_window', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_window_closes_at')

    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.drop_index('ix_action_item_due_date')

    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_index('ix_client_active_name')
