"""Message texts in the recipient's language: short, and nothing sensitive (no client name, no
group title, no meeting purpose): only that there is an appointment, when and where."""
from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date
from flask_babel import force_locale, gettext as _

from core.formatting import format_locale, local_time
from core.timeutil import to_local

from core.channels import one_line

LANGUAGES = ("fi", "sv", "en")


def _lang(language: str | None) -> str:
    return language if language in LANGUAGES else "fi"


def when_text(starts_at: datetime, language: str, today: date | None = None, place: str = "") -> str:
    """"huomenna to 3.12. klo 10.00, Kauppakatu 5" in the current (forced) locale."""
    local = to_local(starts_at)
    lang = _lang(language)
    # A short day without the year; the clock as every other time in the language (core.formatting).
    day = format_date(local.date(), "EEE d MMM" if lang == "en" else "EEE d.M.", locale=format_locale(lang))
    clock = local_time(starts_at, locale=lang)
    text = _("%(date)s at %(time)s", date=day, time=clock)
    if today is not None:
        if local.date() == today:
            text = _("today") + " " + text
        elif (local.date() - today).days == 1:
            text = _("tomorrow") + " " + text
    if place:
        text += ", " + place
    return text


def reminder_text(what: str, starts_at: datetime, place: str, language: str, today: date, stop_url: str = "") -> str:
    """what is "session" (a group meeting) or "meeting" (an appointment / network meeting)."""
    with force_locale(_lang(language)):
        when = when_text(starts_at, language, today, place)
        if what == "session":
            text = _("Reminder: group meeting %(when)s.", when=when)
        else:
            text = _("Reminder: appointment %(when)s.", when=when)
        if stop_url:
            text += " " + _("No more reminders: %(url)s", url=stop_url)
        return text


def new_time_text(starts_at: datetime, place: str, language: str, stop_url: str = "") -> str:
    with force_locale(_lang(language)):
        text = _("We tried to reach you. Your new appointment: %(when)s. If the time does not suit you, "
                 "please call us.", when=when_text(starts_at, language, None, place))
        if stop_url:
            text += " " + _("No more reminders: %(url)s", url=stop_url)
        return text


def invitation_texts(method: str, change: str, starts_at: datetime, place: str, language: str) -> tuple[str, str]:
    """(subject, body) of a meeting invitation, update or cancellation."""
    with force_locale(_lang(language)):
        when = when_text(starts_at, language, None, place)
        if method == "CANCEL" and change == "removed":
            subject = _("No longer invited: network meeting %(when)s", when=when)
            body = _("You no longer need to attend the network meeting %(when)s. The attached calendar file "
                     "removes it from your calendar.", when=when)
        elif method == "CANCEL":
            subject = _("Cancelled: network meeting %(when)s", when=when)
            body = _("The network meeting %(when)s has been cancelled. The attached calendar file removes it "
                     "from your calendar.", when=when)
        elif change == "created":
            subject = _("Invitation: network meeting %(when)s", when=when)
            body = _("You are invited to a network meeting %(when)s. The attached calendar file adds it to "
                     "your calendar.", when=when)
        else:
            subject = _("Updated: network meeting %(when)s", when=when)
            body = _("The network meeting has changed. New time: %(when)s. The attached calendar file updates "
                     "your calendar.", when=when)
        # The place is typed by staff: a line break in it must not reach the Subject header.
        return one_line(subject), body


def subject_for(kind: str, language: str) -> str:
    with force_locale(_lang(language)):
        if kind == "new_time":
            return _("Your new appointment")
        return _("Reminder")


def meeting_summary(language: str) -> str:
    with force_locale(_lang(language)):
        return _("Network meeting")


def contact_line(phone: str, hours: str, language: str) -> str:
    """"Questions: call 040 123 4567 (Mon–Fri 9–15)." from the unit's settings ("" when no number)."""
    phone, hours = one_line(phone), one_line(hours)
    if not phone:
        return ""
    with force_locale(_lang(language)):
        if hours:
            return _("Questions: call us on %(phone)s (%(hours)s).", phone=phone, hours=hours)
        return _("Questions: call us on %(phone)s.", phone=phone)


def change_notice_text(what: str, old_start: datetime, new_start: datetime | None, place: str,
                       language: str) -> tuple[str, str]:
    """(subject, body) telling that an appointment or a group meeting moved (new time and place)
    or was cancelled (new_start None). Names nothing but the times and the place."""
    with force_locale(_lang(language)):
        old = when_text(old_start, language)
        if new_start is None:
            subject = _("Cancelled appointment")
            if what == "session":
                body = _("Cancelled: your group meeting %(when)s will not take place.", when=old)
            else:
                body = _("Cancelled: your appointment %(when)s will not take place.", when=old)
        else:
            subject = _("Changed appointment")
            new = when_text(new_start, language, None, place)
            if what == "session":
                body = _("Change: your group meeting %(old)s has moved. New time: %(new)s.", old=old, new=new)
            else:
                body = _("Change: your appointment %(old)s has moved. New time: %(new)s.", old=old, new=new)
        return subject, body


def relative_invitation_sms(starts_at: datetime, place: str, language: str) -> str:
    """The SMS a relative without e-mail gets instead of a calendar invitation."""
    with force_locale(_lang(language)):
        return _("You are invited to a network meeting %(when)s.", when=when_text(starts_at, language, None, place))


def offer_text(first_session: datetime | None, deadline: datetime, link: str, language: str) -> tuple[str, str]:
    """(subject, body) offering a free place in a group; the link is where the client answers."""
    with force_locale(_lang(language)):
        subject = _("A place in a group for you")
        by = when_text(deadline, language)
        if first_session is not None:
            body = _("A place has opened for you in a group. Next group session: %(when)s. Please answer by %(by)s: "
                     "%(link)s", when=when_text(first_session, language), by=by, link=link)
        else:
            body = _("A place has opened for you in a group. Please answer by %(by)s: %(link)s", by=by, link=link)
        return subject, body
