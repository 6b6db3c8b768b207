"""The project's own item wording (not a copyrighted scale). Labels are data, in fi/sv/en, so a
lead can add other sets in the same shape."""
from __future__ import annotations

COMMENT_ANYTHING = {"fi": "Haluatko sanoa vielä jotain? (vapaaehtoinen)",
                    "sv": "Vill du säga något mer? (frivilligt)",
                    "en": "Anything else you want to say? (optional)"}

BUILTIN_SETS = {
    "session": {
        "kind": "session",
        "name": "Kohtaamo: ryhmäkerran palaute",
        "comment": COMMENT_ANYTHING,
        "items": [
            {"fi": "Ilmapiiri", "sv": "Stämningen", "en": "The atmosphere"},
            {"fi": "Tämän kerran aiheen hyödyllisyys", "sv": "Hur nyttigt dagens tema var",
             "en": "How useful today's topic was"},
            {"fi": "Miten ohjaajat vetivät kerran", "sv": "Hur ledarna ledde träffen",
             "en": "How the facilitators ran the session"},
            {"fi": "Kokonaisuutena", "sv": "Som helhet", "en": "Overall"},
        ],
    },
    "group_end": {
        "kind": "group_end",
        "name": "Kohtaamo: ryhmän loppukysely",
        "comment": {"fi": "Mitä ryhmässä pitäisi muuttaa? (vapaaehtoinen)",
                    "sv": "Vad borde ändras i gruppen? (frivilligt)",
                    "en": "What should change in the group? (optional)"},
        "items": [
            {"fi": "Ryhmästä oli minulle hyötyä", "sv": "Gruppen var till nytta för mig",
             "en": "The group was useful to me"},
            {"fi": "Ryhmä oli kiinnostava", "sv": "Gruppen var intressant", "en": "The group was interesting"},
            {"fi": "Suosittelisin ryhmää muille", "sv": "Jag skulle rekommendera gruppen åt andra",
             "en": "I would recommend the group to others"},
            {"fi": "Ryhmää kannattaa jatkaa", "sv": "Gruppen borde fortsätta", "en": "The group should continue"},
        ],
    },
    "meeting": {
        "kind": "meeting",
        "name": "Kohtaamo: verkostopalaverin palaute",
        "comment": COMMENT_ANYTHING,
        "items": [
            {"fi": "Minua kuunneltiin", "sv": "Jag blev hörd", "en": "I was heard"},
            {"fi": "Puhuimme minulle tärkeistä asioista", "sv": "Vi talade om saker som är viktiga för mig",
             "en": "We talked about things that matter to me"},
            {"fi": "Suunnitelma on selkeä: tiedän, kuka tekee mitä",
             "sv": "Planen är tydlig: jag vet vem som gör vad", "en": "The plan is clear: I know who does what"},
            {"fi": "Kokonaisuutena", "sv": "Som helhet", "en": "Overall"},
        ],
    },
}
