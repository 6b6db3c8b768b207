"""domain values in the schema: every status and kind column is checked by the database (a CHECK
constraint per column, the values of the model's StrEnum); values outside them are first mapped

Revision ID: 5c8d2e7f1a94
Revises: e5c3a9d17b42
Create Date: 2026-12-06 10:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5c8d2e7f1a94'
down_revision = 'e5c3a9d17b42'
branch_labels = None
depends_on = None

# The values as they are today (written out, not imported: a migration must not change when the
# models do later). The models name each column's constraint after the column, so the full name is
# ck_<table>_<column> (core.extensions.NAMING_CONVENTION).
TARGETS = ('group', 'session', 'meeting', 'offer', 'appt')
RECIPIENTS = ('client', 'relative', 'contact')
ITEM_STATUSES = ('open', 'done', 'dropped', 'carried')
WINDOW_KINDS = ('session', 'group_end', 'meeting')
COLUMNS = {
    'user': {'role': ('facilitator', 'lead', 'county_admin')},
    'security_event': {'kind': ('totp_enrolled', 'totp_removed', 'totp_reset', 'recovery_code_used', 'passkey_added',
                                'passkey_removed', 'requirement_on', 'requirement_off')},
    'partner_organisation': {'kind': ('substance_abuse', 'employment', 'labour_force_centre', 'probation',
                                      'youth_outreach', 'aftercare', 'hospital', 'parish', 'ngo', 'other')},
    'client_group': {'status': ('idea', 'planning', 'enrolling', 'running', 'finished', 'evaluated', 'cancelled')},
    'group_session': {'status': ('scheduled', 'cancelled')},
    'enrolment': {'status': ('enrolled', 'waiting', 'offered', 'withdrawn')},
    'attendance': {'status': ('present', 'absent', 'excused')},
    'group_referral': {'status': ('pending', 'enrolled', 'waiting', 'declined')},
    'meeting': {'place_kind': ('office', 'home_visit', 'partner_venue', 'remote'),
                'status': ('planned', 'held', 'cancelled'),
                'client_identification': ('initials', 'name', 'none')},
    'meeting_participant': {'kind': ('staff', 'partner', 'relative', 'client'),
                            'invitation_status': ('invited', 'accepted', 'declined')},
    'action_item': {'status': ITEM_STATUSES},
    'action_item_status_change': {'old_status': ITEM_STATUSES, 'new_status': ITEM_STATUSES},
    'feedback_item_set': {'kind': WINDOW_KINDS},
    'feedback_window': {'kind': WINDOW_KINDS},
    'reminder_policy': {'target_kind': TARGETS},
    'reminder_outbox': {'kind': ('reminder', 'invitation', 'new_time', 'notice', 'offer'),
                        'target_kind': TARGETS, 'recipient_kind': RECIPIENTS, 'channel': ('sms', 'email'),
                        'status': ('pending', 'sending', 'sent', 'failed', 'manual', 'cancelled')},
    'reminder_opt_out': {'recipient_kind': RECIPIENTS, 'source': ('link', 'staff')},
    'reminder_opt_out_link': {'recipient_kind': RECIPIENTS},
    'reminder_follow_up': {'source_kind': TARGETS, 'status': ('open', 'reached', 'not_reached', 'closed')},
    'reminder_place_offer': {'status': ('open', 'accepted', 'declined', 'expired', 'settled')},
    'outreach_rule': {'frequency': ('monthly', 'weekly')},
    'outreach_visit': {'status': ('scheduled', 'cancelled', 'done')},
    'calendar_subscription': {'kind': ('staff', 'group', 'partner', 'unit')},
}

# A value still outside the column's values after trimming and lower-casing becomes this one: the
# value that does the least (no privilege, nothing sent, nothing decided, shown for a person to
# look at again). A column missing here has no such value: the upgrade stops and names the rows.
FALLBACK = {
    ('user', 'role'): 'facilitator',
    ('partner_organisation', 'kind'): 'other',
    ('client_group', 'status'): 'planning',
    ('group_session', 'status'): 'scheduled',
    ('enrolment', 'status'): 'waiting',
    ('group_referral', 'status'): 'pending',
    ('meeting', 'place_kind'): 'office',
    ('meeting', 'status'): 'planned',
    ('meeting', 'client_identification'): 'initials',
    ('meeting_participant', 'invitation_status'): 'invited',
    ('action_item', 'status'): 'open',
    ('reminder_outbox', 'status'): 'cancelled',
    ('reminder_opt_out', 'source'): 'staff',
    ('reminder_follow_up', 'status'): 'open',
    ('reminder_place_offer', 'status'): 'settled',
    ('outreach_visit', 'status'): 'scheduled',
}


# (kind, id) links (reminders.links, calendar_export.links): rows whose record is gone.
# (table, kind column, id column, kind, the record's table)
LINKS = (
    [('reminder_policy', 'target_kind', 'target_id', k, t)
     for k, t in (('group', 'client_group'), ('meeting', 'meeting'), ('appt', 'appointment'))]
    + [(table, kind_col, id_col, k, t)
       for table, kind_col, id_col in (('reminder_outbox', 'target_kind', 'target_id'),
                                       ('reminder_follow_up', 'source_kind', 'source_id'))
       for k, t in (('session', 'group_session'), ('meeting', 'meeting'), ('appt', 'appointment'),
                    ('offer', 'reminder_place_offer'))]
    + [(table, 'recipient_kind', 'recipient_id', k, t)
       for table in ('reminder_outbox', 'reminder_opt_out', 'reminder_opt_out_link')
       for k, t in (('client', 'client'), ('relative', 'relative'), ('contact', 'partner_contact'))]
    + [('calendar_subscription', 'kind', 'target_id', k, t)
       for k, t in (('staff', 'user'), ('group', 'client_group'), ('partner', 'partner_organisation'))]
)


def _remove_orphans(bind) -> None:
    for table, kind_col, id_col, kind, target in LINKS:
        t = sa.table(table, sa.column(kind_col), sa.column(id_col))
        r = sa.table(target, sa.column('id'))
        bind.execute(t.delete().where(t.c[kind_col] == kind,
                                      ~sa.exists().where(r.c.id == t.c[id_col])))


def _in_list(values) -> str:
    return ', '.join(f"'{v}'" for v in values)


def _map_values(bind) -> None:
    for table, columns in COLUMNS.items():
        for column, values in columns.items():
            t = sa.table(table, sa.column('id'), sa.column(column))
            col = t.c[column]
            # ' Running' or 'HELD' typed in by hand: the value meant.
            normalised = sa.func.lower(sa.func.trim(col))
            bind.execute(t.update().where(col.not_in(values), normalised.in_(values)).values({column: normalised}))
            fallback = FALLBACK.get((table, column))
            if fallback is not None:
                bind.execute(t.update().where(sa.or_(col.not_in(values), col.is_(None))).values({column: fallback}))
                continue
            bad = bind.execute(sa.select(t.c.id, col).where(col.not_in(values))).fetchall()
            if bad:
                raise RuntimeError(f"{table}.{column} holds values outside {values} with no safe replacement "
                                   f"(rows {[(r[0], r[1]) for r in bad[:10]]}); correct them and upgrade again")


def upgrade():
    _map_values(op.get_bind())
    _remove_orphans(op.get_bind())
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, values in columns.items():
                batch_op.create_check_constraint(f'ck_{table}_{column}', f'{column} IN ({_in_list(values)})')


def downgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_constraint(f'ck_{table}_{column}', type_='check')
