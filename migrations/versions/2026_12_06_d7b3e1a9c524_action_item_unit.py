"""an action item's unit: the unit of its meeting copied onto the item (a meeting's unit never
changes, nor an item's meeting), with (unit_id, due_date), so that a lead's report counts the
unit's items of a period in one index instead of joining every item of the county's period to
its meeting

Revision ID: d7b3e1a9c524
Revises: b83d5f1e9a47
Create Date: 2026-12-06 20:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd7b3e1a9c524'
down_revision = 'b83d5f1e9a47'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('action_item') as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
    op.execute("UPDATE action_item SET unit_id = (SELECT meeting.unit_id FROM meeting "
               "WHERE meeting.id = action_item.meeting_id)")
    with op.batch_alter_table('action_item') as batch_op:
        batch_op.alter_column('unit_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key('fk_action_item_unit_id_unit', 'unit', ['unit_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_index('ix_action_item_unit_id_due_date', ['unit_id', 'due_date'])


def downgrade():
    with op.batch_alter_table('action_item') as batch_op:
        batch_op.drop_index('ix_action_item_unit_id_due_date')
        batch_op.drop_constraint('fk_action_item_unit_id_unit', type_='foreignkey')
        batch_op.drop_column('unit_id')
