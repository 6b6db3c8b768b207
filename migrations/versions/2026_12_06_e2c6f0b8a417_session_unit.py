"""a group session's unit: the unit of its group copied onto the session (a group keeps its
unit, and a session its group), with (unit_id, starts_at), so that a lead's report reads the
unit's sessions of a period in one index instead of the county's sessions of the period (ten
times the rows at ten units) joined to their groups

Revision ID: e2c6f0b8a417
Revises: d7b3e1a9c524
Create Date: 2026-12-06 20:35:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e2c6f0b8a417'
down_revision = 'd7b3e1a9c524'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('group_session') as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
    op.execute("UPDATE group_session SET unit_id = (SELECT client_group.unit_id FROM client_group "
               "WHERE client_group.id = group_session.group_id)")
    with op.batch_alter_table('group_session') as batch_op:
        batch_op.alter_column('unit_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key('fk_group_session_unit_id_unit', 'unit', ['unit_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_index('ix_group_session_unit_id_starts_at', ['unit_id', 'starts_at'])


def downgrade():
    with op.batch_alter_table('group_session') as batch_op:
        batch_op.drop_index('ix_group_session_unit_id_starts_at')
        batch_op.drop_constraint('fk_group_session_unit_id_unit', type_='foreignkey')
        batch_op.drop_column('unit_id')
