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

COPIES = (  # (table, its parent, the link column, the index's time column)
    ("group_session", "client_group", "group_id", "starts_at"),
)


def upgrade():
    for table, parent, link, when in COPIES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        op.execute(f"UPDATE {table} SET unit_id = (SELECT {parent}.unit_id FROM {parent} "
                   f"WHERE {parent}.id = {table}.{link})")
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column('unit_id', existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(f'fk_{table}_unit_id_unit', 'unit', ['unit_id'], ['id'], ondelete='RESTRICT')
            batch_op.create_index(f'ix_{table}_unit_id_{when}', ['unit_id', when])


def downgrade():
    for table, _parent, _link, when in COPIES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(f'ix_{table}_unit_id_{when}')
            batch_op.drop_constraint(f'fk_{table}_unit_id_unit', type_='foreignkey')
            batch_op.drop_column('unit_id')
