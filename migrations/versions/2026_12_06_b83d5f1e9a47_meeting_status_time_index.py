"""a meeting's unit and two time indexes: the unit of the meeting's client copied onto the
meeting (a client's unit never changes), so that a lead's lists find the unit's meetings by time
in one index; and (status, starts_at), so that the "to record" list of a lead's staff reads the
planned meetings of the last 90 days (few: most are marked held) instead of every meeting the
staff ever took part in; and a client's unit with its active flag, so that a lead's client list
counts the unit's active clients in the index, not every active client of the county; and a
meeting's action items by due date, for a lead's report of a period

Revision ID: b83d5f1e9a47
Revises: 7a1f3c9e5b20
Create Date: 2026-12-06 17:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b83d5f1e9a47'
down_revision = '7a1f3c9e5b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('meeting') as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
    op.execute("UPDATE meeting SET unit_id = (SELECT client.unit_id FROM client WHERE client.id = meeting.client_id)")
    # (status, starts_at) serves every lookup the status index served, and the time range after it.
    with op.batch_alter_table('meeting') as batch_op:
        batch_op.alter_column('unit_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key('fk_meeting_unit_id_unit', 'unit', ['unit_id'], ['id'], ondelete='RESTRICT')
        batch_op.drop_index('ix_meeting_status')
        batch_op.create_index('ix_meeting_status_starts_at', ['status', 'starts_at'])
        batch_op.create_index('ix_meeting_unit_id_starts_at', ['unit_id', 'starts_at'])
    # (unit_id, active) serves every lookup the unit_id index served.
    with op.batch_alter_table('client') as batch_op:
        batch_op.drop_index('ix_client_unit_id')
        batch_op.create_index('ix_client_unit_id_active', ['unit_id', 'active'])
    # (meeting_id, due_date) serves every lookup the meeting_id index served.
    with op.batch_alter_table('action_item') as batch_op:
        batch_op.drop_index('ix_action_item_meeting_id')
        batch_op.create_index('ix_action_item_meeting_id_due_date', ['meeting_id', 'due_date'])


def downgrade():
    with op.batch_alter_table('action_item') as batch_op:
        batch_op.drop_index('ix_action_item_meeting_id_due_date')
        batch_op.create_index('ix_action_item_meeting_id', ['meeting_id'])
    with op.batch_alter_table('client') as batch_op:
        batch_op.drop_index('ix_client_unit_id_active')
        batch_op.create_index('ix_client_unit_id', ['unit_id'])
    with op.batch_alter_table('meeting') as batch_op:
        batch_op.drop_index('ix_meeting_unit_id_starts_at')
        batch_op.drop_index('ix_meeting_status_starts_at')
        batch_op.create_index('ix_meeting_status', ['status'])
        batch_op.drop_constraint('fk_meeting_unit_id_unit', type_='foreignkey')
        batch_op.drop_column('unit_id')
