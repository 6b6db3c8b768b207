"""pair safety's overdue alert: when it went out (alert_sent_at), apart from when a run claimed
it (alerted_at), so that a run that died between the two is taken over (safety.worker)

Revision ID: a7d2e9c4b1f3
Revises: f1a2c3d4e5b6
Create Date: 2026-12-07 06:00:00

"""
import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = 'a7d2e9c4b1f3'
down_revision = 'f1a2c3d4e5b6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('safety_check') as batch_op:
        batch_op.add_column(sa.Column('alert_sent_at', core.db.UTCDateTime(timezone=True), nullable=True))
    # Before this, a claim was the sending: an alert claimed then counts as sent, never again.
    op.execute("UPDATE safety_check SET alert_sent_at = alerted_at WHERE alerted_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('safety_check') as batch_op:
        batch_op.drop_column('alert_sent_at')
