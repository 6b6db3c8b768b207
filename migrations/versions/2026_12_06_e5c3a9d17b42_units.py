"""units: a wellbeing-services county's teams. Unit and staff membership; clients and groups
belong to a unit, partner organisations and outreach venues to one or none (shared); the unit
calendar feed names its unit. An existing single-team installation gets one default unit that
every staff member, client, group and unit feed is put in, so it works as before.

Revision ID: e5c3a9d17b42
Revises: e5a9c3f17b28
Create Date: 2026-12-06 10:40:00

"""
import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = 'e5c3a9d17b42'
down_revision = 'e5a9c3f17b28'
branch_labels = None
depends_on = None

DEFAULT_NAME = 'Yksikkö'   # accounts.units.DEFAULT_UNIT_NAME (data: renamed on the units page)
DEFAULT_SLUG = 'default'

OWNED = ('client', 'client_group')                        # unit_id NOT NULL
SHARED = ('partner_organisation', 'outreach_venue')       # unit_id NULL = shared by every unit


def upgrade():
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('name', name=op.f('uq_unit_name')),
    sa.UniqueConstraint('slug', name=op.f('uq_unit_slug'))
    )
    op.create_table('unit_membership',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_unit_membership_unit_id_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_unit_membership_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'unit_id', name=op.f('pk_unit_membership'))
    )
    with op.batch_alter_table('unit_membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_membership_unit_id'), ['unit_id'], unique=False)

    conn = op.get_bind()
    # The default unit, when there is anything to put in it (a new installation's first unit is
    # made by the app: accounts.units.default_unit).
    has_data = any(conn.execute(sa.text(f'SELECT 1 FROM {table} LIMIT 1')).first() is not None
                   for table in ('"user"', 'client', 'client_group'))
    unit_id = None
    if has_data:
        insert = sa.text("INSERT INTO unit (name, slug, created_at) VALUES (:name, :slug, :now) RETURNING id")
        insert = insert.bindparams(sa.bindparam('now', type_=core.db.UTCDateTime()))
        unit_id = conn.execute(insert, {'name': DEFAULT_NAME, 'slug': DEFAULT_SLUG, 'now': core.db.utcnow()}).scalar_one()
        conn.execute(sa.text('INSERT INTO unit_membership (user_id, unit_id) SELECT id, :unit FROM "user"'),
                     {'unit': unit_id})

    for table in OWNED + SHARED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        if unit_id is not None:
            conn.execute(sa.text(f'UPDATE {table} SET unit_id = :unit'), {'unit': unit_id})
    for table in OWNED + SHARED:
        owned = table in OWNED
        with op.batch_alter_table(table, schema=None) as batch_op:
            if owned:
                batch_op.alter_column('unit_id', existing_type=sa.Integer(), nullable=False)
            batch_op.create_index(batch_op.f(f'ix_{table}_unit_id'), ['unit_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_unit_id_unit'), 'unit', ['unit_id'], ['id'],
                                        ondelete='RESTRICT' if owned else 'SET NULL')
    # The unit feed now names its unit (calendar_subscription.target_id, as the other kinds do).
    if unit_id is not None:
        conn.execute(sa.text("UPDATE calendar_subscription SET target_id = :unit WHERE kind = 'unit'"),
                     {'unit': unit_id})


def downgrade():
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE calendar_subscription SET target_id = NULL WHERE kind = 'unit'"))
    for table in reversed(OWNED + SHARED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_unit_id_unit'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_unit_id'))
            batch_op.drop_column('unit_id')
    with op.batch_alter_table('unit_membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_membership_unit_id'))
    op.drop_table('unit_membership')
    op.drop_table('unit')
