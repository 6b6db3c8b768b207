"""The client page's section of the client's groups. (The start page's sessions are in the
agenda: groups/agenda.py.)"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.dashboard import Panel
from core.templating import translated_labels

from .enrolment import client_referrals
from .finding import ENROLMENT_LABELS, client_groups, session_spans
from .models import ReferralStatus

CLIENT_GROUPS = 20


def client_groups_section(client, user) -> Panel:
    """The client page's groups: every staff member may see a group's page, and the client page
    has checked that the user may see the client."""
    groups, more = client_groups(client.id, CLIENT_GROUPS)
    return Panel("groups/_client_section.html",
                 {"groups": groups, "more": more, "spans": session_spans(g.id for g in groups),
                  "enrolment_labels": translated_labels(ENROLMENT_LABELS)}, order=30)


REFERRAL_LABELS = {
    ReferralStatus.PENDING.value: _l("Waiting for the facilitators"),
    ReferralStatus.ENROLLED.value: _l("Taken into the group"),
    ReferralStatus.WAITING.value: _l("On the waiting list"),
    ReferralStatus.DECLINED.value: _l("Declined by the facilitators"),
}


def client_referrals_section(client, user) -> Panel:
    """The referring worker sees here what came of a referral (and why it was declined): the
    client page has checked that the user may see the client."""
    return Panel("groups/_client_referrals.html",
                 {"referrals": client_referrals(client.id), "labels": translated_labels(REFERRAL_LABELS)}, order=35)
