"""feedback: the scale of an item set (0–10 or the short form's 1–5); built-in sets whose
wording was rewritten in plain language are retired when answers were collected with them

Revision ID: c4e8a1f3b927
Revises: 4b8d2f6a1c93
Create Date: 2026-12-06 07:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e8a1f3b927'
down_revision = '4b8d2f6a1c93'
branch_labels = None
depends_on = None

# Built-in sets stored under these keys carry the wording before the plain-language rewrite.
REWORDED = ("session", "group_end", "meeting")


def upgrade():
    with op.batch_alter_table('feedback_item_set', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scale', sa.String(length=8), server_default='0-10', nullable=False))
    bind = op.get_bind()
    for key in REWORDED:
        # A stored built-in set that answers were collected with keeps the questions as they were
        # asked, under a retired key (still built-in: it cannot be edited); the new wording is
        # then stored under the key the first time it is used. One that no window used yet just
        # goes: it is stored again, in the new wording, when first used.
        used = bind.execute(sa.text(
            "SELECT s.id FROM feedback_item_set s WHERE s.builtin_key = :key AND (EXISTS "
            "(SELECT 1 FROM feedback_window w WHERE w.item_set_id = s.id) OR EXISTS "
            "(SELECT 1 FROM feedback_group_settings g WHERE g.session_item_set_id = s.id "
            "OR g.end_item_set_id = s.id))"), {"key": key}).scalar()
        if used is not None:
            bind.execute(sa.text("UPDATE feedback_item_set SET builtin_key = :retired WHERE id = :id"),
                         {"retired": f"{key}@2025", "id": used})
        else:
            bind.execute(sa.text("DELETE FROM feedback_item WHERE item_set_id IN "
                                 "(SELECT id FROM feedback_item_set WHERE builtin_key = :key)"), {"key": key})
            bind.execute(sa.text("DELETE FROM feedback_item_set WHERE builtin_key = :key"), {"key": key})


def downgrade():
    # The retired built-in sets keep their retired keys (their wording is what was asked).
    with op.batch_alter_table('feedback_item_set', schema=None) as batch_op:
        batch_op.drop_column('scale')
