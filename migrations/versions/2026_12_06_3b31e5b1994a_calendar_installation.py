"""calendar installation: UIDs unique to the installation

The one row is created here with a random UID domain and the time of the migration: events
created before it keep their "@kohtaamo" UIDs (subscribers already have them), later ones get
the installation's domain (calendar_export.installation).

Revision ID: 3b31e5b1994a
Revises: 5e1f0a7c9b23
Create Date: 2026-12-06 04:30:00

"""
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = '3b31e5b1994a'
down_revision = '5e1f0a7c9b23'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_installation',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('uid_domain', sa.String(length=100), nullable=False),
    sa.Column('legacy_uids_before', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_installation'))
    )
    now = datetime.now(UTC)
    rows = sa.table('calendar_installation', sa.column('id', sa.Integer), sa.column('uid_domain', sa.String),
                    sa.column('legacy_uids_before', core.db.UTCDateTime(timezone=True)),
                    sa.column('created_at', core.db.UTCDateTime(timezone=True)))
    op.bulk_insert(rows, [{'id': 1, 'uid_domain': f'{secrets.token_hex(8)}.kohtaamo', 'legacy_uids_before': now,
                           'created_at': now}])


def downgrade():
    op.drop_table('calendar_installation')
