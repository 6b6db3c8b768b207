"""The dependency direction between the app's packages, and its check: ``python -m core.layers``.

A package may import packages of the layers below its own, never one above it and never another
package of its own layer (siblings stay independent). A lower layer that needs something from an
upper one is handed it through a per-app registry (``core.registry``) or a signal, never by an
import inside a function to dodge the cycle: imports anywhere in a module count, at the top, in
functions, under ``if TYPE_CHECKING``. docs/ARCHITECTURE.md draws the layers.

Exits 1 and prints ``path:line: a -> b`` for each import against the direction.
"""
from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. Packages in one tuple are siblings: neither may import the other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),                          # framework: db, transaction, i18n, registries, conflicts
    ("accounts",),                      # staff, login
    ("register",),                      # clients, partners, access rules, access log
    ("meetings",),                      # network meetings
    ("groups",),                        # groups and their sessions
    ("calendar_export", "feedback"),    # feeds of sessions and meetings; feedback on them
    ("reminders",),                     # the outbox: reminders, notices, follow-ups
    ("appointments", "outreach"),       # one-to-one appointments; outreach visits
    ("safety",),                        # pair safety on home visits and outreach visits
    ("lifecycle",),                     # retention and erasure across everything
)

LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    importer: str
    imported: str

    def __str__(self) -> str:
        where = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path.as_posix()
        return f"{where}:{self.line}: {self.importer} -> {self.imported}"


def imported_packages(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, top-level package) of every absolute import in ``tree``, wherever it stands."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def allowed(importer: str, imported: str) -> bool:
    if importer == imported or imported not in LEVEL:
        return True  # itself, the standard library and third-party packages
    return LEVEL[imported] < LEVEL[importer]


def check_file(path: Path, package: str) -> list[Violation]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [Violation(path, line, package, imported) for line, imported in imported_packages(tree)
            if not allowed(package, imported)]


def package_files(root: Path, package: str) -> Iterable[Path]:
    return sorted(p for p in (root / package).rglob("*.py") if "node_modules" not in p.parts)


def check(root: Path | None = None, packages: Iterable[str] | None = None) -> list[Violation]:
    root = root if root is not None else ROOT
    found: list[Violation] = []
    for package in packages if packages is not None else LEVEL:
        for path in package_files(root, package):
            found.extend(check_file(path, package))
    return found


def main() -> int:
    missing = sorted(name for name in LEVEL if not (ROOT / name / "__init__.py").is_file())
    if missing:
        print("core.layers: packages listed in LAYERS but not found: " + ", ".join(missing))
        return 1
    violations = check()
    for violation in violations:
        print(violation)
    if violations:
        print(f"core.layers: {len(violations)} import(s) against the layers (docs/ARCHITECTURE.md)")
        return 1
    print(f"core.layers: {len(LEVEL)} packages, every import follows the layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
