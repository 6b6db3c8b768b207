"""pair safety: one field check per home visit or outreach visit (arrived, done, margin, contact
person, alert, resolution; no client data), and its four kinds in the security log

Revision ID: 7a1f3c9e5b20
Revises: e0b73c35ca14
Create Date: 2026-12-06 14:00:00

"""
import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = '7a1f3c9e5b20'
down_revision = 'e0b73c35ca14'
branch_labels = None
depends_on = None

# Written out, not imported: a migration must not change when the models do later.
SECURITY_KINDS = ('totp_enrolled', 'totp_removed', 'totp_reset', 'recovery_code_used', 'passkey_added',
                  'passkey_removed', 'requirement_on', 'requirement_off')
SAFETY_KINDS = ('safety_arrived', 'safety_done', 'safety_alerted', 'safety_resolved')


def _in_list(values) -> str:
    return ', '.join(f"'{v}'" for v in values)


def _security_kinds(values) -> None:
    with op.batch_alter_table('security_event', schema=None) as batch_op:
        batch_op.drop_constraint('ck_security_event_kind', type_='check')
        batch_op.create_check_constraint('ck_security_event_kind', f'kind IN ({_in_list(values)})')


def upgrade():
    op.create_table(
        'safety_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=True),
        sa.Column('outreach_visit_id', sa.Integer(), nullable=True),
        sa.Column('margin_minutes', sa.Integer(), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('arrived_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('arrived_by_id', sa.Integer(), nullable=True),
        sa.Column('done_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('done_by_id', sa.Integer(), nullable=True),
        sa.Column('alerted_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('resolved_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint('(appointment_id IS NULL) <> (outreach_visit_id IS NULL)',
                           name=op.f('ck_safety_check_one_visit')),
        sa.CheckConstraint("kind IN ('home_visit', 'outreach')", name=op.f('ck_safety_check_kind')),
        sa.CheckConstraint('margin_minutes > 0', name=op.f('ck_safety_check_margin_positive')),
        sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'],
                                name=op.f('fk_safety_check_appointment_id_appointment'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['outreach_visit_id'], ['outreach_visit.id'],
                                name=op.f('fk_safety_check_outreach_visit_id_outreach_visit'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['contact_id'], ['user.id'], name=op.f('fk_safety_check_contact_id_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['arrived_by_id'], ['user.id'], name=op.f('fk_safety_check_arrived_by_id_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['done_by_id'], ['user.id'], name=op.f('fk_safety_check_done_by_id_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], name=op.f('fk_safety_check_resolved_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_check')),
        sa.UniqueConstraint('appointment_id', name=op.f('uq_safety_check_appointment_id')),
        sa.UniqueConstraint('outreach_visit_id', name=op.f('uq_safety_check_outreach_visit_id')),
    )
    op.create_index('ix_safety_check_open', 'safety_check', ['done_at', 'resolved_at', 'arrived_at'], unique=False)
    _security_kinds(SECURITY_KINDS + SAFETY_KINDS)


def downgrade():
    op.execute(sa.text(f"DELETE FROM security_event WHERE kind IN ({_in_list(SAFETY_KINDS)})"))
    _security_kinds(SECURITY_KINDS)
    op.drop_index('ix_safety_check_open', table_name='safety_check')
    op.drop_table('safety_check')
