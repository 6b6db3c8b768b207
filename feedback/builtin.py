"""The project's own item wording (not a copyrighted scale). Labels are data, in fi/sv/en, so a
lead can add other sets in the same shape.

Participants read these, so they are in plain language (selkokieli, lättläst, plain English):
each item is one short question about one thing, and it asks "how much", which is what the
0–10 scale's ends say ("0, not at all", "10, very much"). The short form asks "how was it",
which is what its faces' words say ("very bad" … "very good").

A built-in set is stored the first time it is used, under its key; once answers have been
collected with a stored set its wording stays as asked (migration 2026_12_06_c4e8a1f3b927 keeps
the old wording under a retired key and lets the new one be stored afresh)."""
from __future__ import annotations

from typing import TypedDict

from .scales import SMILEY, ZERO_TO_TEN


class BuiltinSet(TypedDict):
    kind: str                     # what the set is for (a window's kind)
    scale: str
    name: str
    comment: dict[str, str]       # the free comment's label, by language
    items: list[dict[str, str]]   # each question, by language


COMMENT_ANYTHING = {"fi": "Haluatko sanoa vielä jotain? (vapaaehtoinen)",
                    "sv": "Vill du säga något mer? (frivilligt)",
                    "en": "Anything else you want to say? (optional)"}

# key -> spec; "kind" is what the set is for (a window's kind).
BUILTIN_SETS: dict[str, BuiltinSet] = {
    "session": {
        "kind": "session",
        "scale": ZERO_TO_TEN,
        "name": "Kohtaamo: ryhmäkerran palaute",
        "comment": COMMENT_ANYTHING,
        "items": [
            {"fi": "Viihdyitkö ryhmässä tänään?", "sv": "Trivdes du i gruppen i dag?",
             "en": "Did you enjoy the group today?"},
            {"fi": "Oliko tämän päivän aiheesta sinulle hyötyä?", "sv": "Hade du nytta av dagens tema?",
             "en": "Was today's topic useful to you?"},
            {"fi": "Auttoivatko ohjaajat sinua tänään?", "sv": "Hjälpte ledarna dig i dag?",
             "en": "Did the group leaders help you today?"},
            {"fi": "Oletko tyytyväinen tämän päivän ryhmäkertaan?", "sv": "Är du nöjd med dagens gruppträff?",
             "en": "Are you happy with today's group session?"},
        ],
    },
    "session_short": {
        "kind": "session",
        "scale": SMILEY,
        "name": "Kohtaamo: lyhyt palaute (3 kysymystä, hymiöt)",
        "comment": COMMENT_ANYTHING,
        "items": [
            {"fi": "Millainen olo sinulla oli ryhmässä?", "sv": "Hur kändes det i gruppen?",
             "en": "How did you feel in the group?"},
            {"fi": "Millainen oli tämän päivän aihe?", "sv": "Hur var dagens tema?",
             "en": "How was today's topic?"},
            {"fi": "Millainen tämä ryhmäkerta oli sinulle?", "sv": "Hur var den här gruppträffen för dig?",
             "en": "How was this group session for you?"},
        ],
    },
    "group_end": {
        "kind": "group_end",
        "scale": ZERO_TO_TEN,
        "name": "Kohtaamo: ryhmän loppukysely",
        "comment": {"fi": "Mitä ryhmässä pitäisi muuttaa? (vapaaehtoinen)",
                    "sv": "Vad borde ändras i gruppen? (frivilligt)",
                    "en": "What should change in the group? (optional)"},
        "items": [
            {"fi": "Oliko ryhmästä sinulle hyötyä?", "sv": "Hade du nytta av gruppen?",
             "en": "Was the group useful to you?"},
            {"fi": "Oliko ryhmä kiinnostava?", "sv": "Var gruppen intressant?", "en": "Was the group interesting?"},
            {"fi": "Suosittelisitko ryhmää muille?", "sv": "Skulle du rekommendera gruppen åt andra?",
             "en": "Would you recommend the group to others?"},
            {"fi": "Pitäisikö ryhmän jatkua?", "sv": "Borde gruppen fortsätta?", "en": "Should the group go on?"},
        ],
    },
    "meeting": {
        "kind": "meeting",
        "scale": ZERO_TO_TEN,
        "name": "Kohtaamo: verkostopalaverin palaute",
        "comment": COMMENT_ANYTHING,
        "items": [
            {"fi": "Kuunneltiinko sinua?", "sv": "Lyssnade man på dig?", "en": "Did people listen to you?"},
            {"fi": "Puhuttiinko sinulle tärkeistä asioista?", "sv": "Talade ni om saker som är viktiga för dig?",
             "en": "Did you talk about things that matter to you?"},
            {"fi": "Tiedätkö nyt, kuka tekee mitä?", "sv": "Vet du nu vem som gör vad?",
             "en": "Do you now know who does what?"},
            {"fi": "Oletko tyytyväinen tähän palaveriin?", "sv": "Är du nöjd med det här mötet?",
             "en": "Are you happy with this meeting?"},
        ],
    },
}

# The built-in set of each kind that a group or meeting uses unless another one is chosen.
DEFAULT_KEYS = {"session": "session", "group_end": "group_end", "meeting": "meeting"}

# Keys of built-in sets whose wording changed (see the module docstring): the old stored set
# is kept under "<key>@<RETIRED_SUFFIX>" when answers were collected with it.
RETIRED_SUFFIX = "2025"
