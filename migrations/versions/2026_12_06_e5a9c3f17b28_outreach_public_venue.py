"""outreach: the public venue page's unguessable token (the poster's QR code) and its anonymous topic notes

Revision ID: e5a9c3f17b28
Revises: b7e24d91c3a6
Create Date: 2026-12-06 10:50:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = 'e5a9c3f17b28'
down_revision = 'b7e24d91c3a6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outreach_venue', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_token', sa.String(length=32), nullable=True))
    # Every existing venue gets a token of its own before the column becomes required.
    venue = sa.table('outreach_venue', sa.column('id', sa.Integer), sa.column('public_token', sa.String))
    bind = op.get_bind()
    for (venue_id,) in bind.execute(sa.select(venue.c.id)).all():
        bind.execute(venue.update().where(venue.c.id == venue_id).values(public_token=secrets.token_urlsafe(16)))
    with op.batch_alter_table('outreach_venue', schema=None) as batch_op:
        batch_op.alter_column('public_token', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index(batch_op.f('ix_outreach_venue_public_token'), ['public_token'], unique=True)
    op.create_table(
        'outreach_topic_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('venue_id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=20), nullable=False),
        sa.Column('address_key', sa.String(length=32), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['venue_id'], ['outreach_venue.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['visit_id'], ['outreach_visit.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('outreach_topic_note', schema=None) as batch_op:
        batch_op.create_index('ix_outreach_topic_note_venue_created', ['venue_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outreach_topic_note_visit_id'), ['visit_id'], unique=False)


def downgrade():
    op.drop_table('outreach_topic_note')
    with op.batch_alter_table('outreach_venue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreach_venue_public_token'))
        batch_op.drop_column('public_token')
