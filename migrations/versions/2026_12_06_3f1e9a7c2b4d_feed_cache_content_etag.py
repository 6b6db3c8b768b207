"""feed cache: content ETag, state key and modified time

A stored feed body now carries the key of what it was rendered from (``state_key``) and the time
its bytes last changed (``modified_at``); its ``etag`` is made from the bytes. Stored bodies are
a cache: the old rows are dropped and rendered again on the next poll.

Revision ID: 3f1e9a7c2b4d
Revises: 66eaa3c55313
Create Date: 2026-12-06 04:40:00

"""
import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = '3f1e9a7c2b4d'
down_revision = '66eaa3c55313'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text('DELETE FROM calendar_feed_cache'))
    with op.batch_alter_table('calendar_feed_cache', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_key', sa.String(length=64), nullable=False))
        batch_op.add_column(sa.Column('modified_at', core.db.UTCDateTime(timezone=True), nullable=False))
        batch_op.create_index(batch_op.f('ix_calendar_feed_cache_state_key'), ['state_key'], unique=False)


def downgrade():
    op.execute(sa.text('DELETE FROM calendar_feed_cache'))
    with op.batch_alter_table('calendar_feed_cache', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_feed_cache_state_key'))
        batch_op.drop_column('modified_at')
        batch_op.drop_column('state_key')
