"""Every user-facing string has a Finnish and a Swedish translation, in every package."""
from __future__ import annotations

import pytest

from core.i18n_tools import catalog_specs, missing_translations


@pytest.mark.parametrize("spec", catalog_specs(), ids=lambda s: s.name)
def test_catalogue_is_complete(spec):
    gaps = missing_translations(spec)
    assert not gaps, f"untranslated in {spec.name}: " + "; ".join(f"{loc}: {ids[:10]}" for loc, ids in gaps.items())


def _untranslated_text(source: str) -> list[str]:
    """Words in a template that are outside Jinja expressions: text that would not be translated."""
    import re

    s = re.sub(r"\{%\s*block body_class\s*%\}.*?\{%\s*endblock\s*%\}", "", source, flags=re.S)
    s = re.sub(r"\{#.*?#\}", "", s, flags=re.S)
    s = re.sub(r"\{%.*?%\}", "", s, flags=re.S)
    s = re.sub(r"\{\{.*?\}\}", "", s, flags=re.S)
    found = [m.group(0) for m in re.finditer(r'\b(?:alt|title|aria-label|placeholder)="[^"]*[A-Za-zÅÄÖåäö]{2,}[^"]*"', s)]
    s = re.sub(r"<[^>]*>", " ", s)
    found += [w for w in re.findall(r"[A-Za-zÅÄÖåäöé][A-Za-zÅÄÖåäöé'’-]+", s) if w != "Kohtaamo"]
    return found


def test_templates_have_no_untranslated_text():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    problems = {}
    for path in root.rglob("*.html"):
        if ".venv" in path.parts or "node_modules" in path.parts:
            continue
        words = _untranslated_text(path.read_text(encoding="utf-8"))
        if words:
            problems[str(path.relative_to(root))] = words[:5]
    assert not problems, problems


def test_the_template_check_finds_raw_text():
    assert _untranslated_text('<p>Hello there</p><img alt="A chart">') == ['alt="A chart"', "Hello", "there"]
    assert _untranslated_text('<p>{{ _("Hello") }}</p>{% block body_class %}x-page{% endblock %}') == []


def test_no_message_has_two_translations():
    """The catalogues of all features are merged into one lookup per language, so a msgid
    translated differently in two catalogues shows one feature's words in the other's page
    (the report's end date read "Vastaanottaja"). A word that means two things gets a
    context (pgettext)."""
    from core.i18n_tools import all_catalogues, collisions

    found = collisions(all_catalogues())
    assert not found, "\n".join(f"{loc} {ctx + '|' if ctx else ''}{msgid!r}: {tr}" for (loc, ctx, msgid), tr in found.items())


def test_the_collision_check_finds_two_translations_and_respects_contexts():
    from babel.messages.catalog import Catalog

    from core.i18n_tools import collisions

    a, b = Catalog(locale="fi"), Catalog(locale="fi")
    a.add("To", "Päättyen")
    b.add("To", "Vastaanottaja")
    assert collisions([("feedback", "fi", a), ("reminders", "fi", b)]) == {
        ("fi", None, "To"): {"Päättyen": ["feedback"], "Vastaanottaja": ["reminders"]}}
    c = Catalog(locale="fi")
    c.add("To", "Vastaanottaja", context="message recipient")
    c.add("Time", "Aika")
    d = Catalog(locale="fi")
    d.add("Time", "Aika")
    assert collisions([("feedback", "fi", a), ("reminders", "fi", c), ("core", "fi", d)]) == {}


def test_swedish_names_the_clients_worker_a_social_worker():
    """The glossary's Swedish word for the client's worker is "socialarbetare"; a bare "arbetare"
    (labourer) read "din arbetare" on the reminder pages a client opens."""
    import re

    from core.i18n_tools import all_catalogues

    bare = re.compile(r"(?<![\wåäö])arbetare", re.IGNORECASE)
    found = [f"{name}: {message.id!r}" for name, locale, catalogue in all_catalogues() if locale == "sv"
             for message in catalogue if message.id
             for text in ([message.string] if isinstance(message.string, str) else list(message.string))
             if text and bare.search(text)]
    assert not found, found
