"""Message texts in the recipient's language: short, and nothing sensitive (no client name, no
group title, no meeting purpose): only that there is an appointment, when and where."""
from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date
from flask_babel import force_locale, gettext as _, pgettext

from core.channels import one_line
from core.formatting import format_locale, local_time
from core.timeutil import to_local

LANGUAGES = ("fi", "sv", "en")

# Plain language (selkokieli, lättläst, plain English; docs/PLAIN_LANGUAGE.md): short sentences,
# one thing per sentence, the reader addressed as "you", no abbreviations (the weekday written
# out, "kello" not "klo"), no "-han/-hän" politeness, active verbs. tests/test_plain_language.py
# measures the rendered Finnish texts and the SMS lengths.


def _lang(language: str | None) -> str:
    return language if language in LANGUAGES else "fi"


def when_text(starts_at: datetime, language: str, today: date | None = None, place: str = "") -> str:
    """"huomenna tiistaina 3.12. kello 10.00" in the current (forced) locale (", Kauppakatu 5"
    after it when a place is given)."""
    local = to_local(starts_at)
    lang = _lang(language)
    # The weekday written out, the day without the year (CLDR's Finnish format weekday is the
    # essive: "tiistaina"); the clock as every other time in the language (core.formatting).
    day = format_date(local.date(), "EEEE d MMM" if lang == "en" else "EEEE d.M.", locale=format_locale(lang))
    clock = local_time(starts_at, locale=lang)
    text = pgettext("message to a client", "%(date)s at %(time)s", date=day, time=clock)
    if today is not None:
        if local.date() == today:
            text = _("today") + " " + text
        elif (local.date() - today).days == 1:
            text = _("tomorrow") + " " + text
    if place:
        text += ", " + place
    return text


def place_sentence(place: str) -> str:
    """"Paikka: Kauppakatu 5." ("" without a place): the place is a sentence of its own."""
    place = one_line(place).rstrip(" .")
    return _("Place: %(place)s.", place=place) if place else ""


def _join(*sentences: str) -> str:
    return " ".join(s for s in sentences if s)


def _stop(stop_url: str) -> str:
    return _("Stop reminders: %(url)s", url=stop_url) if stop_url else ""


def reminder_text(what: str, starts_at: datetime, place: str, language: str, today: date, stop_url: str = "") -> str:
    """what is "session" (a group session), "network" (a network meeting) or "meeting" (an
    appointment): each its own word (docs/GLOSSARY.md)."""
    with force_locale(_lang(language)):
        when = when_text(starts_at, language, today)
        if what == "session":
            text = _("Reminder: you have a group session %(when)s.", when=when)
        elif what == "network":
            text = _("Reminder: you have a network meeting %(when)s.", when=when)
        else:
            text = _("Reminder: you have an appointment %(when)s.", when=when)
        return _join(text, place_sentence(place), _stop(stop_url))


def new_time_text(starts_at: datetime, place: str, language: str, stop_url: str = "") -> str:
    with force_locale(_lang(language)):
        return _join(_("We could not reach you."),
                     _("We have booked a new time for you: %(when)s.", when=when_text(starts_at, language)),
                     place_sentence(place), _("If the time does not suit you, call us."), _stop(stop_url))


def invitation_texts(method: str, change: str, starts_at: datetime, place: str, language: str) -> tuple[str, str]:
    """(subject, body) of a meeting invitation, update or cancellation."""
    with force_locale(_lang(language)):
        when = when_text(starts_at, language)
        # The subject without the place (the body and the calendar file have it): short enough
        # not to be folded (a folded ASCII Subject reaches the reader with a leading space).
        subject_when = when
        file_is_attached = _("This message has a calendar file.")
        if method == "CANCEL" and change == "removed":
            subject = _("No longer invited: network meeting %(when)s", when=subject_when)
            body = _join(_("You do not need to come to the network meeting %(when)s.", when=when), file_is_attached,
                         _("It removes the meeting from your calendar."))
        elif method == "CANCEL":
            subject = _("Cancelled: network meeting %(when)s", when=subject_when)
            body = _join(_("The network meeting %(when)s is cancelled.", when=when), file_is_attached,
                         _("It removes the meeting from your calendar."))
        elif change == "created":
            subject = _("Invitation: network meeting %(when)s", when=subject_when)
            body = _join(_("We invite you to a network meeting %(when)s.", when=when), place_sentence(place),
                         file_is_attached, _("It adds the meeting to your calendar."))
        else:
            subject = _("Updated: network meeting %(when)s", when=subject_when)
            body = _join(_("The network meeting has changed."), _("The new time is %(when)s.", when=when),
                         place_sentence(place), file_is_attached, _("It changes the meeting in your calendar."))
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
                       language: str, restored: bool = False) -> tuple[str, str]:
    """(subject, body) telling that an appointment, a group session or a network meeting moved (new time and place),
    was cancelled (new_start None) or takes place after all (``restored``: a cancellation undone).
    Names nothing but the times and the place."""
    with force_locale(_lang(language)):
        old = when_text(old_start, language)
        if restored and new_start is not None:
            subject = _("Changed appointment")
            when = when_text(new_start, language)
            if what == "session":
                held = _("Your group session %(when)s takes place after all.", when=when)
            elif what == "meeting":
                held = _("Your network meeting %(when)s takes place after all.", when=when)
            else:
                held = _("Your appointment %(when)s takes place after all.", when=when)
            body = _join(held, place_sentence(place))
        elif new_start is None:
            subject = _("Cancelled appointment")
            if what == "session":
                body = _("Your group session %(when)s is cancelled.", when=old)
            elif what == "meeting":
                body = _("The network meeting %(when)s is cancelled.", when=old)
            else:
                body = _("Your appointment %(when)s is cancelled.", when=old)
        else:
            subject = _("Changed appointment")
            if what == "session":
                moved = _("Your group session %(when)s has moved.", when=old)
            elif what == "meeting":
                moved = _("Your network meeting %(when)s has moved.", when=old)
            else:
                moved = _("Your appointment %(when)s has moved.", when=old)
            body = _join(moved, _("The new time is %(when)s.", when=when_text(new_start, language)),
                         place_sentence(place))
        return subject, body


def relative_invitation_sms(starts_at: datetime, place: str, language: str) -> str:
    """The SMS a relative without e-mail gets instead of a calendar invitation."""
    with force_locale(_lang(language)):
        return _join(_("We invite you to a network meeting %(when)s.", when=when_text(starts_at, language)),
                     place_sentence(place))


def offer_text(first_session: datetime | None, deadline: datetime, link: str, language: str) -> tuple[str, str]:
    """(subject, body) offering a free place in a group; the link is where the client answers."""
    with force_locale(_lang(language)):
        subject = _("A place in a group for you")
        next_session = _("The next group session is %(when)s.", when=when_text(first_session, language)) \
            if first_session is not None else ""
        body = _join(_("We have a place for you in a group."), next_session, _("Do you want the place?"),
                     _("Answer by %(by)s: %(link)s", by=when_text(deadline, language), link=link))
        return subject, body
