"""Plain language for clients and relatives (issue 27; docs/PLAIN_LANGUAGE.md): every text a
client or relative gets from Kohtaamo in Finnish (reminders, change notices, invitations,
waiting-list offers, the no-show follow-up SMS and letter, the opt-out and offer pages, the
printable plan, the feedback pages) is measured as a reader would meet it: the messages are
rendered by the functions that write them, the pages' sentences are read from the templates
and translated. The measures follow the Finnish plain-language centre's (Selkokeskus) advice:
short sentences, short words, no abbreviations, no "-han/-hän" politeness, no participle
constructions. And the SMS a client gets fits the GSM 7-bit alphabet and one SMS part.

The measures are deliberately blunt: they cannot say a text is plain, only catch the commonest
ways it is not. Each failed on the texts before this rewrite (see the report of branch a11y3).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext

from reminders import texts

ROOT = Path(__file__).resolve().parent.parent

# Templates whose reader is a client, a relative or a participant (not staff).
PARTICIPANT_TEMPLATES = [
    "reminders/templates/reminders/letter_body.html",
    "reminders/templates/reminders/offer_answer.html",
    "reminders/templates/reminders/stop.html",
    "meetings/templates/meetings/_plan_handout.html",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "feedback/templates/feedback").glob("public_*.html")),
    "feedback/templates/feedback/_code_form.html",
]

MAX_WORDS = 12           # per sentence (Selkokeskus: "short sentences"; most of ours have 4 to 8)
# Swedish and English say the same in more, shorter words (articles, prepositions, "at 10.00"
# where Finnish has one inflected word): "Varasimme sinulle uuden ajan" is 4 words, "We have
# booked a new time for you" 8.
MAX_WORDS_SV_EN = 15
MAX_LETTERS = 20         # per word (long Finnish compounds are hard to read)
LONG_WORDS_ALLOWED: set[str] = set()
# Abbreviations a reader must decode: the clock, weekdays, "for example", "and so on".
ABBREVIATIONS = {"klo", "ma", "ti", "ke", "to", "pe", "la", "su", "esim", "yms", "ym", "mm", "ns", "jne", "ko",
                 "puh", "krs", "n"}
# The polite clitic of a command or statement ("Vastaathan", "muistathan"): hard for a reader
# of Finnish as a second language, and it hides whether something is asked or told.
CLITIC = re.compile(r"\b\w{3,}th[aä]n\b", re.IGNORECASE)
# Participle constructions in place of a clause (lauseenvastikkeet): "Liitteenä oleva
# tiedosto", "ne lähettäneeseen yksikköön", "sovittuun tapaamiseen".
PARTICIPLE = re.compile(r"\bolev(?:a|an|aa|at|ia|ien|asta|assa|alla)\b|\w+neeseen\b|\w+(?:tt|nn|ll)uun\b", re.IGNORECASE)

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ])")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")

MONDAY = datetime(2026, 12, 7, 8, tzinfo=UTC)   # 10.00 in Helsinki
STOP = "https://kohtaamo.example.fi/reminders/stop/" + "x" * 22   # a real link's length (22-character token)
OFFER = "https://kohtaamo.example.fi/reminders/offer/" + "x" * 22


def rendered_messages(language: str, start: datetime = MONDAY) -> dict[str, str]:
    """Every message body and subject reminders.texts writes, for a typical case."""
    day_before = (start - timedelta(days=1)).date()
    place = "Kauppakatu 5"
    out = {
        "reminder (session)": texts.reminder_text("session", start, place, language, day_before, STOP),
        "reminder (appointment)": texts.reminder_text("meeting", start, place, language, day_before, STOP),
        "reminder today": texts.reminder_text("meeting", start, place, language, start.date(), ""),
        "reminder (network meeting)": texts.reminder_text("network", start, place, language, day_before, STOP),
        "new time after a no-show": texts.new_time_text(start, place, language, STOP),
        "relative's invitation SMS": texts.relative_invitation_sms(start, place, language),
        "contact line": texts.contact_line("040 123 4567", "ma–pe 9–15", language),
    }
    for method, change in (("REQUEST", "created"), ("REQUEST", "updated"), ("CANCEL", "cancelled"),
                           ("CANCEL", "removed")):
        _subject, body = texts.invitation_texts(method, change, start, place, language)
        out[f"invitation {change}"] = body
    for what in ("session", "meeting"):
        out[f"{what} moved"] = texts.change_notice_text(what, start, start + timedelta(days=2), place, language)[1]
        out[f"{what} cancelled"] = texts.change_notice_text(what, start, None, place, language)[1]
        out[f"{what} restored"] = texts.change_notice_text(what, start, start, place, language, restored=True)[1]
    out["offer"] = texts.offer_text(start, start - timedelta(days=2), OFFER, language)[1]
    out["offer without a session"] = texts.offer_text(None, start - timedelta(days=2), OFFER, language)[1]
    return out


def template_sentences(language: str) -> dict[str, str]:
    """Each translatable string of the participant templates, translated (placeholders as "X")."""
    out = {}
    for name in PARTICIPANT_TEMPLATES:
        source = (ROOT / name).read_text(encoding="utf-8")
        for msgid in re.findall(r'\b_\("((?:[^"\\]|\\.)+)"', source):
            with force_locale(language):
                translated = gettext(msgid)
            out[f"{name}: {msgid}"] = PLACEHOLDER.sub("X", translated.replace("%%", "%"))
    assert len(out) > 40, out
    return out


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text.strip()) if s]


def words(sentence: str) -> list[str]:
    out = []
    for token in sentence.split():
        token = token.strip(".,:;!?()“”\"'…")
        if token and any(ch.isalnum() for ch in token):
            out.append(token)
    return out


def problems_of(text: str, *, exempt: tuple[str, ...] = ()) -> list[str]:
    """What makes ``text`` hard to read by the measures above (the Finnish ones)."""
    found = []
    for sentence in sentences(text):
        ws = words(sentence)
        if len(ws) > MAX_WORDS:
            found.append(f"{len(ws)} words: {sentence!r}")
        for w in ws:
            if "://" in w or w in exempt:
                continue
            if sum(ch.isalpha() for ch in w) > MAX_LETTERS and w.lower() not in LONG_WORDS_ALLOWED:
                found.append(f"long word {w!r}")
            if w.lower() in ABBREVIATIONS:
                found.append(f"abbreviation {w!r} in {sentence!r}")
        for pattern, what in ((CLITIC, "-han/-hän"), (PARTICIPLE, "participle construction")):
            for match in pattern.finditer(sentence):
                found.append(f"{what} {match.group(0)!r} in {sentence!r}")
    return found


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def test_the_measures_catch_what_they_are_for():
    """The check itself, on sentences written to fail it (and one that passes)."""
    assert problems_of("Muistutus: ryhmäkerta huomenna to 3.12. klo 10.00, Kauppakatu 5.")  # abbreviations
    assert problems_of("Vastaathan viimeistään huomenna.")
    assert problems_of("Liitteenä oleva kalenteritiedosto poistaa sen kalenteristasi.")
    assert problems_of("Soita ne lähettäneeseen yksikköön.") and problems_of("Et päässyt sovittuun tapaamiseen.")
    assert problems_of("Jos saat yhä muistutuksia etkä halua niitä, soita ne lähettäneeseen yksikköön tai kerro "
                       "työntekijällesi heti huomenna.")
    assert problems_of("Sosiaalihuoltolainsäädäntöuudistus on kesken.")  # 38 letters
    assert problems_of("Emme tavoittaneet sinua. Varasimme sinulle uuden ajan: maanantaina 7.12. kello 10.00.") == []
    assert sentences("Uusi aika on tiistaina 8.12. kello 10.00. Paikka: Kauppakatu 5.") == [
        "Uusi aika on tiistaina 8.12. kello 10.00.", "Paikka: Kauppakatu 5."]


@pytest.mark.parametrize("weekday", range(7))
def test_finnish_messages_are_plain(ctx, weekday):
    """Every weekday: the longest Finnish weekday ("keskiviikkona") must fit too."""
    found = {name: problems_of(text, exempt=("Kauppakatu",))
             for name, text in rendered_messages("fi", MONDAY + timedelta(days=weekday)).items()}
    found = {name: p for name, p in found.items() if p}
    assert not found, "\n".join(f"{name}: {p}" for name, p in found.items())


def test_finnish_participant_pages_are_plain(ctx):
    found = {name: problems_of(text) for name, text in template_sentences("fi").items()}
    found = {name: p for name, p in found.items() if p}
    assert not found, "\n".join(f"{name}: {p}" for name, p in found.items())


@pytest.mark.parametrize("language", ["sv", "en"])
def test_swedish_and_english_sentences_are_short(ctx, language):
    """Lättläst and plain English: short sentences too (MAX_WORDS_SV_EN; the Finnish-only
    measures of abbreviations and word forms do not apply; Swedish writes "klockan", not "kl.")."""
    long = []
    for name, text in {**rendered_messages(language), **template_sentences(language)}.items():
        long += [f"{name}: {s!r}" for s in sentences(text) if len(words(s)) > MAX_WORDS_SV_EN]
        if re.search(r"\bkl\.", text):
            long.append(f"{name}: abbreviation kl. in {text!r}")
    assert not long, "\n".join(long)


# --- SMS length -------------------------------------------------------------------------------
# GSM 03.38: the 7-bit default alphabet (ä, ö, å, Ä, Ö, Å are in it, so Finnish and Swedish need
# no Unicode) and its extension table, whose characters take two septets. One character outside
# both turns the whole message into UCS-2, where one part holds 70 characters instead of 160.
GSM_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
             "¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENDED = "^{}\\[~]|€\f"
ONE_PART = 160      # septets in a single SMS
PART_OF_MANY = 153  # septets per part of a concatenated SMS (7 go to the header that joins them)


def septets(text: str) -> int:
    bad = sorted({ch for ch in text if ch not in GSM_BASIC and ch not in GSM_EXTENDED})
    assert not bad, f"not in the GSM 7-bit alphabet (the SMS would go as UCS-2, 70 characters a part): {bad} in {text!r}"
    return sum(2 if ch in GSM_EXTENDED else 1 for ch in text)


def sms_parts(text: str) -> int:
    n = septets(text)
    return 1 if n <= ONE_PART else -(-n // PART_OF_MANY)


def test_septet_counting():
    assert septets("Hei, ryhmäkerta on ÄÖÅ") == 22
    assert septets("€[]") == 6
    assert sms_parts("x" * 160) == 1 and sms_parts("x" * 161) == 2 and sms_parts("x" * 307) == 3
    with pytest.raises(AssertionError, match="UCS-2"):
        septets("ma–pe")   # an en dash is not in the alphabet


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
@pytest.mark.parametrize("weekday", range(7))
def test_reminder_sms_fits_one_part(ctx, language, weekday):
    """The limit chosen, and why: what the reader needs (what, when, where) in ONE part of 160
    GSM characters, on the longest weekday of each language, with a typical street address.
    The opt-out link (about 65 characters with a 22-character token) comes after it and may
    start a second part: it is required with every reminder, and squeezing it into the same
    160 would mean dropping the place or writing the weekday as "ke", the very things plain
    language asks for. So: the message without the link is one part; with it, at most two.
    The relative's invitation SMS and a change notice are sent without a link: one part."""
    start = MONDAY + timedelta(days=weekday)
    day_before = (start - timedelta(days=1)).date()
    for what in ("session", "meeting"):
        full = texts.reminder_text(what, start, "Kauppakatu 5", language, day_before, STOP)
        without_link = texts.reminder_text(what, start, "Kauppakatu 5", language, day_before, "")
        assert full.startswith(without_link) and STOP in full
        assert sms_parts(without_link) == 1, (septets(without_link), without_link)
        assert sms_parts(full) <= 2, (septets(full), full)
    after_no_show = texts.new_time_text(start, "Kauppakatu 5", language, "")
    assert sms_parts(after_no_show) == 1, (septets(after_no_show), after_no_show)
    for text in (texts.relative_invitation_sms(start, "Kauppakatu 5", language),
                 texts.change_notice_text("session", start, start + timedelta(days=1), "Kauppakatu 5", language)[1],
                 texts.change_notice_text("meeting", start, None, "Kauppakatu 5", language)[1]):
        assert sms_parts(text) == 1, (septets(text), text)


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_invitation_subjects_are_short_and_unfolded(ctx, language):
    """A subject is read in a list of mail: the kind of message and the time, nothing more (the
    place is in the body and in the calendar file). "Subject: " and the text fit one 78-character
    header line, so it is not folded: a folded all-ASCII subject is read back by Python's own
    parser with a leading space (checked here through the same build and parse as the mail test)."""
    from email import message_from_bytes, policy

    from core.channels import build_email

    for weekday in range(7):
        start = MONDAY + timedelta(days=weekday)
        for method, change in (("REQUEST", "created"), ("REQUEST", "updated"), ("CANCEL", "cancelled"),
                               ("CANCEL", "removed")):
            subject, body = texts.invitation_texts(method, change, start, "Kauppakatu 5, 2. kerros", language)
            assert len("Subject: " + subject) <= 78, subject
            assert "Kauppakatu" not in subject and "Kauppakatu 5, 2. kerros" in body or change != "created"
            raw = bytes(build_email({"MAIL_FROM": "kohtaamo@example.fi"}, to="a@example.fi", subject=subject,
                                    body=body))
            assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject
