"""venue calendar feeds as subscriptions (calendar_subscription.kind 'outreach_venue') and contact
settings per unit (team_settings.unit_id; each existing unit gets the installation row's values,
which stays as the fallback of units without their own)

Revision ID: e0b73c35ca14
Revises: a61c0d5e2f73
Create Date: 2026-12-06 14:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e0b73c35ca14'
down_revision = 'a61c0d5e2f73'
branch_labels = None
depends_on = None

# Written out, not imported: a migration must not change when the models do later.
KINDS_BEFORE = ('staff', 'group', 'partner', 'unit')
KINDS_AFTER = KINDS_BEFORE + ('outreach_venue',)


def _in_list(values) -> str:
    return ', '.join(f"'{v}'" for v in values)


def _kinds(values) -> None:
    with op.batch_alter_table('calendar_subscription', schema=None) as batch_op:
        batch_op.drop_constraint('ck_calendar_subscription_kind', type_='check')
        batch_op.create_check_constraint('ck_calendar_subscription_kind', f'kind IN ({_in_list(values)})')


def upgrade():
    _kinds(KINDS_AFTER)
    with op.batch_alter_table('team_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_team_settings_unit_id'), ['unit_id'])
        batch_op.create_foreign_key(batch_op.f('fk_team_settings_unit_id_unit'), 'unit', ['unit_id'], ['id'],
                                    ondelete='CASCADE')
    # Each unit starts with what the one row said (the lead of each unit then edits their own);
    # the row itself stays, with no unit, as the fallback of units made later.
    bind = op.get_bind()
    settings = sa.table('team_settings', sa.column('id', sa.Integer), sa.column('unit_id', sa.Integer),
                        sa.column('contact_phone', sa.String), sa.column('opening_hours', sa.String),
                        sa.column('updated_by_id', sa.Integer), sa.column('updated_at', sa.DateTime(timezone=True)),
                        sa.column('version', sa.Integer))
    unit = sa.table('unit', sa.column('id', sa.Integer))
    row = bind.execute(sa.select(settings.c.contact_phone, settings.c.opening_hours, settings.c.updated_by_id,
                                 settings.c.updated_at).order_by(settings.c.id).limit(1)).first()
    if row is not None:
        for (unit_id,) in bind.execute(sa.select(unit.c.id).order_by(unit.c.id)).all():
            bind.execute(settings.insert().values(unit_id=unit_id, contact_phone=row[0], opening_hours=row[1],
                                                  updated_by_id=row[2], updated_at=row[3], version=1))


def downgrade():
    bind = op.get_bind()
    settings = sa.table('team_settings', sa.column('unit_id', sa.Integer))
    bind.execute(settings.delete().where(settings.c.unit_id.is_not(None)))
    with op.batch_alter_table('team_settings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_team_settings_unit_id_unit'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_team_settings_unit_id'), type_='unique')
        batch_op.drop_column('unit_id')
    bind.execute(sa.text("DELETE FROM calendar_subscription WHERE kind = 'outreach_venue'"))
    _kinds(KINDS_BEFORE)
