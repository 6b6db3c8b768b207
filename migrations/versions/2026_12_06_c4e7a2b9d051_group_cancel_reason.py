"""groups: the reason a group was cancelled (sent to its enrolled clients)

Revision ID: c4e7a2b9d051
Revises: c4e8a1f3b927
Create Date: 2026-12-06 07:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e7a2b9d051'
down_revision = 'c4e8a1f3b927'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('client_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('client_group', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
