"""Every user-facing string has a Finnish and a Swedish translation, in every package."""
from __future__ import annotations

import pytest

from core.i18n_tools import catalog_specs, missing_translations


@pytest.mark.parametrize("spec", catalog_specs(), ids=lambda s: s.name)
def test_catalogue_is_complete(spec):
    gaps = missing_translations(spec)
    assert not gaps, f"untranslated in {spec.name}: " + "; ".join(f"{loc}: {ids[:10]}" for loc, ids in gaps.items())
