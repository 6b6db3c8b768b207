"""The catalogues keep to docs/GLOSSARY.md: no entry uses a word the glossary rules out for its
concept (a group session is never a "tapaaminen", a network meeting never a "träff"). The rules
are read from the glossary file itself, so the document and the check cannot drift apart."""
from __future__ import annotations

import re
from pathlib import Path

from core.i18n_tools import all_catalogues

GLOSSARY = Path(__file__).resolve().parent.parent / "docs" / "GLOSSARY.md"


def glossary_rules(text: str) -> list[tuple[re.Pattern, str, re.Pattern, str]]:
    """(message id pattern, language, ruled-out pattern, why) from the "Rules the test checks"
    table: cells split at unescaped pipes, code spans unwrapped, ``\\|`` read as ``|``."""
    section = text.split("## Rules the test checks", 1)[1]
    rules = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        msgid, language, ruled_out, why = (c.replace("\\|", "|").strip("`") for c in cells)
        rules.append((re.compile(msgid, re.I), language, re.compile(ruled_out, re.I), why))
    return rules


def violations(rules, catalogues) -> list[str]:
    found = []
    for name, locale, catalog in catalogues:
        for message in catalog:
            if not message.id or not message.string:
                continue
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for pattern, language, ruled_out, why in rules:
                if language != locale or not pattern.search(msgid):
                    continue
                for string in strings:
                    if ruled_out.search(string):
                        found.append(f"{name}/{locale}: {msgid!r} -> {string!r} ({why})")
    return found


def test_the_glossary_has_rules_for_each_language():
    rules = glossary_rules(GLOSSARY.read_text(encoding="utf-8"))
    assert {language for _p, language, _r, _w in rules} == {"fi", "sv"}
    assert len(rules) >= 10


def test_catalogues_use_the_glossarys_words():
    rules = glossary_rules(GLOSSARY.read_text(encoding="utf-8"))
    found = violations(rules, all_catalogues())
    assert not found, "\n".join(found)


def test_the_check_flags_a_ruled_out_synonym():
    from babel.messages.catalog import Catalog

    rules = glossary_rules(GLOSSARY.read_text(encoding="utf-8"))
    fi, sv = Catalog(locale="fi"), Catalog(locale="sv")
    fi.add("Back to the session", "Takaisin tapaamiseen")
    fi.add("Back to the meeting", "Takaisin tapaamiseen")
    fi.add("Back to the client", "Takaisin asiakkaan tietoihin")
    fi.add("Starts at %(time)s", "Alkaa klo 10:00")
    sv.add("Done", "Gjort")
    sv.add("Reminder: group meeting %(when)s.", "Påminnelse: gruppträff %(when)s.")
    found = violations(rules, [("x", "fi", fi), ("x", "sv", sv)])
    assert len(found) == 4, found
    assert any("'Back to the session'" in f for f in found) and any("'Back to the meeting'" in f for f in found)
    assert any("Gjort" in f for f in found) and any("10:00" in f for f in found)
