"""outreach: the venue's on-site details and trial review; what a visit records (people new/known, one-to-one/group, more topics, errands, referrals,
staff advised, queue, checked note, not held with a reason)

Revision ID: b7e24d91c3a6
Revises: d4e7a1c93b50
Create Date: 2026-12-06 08:15:00

"""
import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = 'b7e24d91c3a6'
down_revision = 'd4e7a1c93b50'
branch_labels = None
depends_on = None

COUNTS = ('topic_work', 'topic_substance', 'topic_loneliness', 'people_new', 'met_one_to_one', 'met_in_group',
          'errands_sorted', 'referred_office', 'referred_kela', 'staff_advised')


VENUE_TEXTS = (('contact_name', 120), ('contact_phone', 32), ('contact_email', 254), ('opening_hours', 200),
               ('review_decision', 10))
VENUE_NOTES = ('private_space_note', 'safety_note', 'review_note')


def upgrade():
    with op.batch_alter_table('outreach_venue', schema=None) as batch_op:
        for name, length in VENUE_TEXTS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), server_default='', nullable=False))
        for name in VENUE_NOTES:
            batch_op.add_column(sa.Column(name, sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('trial_review_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', core.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('outreach_visit_report', schema=None) as batch_op:
        for name in COUNTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('queue', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('note', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('held', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('not_held_reason', sa.String(length=20), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('outreach_venue', schema=None) as batch_op:
        for name in ('reviewed_at', 'trial_review_on', *reversed(VENUE_NOTES),
                     *reversed([n for n, _length in VENUE_TEXTS])):
            batch_op.drop_column(name)
    with op.batch_alter_table('outreach_visit_report', schema=None) as batch_op:
        for name in ('not_held_reason', 'held', 'note', 'queue', *reversed(COUNTS)):
            batch_op.drop_column(name)
