"""reminder opt-out links and invitation events

Opt-out links become random tokens kept as hashes (reminder_opt_out_link), tied to the consent
they were sent under; an invitation keeps its event data (reminder_outbox.event) so that its
calendar is built when it is sent. Links signed the old way are no longer accepted (the stop
page tells the person to call the unit).

Revision ID: 5e1f0a7c9b23
Revises: 3f1e9a7c2b4d
Create Date: 2026-12-06 04:30:00

"""
import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = '5e1f0a7c9b23'
down_revision = '3f1e9a7c2b4d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reminder_opt_out_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('recipient_kind', sa.String(length=10), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('consent_date', sa.Date(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_reminder_opt_out_link_client_id_client'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_opt_out_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_reminder_opt_out_link_token_hash'))
    )
    with op.batch_alter_table('reminder_opt_out_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_opt_out_link_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_opt_out_link_expires_at'), ['expires_at'], unique=False)

    # Rows already queued get an empty event (they are sent with the calendar they were queued with).
    with op.batch_alter_table('reminder_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event', sa.Text(), nullable=True))
    op.execute("UPDATE reminder_outbox SET event = ''")
    with op.batch_alter_table('reminder_outbox', schema=None) as batch_op:
        batch_op.alter_column('event', existing_type=sa.Text(), nullable=False)


def downgrade():
    with op.batch_alter_table('reminder_outbox', schema=None) as batch_op:
        batch_op.drop_column('event')
    with op.batch_alter_table('reminder_opt_out_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_opt_out_link_expires_at'))
        batch_op.drop_index(batch_op.f('ix_reminder_opt_out_link_client_id'))
    op.drop_table('reminder_opt_out_link')
