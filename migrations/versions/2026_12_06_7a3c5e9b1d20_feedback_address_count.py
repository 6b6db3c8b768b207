"""feedback: answers per client address per window (keyed hash, no address stored)

Revision ID: 7a3c5e9b1d20
Revises: 5e1f0a7c2b94
Create Date: 2026-12-06 05:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a3c5e9b1d20'
down_revision = '5e1f0a7c2b94'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_address_count',
    sa.Column('window_id', sa.Integer(), nullable=False),
    sa.Column('address_key', sa.String(length=32), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['window_id'], ['feedback_window.id'], name=op.f('fk_feedback_address_count_window_id_feedback_window'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('window_id', 'address_key', name=op.f('pk_feedback_address_count'))
    )


def downgrade():
    op.drop_table('feedback_address_count')
