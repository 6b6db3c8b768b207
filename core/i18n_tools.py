"""Translation catalogues: one per package (``translations/`` for the shared parts, and
``<feature>/translations/`` for each feature), so features can be translated independently.
Message ids are English; Finnish and Swedish catalogues must be complete (a test checks)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("fi", "sv")
KEYWORDS: dict[str, Any] = {
    "_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
    "lazy_ngettext": (1, 2), "_n": (1, 2), "pgettext": ((1, "c"), 2),
    "lazy_pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3),
}
METHOD_MAP = [("**.py", "python"), ("**.html", "jinja2"), ("**.txt", "jinja2")]
SHARED_SOURCES = ("core", "accounts", "register", "templates")


@dataclass(frozen=True)
class CatalogSpec:
    name: str
    sources: tuple[Path, ...]
    directory: Path


def catalog_specs() -> list[CatalogSpec]:
    """The shared catalogue, then one per feature package that has its own (``<feature>/translations``;
    every feature has one, and the app loads them from the same places: core.setup.register_i18n)."""
    specs = [CatalogSpec("core", tuple(ROOT / s for s in SHARED_SOURCES), ROOT / "translations")]
    for directory in sorted(ROOT.glob("*/translations")):
        name = directory.parent.name
        if name not in SHARED_SOURCES:
            specs.append(CatalogSpec(name, (ROOT / name,), directory))
    return specs


def extract(spec: CatalogSpec) -> Catalog:
    template = Catalog(project="Kohtaamo", charset="utf-8")
    for source in spec.sources:
        if not source.exists():
            continue
        for filename, lineno, message, comments, context in extract_from_dir(
            str(source), METHOD_MAP, {"**.html": {"trimmed": "true"}}, keywords=KEYWORDS, strip_comment_tags=True
        ):
            if "translations" in Path(filename).parts or "tests" in Path(filename).parts:
                continue
            template.add(message, None, [(str(Path(source.name) / filename), lineno)],
                         auto_comments=comments, context=context)
    return template


def po_path(spec: CatalogSpec, locale: str) -> Path:
    return spec.directory / locale / "LC_MESSAGES" / "messages.po"


def read_catalog(path: Path, locale: str) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def update(spec: CatalogSpec) -> list[Path]:
    """Bring each locale's .po up to date with the sources, keeping existing translations."""
    template = extract(spec)
    written = []
    for locale in LOCALES:
        path = po_path(spec, locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            catalog = read_catalog(path, locale)
            catalog.update(template, update_header_comment=False)
        else:
            catalog = Catalog(locale=locale, project="Kohtaamo", charset="utf-8")
            catalog.update(template)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, ignore_obsolete=True, sort_output=False)
        written.append(path)
    return written


def compile_all() -> list[Path]:
    written = []
    for spec in catalog_specs():
        for locale in LOCALES:
            path = po_path(spec, locale)
            if not path.exists():
                continue
            mo = path.with_suffix(".mo")
            if mo.exists() and mo.stat().st_mtime >= path.stat().st_mtime:
                written.append(mo)
                continue
            catalog = read_catalog(path, locale)
            # Write beside and rename, so a process reading the catalogue (a parallel test
            # worker, a running server) never sees half a file.
            tmp = mo.with_suffix(f".mo.{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                write_mo(fh, catalog, use_fuzzy=False)
            os.replace(tmp, mo)
            written.append(mo)
    return written


def _key(message) -> tuple[str | None, str]:
    """A message's identity: its context (pgettext) and its (singular) id."""
    return message.context, message.id if isinstance(message.id, str) else message.id[0]


def _label(message) -> str:
    context, msgid = _key(message)
    return f"{context}|{msgid}" if context else msgid


def missing_translations(spec: CatalogSpec) -> dict[str, list[str]]:
    """Message ids used in the sources that a locale's catalogue does not translate."""
    template = extract(spec)
    missing: dict[str, list[str]] = {}
    for locale in LOCALES:
        path = po_path(spec, locale)
        translated = {}
        if path.exists():
            for message in read_catalog(path, locale):
                if message.id and not message.fuzzy:
                    translated[_key(message)] = message.string
        gaps = []
        for message in template:
            if not message.id:
                continue
            value = translated.get(_key(message))
            if not value or (isinstance(value, tuple) and not all(value)):
                gaps.append(_label(message))
        if gaps:
            missing[locale] = gaps
    return missing


def collisions(catalogues) -> dict[tuple[str, str | None, str], dict[str, list[str]]]:
    """Message ids (with their context) that two catalogues of one language translate
    differently. The app merges every catalogue into one lookup, so one of the two
    translations silently wins on every page; ``catalogues`` is ((name, locale, Catalog), ...).
    Returns {(locale, context, msgid): {translation: [catalogue names]}}."""
    seen: dict[tuple[str, str | None, str], dict[str, list[str]]] = {}
    for name, locale, catalog in catalogues:
        for message in catalog:
            if not message.id or message.fuzzy or not message.string:
                continue
            string = message.string if isinstance(message.string, str) else " | ".join(message.string)
            seen.setdefault((locale, *_key(message)), {}).setdefault(string, []).append(name)
    return {key: found for key, found in seen.items() if len(found) > 1}


def all_catalogues():
    for spec in catalog_specs():
        for locale in LOCALES:
            path = po_path(spec, locale)
            if path.exists():
                yield spec.name, locale, read_catalog(path, locale)


if __name__ == "__main__":  # `python -m core.i18n_tools compile`: the build step, no app needed
    import sys

    if sys.argv[1:] == ["compile"]:
        print(f"compiled {len(compile_all())} catalogues")
    else:
        sys.exit("usage: python -m core.i18n_tools compile")
