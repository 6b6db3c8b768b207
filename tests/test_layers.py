"""The packages import along the layers (core.layers, docs/ARCHITECTURE.md), and the check
catches an import against them wherever it stands: planted in a temporary tree, never in ours."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import app as app_module
from core import layers

ROOT = Path(__file__).resolve().parent.parent


def test_python_m_core_layers_passes_on_the_tree():
    result = subprocess.run([sys.executable, "-m", "core.layers"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every import follows the layers" in result.stdout


def test_every_feature_has_a_layer_and_every_layer_is_a_feature():
    assert set(layers.LEVEL) == {feature.__name__ for feature in app_module.FEATURES}
    assert layers.LAYERS[0] == ("core",)
    order = [layers.LEVEL[name] for name in ("core", "accounts", "register", "meetings", "groups")]
    assert order == sorted(order) and len(set(order)) == len(order)


def _plant(root: Path, package: str, name: str, source: str) -> Path:
    directory = root / package
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "__init__.py").write_text("")
    path = directory / name
    path.write_text(textwrap.dedent(source))
    return path


def test_a_planted_import_against_the_layers_is_caught(tmp_path):
    _plant(tmp_path, "register", "planted.py", """\
        import sqlalchemy as sa                 # third party: fine
        from core.db import utcnow              # down: fine
        from accounts.models import User        # down: fine
        from . import models                    # itself: fine
        import register.access                  # itself: fine


        def dodge():
            from groups.services import can_edit  # up, inside a function: caught
            return can_edit


        if False:
            import meetings  # up, under a condition: caught
        """)
    _plant(tmp_path, "feedback", "sibling.py", """\
        from groups.models import Group          # down: fine
        from calendar_export import sources      # a sibling of the same layer: caught
        """)
    found = layers.check(tmp_path, ["register", "feedback"])
    assert sorted((v.path.name, v.line, v.importer, v.imported) for v in found) == [
        ("planted.py", 9, "register", "groups"),
        ("planted.py", 14, "register", "meetings"),
        ("sibling.py", 2, "feedback", "calendar_export"),
    ]
    assert "planted.py:9: register -> groups" in str(next(v for v in found if v.line == 9))


def test_the_command_fails_and_names_a_planted_import(tmp_path, monkeypatch, capsys):
    # The real command over a temporary tree holding every package, one of them with a bad import.
    for name in layers.LEVEL:
        _plant(tmp_path, name, "ok.py", "import core\n")
    _plant(tmp_path, "core", "bad.py", "def f():\n    from lifecycle import erasure\n")
    monkeypatch.setattr(layers, "ROOT", tmp_path)
    assert layers.main() == 1
    out = capsys.readouterr().out
    assert "core/bad.py:2: core -> lifecycle" in out
    assert "1 import(s) against the layers" in out
