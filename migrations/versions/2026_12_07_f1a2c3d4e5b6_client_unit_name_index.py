"""a unit's active clients in name order: (unit_id, active, name) in place of (unit_id, active),
so that a lead's client list reads its units' clients a page at a time by the index (and counts
them by its first two columns) instead of walking the county's clients by name past every other
unit's

Revision ID: f1a2c3d4e5b6
Revises: e2c6f0b8a417
Create Date: 2026-12-07 02:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f1a2c3d4e5b6'
down_revision = 'e2c6f0b8a417'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('client') as batch_op:
        batch_op.create_index('ix_client_unit_active_name', ['unit_id', 'active', 'name'])
        batch_op.drop_index('ix_client_unit_id_active')


def downgrade():
    with op.batch_alter_table('client') as batch_op:
        batch_op.create_index('ix_client_unit_id_active', ['unit_id', 'active'])
        batch_op.drop_index('ix_client_unit_active_name')
