"""appointments: one-to-one appointments of a client with one or two workers

Revision ID: a3b1c5d7e9f1
Revises: 9c3e5a7b2d41
Create Date: 2026-12-06 07:40:00

"""
import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = 'a3b1c5d7e9f1'
down_revision = '9c3e5a7b2d41'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'appointment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('worker1_id', sa.Integer(), nullable=False),
        sa.Column('worker2_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.Enum('office', 'home_visit', 'phone', 'video', name='appointment_kind',
                                  native_enum=False, create_constraint=True, length=20), nullable=False),
        sa.Column('starts_at', core.db.UTCDateTime(), nullable=False),
        sa.Column('ends_at', core.db.UTCDateTime(), nullable=False),
        sa.Column('place', sa.String(length=200), nullable=False),
        sa.Column('interpreter', sa.Boolean(), nullable=False),
        sa.Column('interpreter_language', sa.String(length=60), nullable=False),
        sa.Column('status', sa.Enum('booked', 'held', 'no_show', 'cancelled', name='appointment_status',
                                    native_enum=False, create_constraint=True, length=20), nullable=False),
        sa.Column('previous_id', sa.Integer(), nullable=True),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint('ends_at > starts_at', name='ck_appointment_ends_after_start'),
        sa.CheckConstraint('worker2_id IS NULL OR worker2_id <> worker1_id', name='ck_appointment_two_workers'),
        sa.ForeignKeyConstraint(['client_id'], ['client.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['previous_id'], ['appointment.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['worker1_id'], ['user.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['worker2_id'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_starts_at', ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_previous_id'), ['previous_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_worker1_id'), ['worker1_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_worker2_id'), ['worker2_id'], unique=False)
    # A no-show's new time is booked as an appointment (reminders.services.book_new_time).
    with op.batch_alter_table('reminder_follow_up', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_appointment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_reminder_follow_up_new_appointment_id'), ['new_appointment_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_reminder_follow_up_new_appointment_id_appointment'), 'appointment',
                                    ['new_appointment_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('reminder_follow_up', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reminder_follow_up_new_appointment_id_appointment'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_reminder_follow_up_new_appointment_id'))
        batch_op.drop_column('new_appointment_id')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        for name in ('ix_appointment_worker2_id', 'ix_appointment_worker1_id', 'ix_appointment_status',
                     'ix_appointment_previous_id', 'ix_appointment_client_id', 'ix_appointment_starts_at'):
            batch_op.drop_index(name)
    op.drop_table('appointment')
