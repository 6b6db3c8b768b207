"""feedback: answers per client address per window (keyed hash, no address stored); single-use answer slips

Revision ID: 7a3c5e9b1d20
Revises: 5e1f0a7c2b94
Create Date: 2026-12-06 05:40:00

"""
import sqlalchemy as sa
from alembic import op

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
    op.create_table('feedback_answer_slip',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('window_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['window_id'], ['feedback_window.id'], name=op.f('fk_feedback_answer_slip_window_id_feedback_window'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_answer_slip')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_feedback_answer_slip_code_hash'))
    )
    with op.batch_alter_table('feedback_answer_slip', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_answer_slip_window_id'), ['window_id'], unique=False)


def downgrade():
    with op.batch_alter_table('feedback_answer_slip', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_answer_slip_window_id'))
    op.drop_table('feedback_answer_slip')
    op.drop_table('feedback_address_count')
