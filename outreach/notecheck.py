"""Checking a visit's free note for what could identify a person met at the venue.

Outreach meets people without a client record, so there are no known names to look for (as
``register.services.names_in_text`` does for a client and their relatives). Instead the note is
checked for what names and identifiers look like: a Finnish personal identity code, a phone
number, an e-mail address, and a capitalised word inside a sentence (in Finnish and Swedish,
words in the middle of a sentence are capitalised only when they are names). Names of the venue
and its partner, and Kela, are no finding. The result is a warning with "save anyway", as for
plan items: the check guesses, the worker decides."""
from __future__ import annotations

import re
import unicodedata

IDENTITY_CODE = re.compile(r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Za-z]\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w])(?:\+\d{1,3}[\s-]?|0)\d{1,3}(?:[\s-]?\d){5,9}(?!\w)")
# Words written capitalised that are no names: the benefits agency and a few services the
# seeds name, in any inflection (compared by their start).
NOT_NAMES = ("kela", "te-", "hus", "a-klinik", "sosiaali", "diakon")
WORD = re.compile(r"[^\W\d_][\w'’-]*")


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def identifying_bits(text: str, *, known: tuple[str, ...] = ()) -> list[str]:
    """What in ``text`` looks like a name or an identifier, in the order found (no repeats).
    ``known``: names that are not people's (the venue's and the partner's)."""
    if not text:
        return []
    found: list[str] = []

    def add(bit: str) -> None:
        if bit not in found:
            found.append(bit)

    rest = text
    for pattern in (IDENTITY_CODE, EMAIL, PHONE):
        for match in pattern.finditer(rest):
            add(match.group().strip())
        rest = pattern.sub(" ", rest)
    # Inflected too ("Pysäkillä" for "Pysäkki"): compared by the start of each known word.
    known_stems = tuple({(f := _fold(w))[:max(3, len(f) - 2)] for name in known for w in WORD.findall(name or "")})
    # Sentences end at . ! ? : or a line break; the first word of each is capitalised anyway.
    for sentence in re.split(r"[.!?:;\n]+", rest):
        words = WORD.findall(sentence)
        for word in words[1:]:
            folded = _fold(word)
            if (len(word) < 2 or not word[0].isupper() or word.isupper() or folded.startswith(NOT_NAMES)
                    or folded.startswith(known_stems)):
                continue
            add(word)
    return found
