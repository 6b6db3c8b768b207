"""access log: a hash chain over its rows (existing rows are chained in id order here)

Revision ID: 7a3c5e9b1d24
Revises: 7a3c5e9b1d20
Create Date: 2026-12-06 05:40:00

"""
import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision = '7a3c5e9b1d24'
down_revision = '7a3c5e9b1d20'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade():
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sa.String(length=64), nullable=True))

    # The hash is the application's (register.chain.row_hash), so that verify accepts the rows
    # chained here exactly as those appended later.
    from register.chain import GENESIS, row_hash

    log = sa.table('access_log', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer),
                   sa.column('user_name', sa.String), sa.column('client_id', sa.Integer),
                   sa.column('action', sa.String), sa.column('detail', sa.String),
                   sa.column('at', core.db.UTCDateTime(timezone=True)),
                   sa.column('prev_hash', sa.String), sa.column('row_hash', sa.String))
    bind = op.get_bind()
    prev, last_id = GENESIS, 0
    while True:
        rows = bind.execute(sa.select(log).where(log.c.id > last_id).order_by(log.c.id).limit(BATCH)).all()
        if not rows:
            break
        updates = []
        for row in rows:
            own = row_hash(prev, row._mapping)
            updates.append({'key': row.id, 'prev': prev, 'own': own})
            prev, last_id = own, row.id
        bind.execute(log.update().where(log.c.id == sa.bindparam('key'))
                     .values(prev_hash=sa.bindparam('prev'), row_hash=sa.bindparam('own')), updates)


def downgrade():
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
