"""clients told of changes: waiting-list offers, the unit's contact settings, postal addresses

reminder_place_offer holds a waiting-list place offered by message (hashed single-use answer
token, deadline); team_settings holds the unit's contact phone and opening hours shown in every
message and letter; client gets an optional postal address with its consent date.

Revision ID: 4b8d2f6a1c93
Revises: a3b1c5d7e9f1
Create Date: 2026-12-06 07:01:38

"""
import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = '4b8d2f6a1c93'
down_revision = 'a3b1c5d7e9f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('team_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_phone', sa.String(length=32), nullable=False),
    sa.Column('opening_hours', sa.String(length=120), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_team_settings_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_settings'))
    )
    op.create_table('reminder_place_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('deadline', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answer_minutes', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('by_message', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_reminder_place_offer_client_id_client'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_reminder_place_offer_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_reminder_place_offer_enrolment_id_enrolment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['client_group.id'], name=op.f('fk_reminder_place_offer_group_id_client_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_place_offer')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_reminder_place_offer_token_hash'))
    )
    with op.batch_alter_table('reminder_place_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_place_offer_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_reminder_place_offer_due', ['status', 'deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_place_offer_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_place_offer_group_id'), ['group_id'], unique=False)

    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('postal_address', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('postal_consent_date', sa.Date(), nullable=True))
    # Existing clients have no address; the default is the models' (no server default kept).
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.alter_column('postal_address', existing_type=sa.String(length=300), server_default=None)



def downgrade():
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_column('postal_consent_date')
        batch_op.drop_column('postal_address')

    with op.batch_alter_table('reminder_place_offer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_place_offer_group_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_place_offer_enrolment_id'))
        batch_op.drop_index('ix_reminder_place_offer_due')
        batch_op.drop_index(batch_op.f('ix_reminder_place_offer_client_id'))

    op.drop_table('reminder_place_offer')
    op.drop_table('team_settings')
