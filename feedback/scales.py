"""The answer scales a set of feedback questions may use: the 0–10 scale and the short form's
five-point smiley scale. A scale is the values a participant may choose and the words that
name them; the same words are seen on the form and heard from a screen reader (the value's
label is its accessible name). Figures of different scales are never pooled into one number:
results, charts, the report and its CSV show each scale on its own.

"Don't know" is not a value: a skipped question stores no answer, so it counts neither in a
mean nor towards the people a question's figure rests on."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

ZERO_TO_TEN = "0-10"
SMILEY = "1-5"
DONT_KNOW = "x"   # the form value of "don't know" (stores nothing)


@dataclass(frozen=True)
class Scale:
    key: str
    values: tuple[int, ...]
    # value -> its name where it has one: the whole visible (and accessible) label of that option
    names: dict
    # value -> a decorative face, hidden from screen readers (the name is the label)
    faces: dict
    span: object          # "0–10" as shown in headings and column titles

    @property
    def low(self) -> int:
        return self.values[0]

    @property
    def high(self) -> int:
        return self.values[-1]

    def label(self, value: int) -> str:
        return str(self.names[value]) if value in self.names else str(value)


SCALES = {
    ZERO_TO_TEN: Scale(ZERO_TO_TEN, tuple(range(11)),
                       {0: _l("0, not at all"), 10: _l("10, very much")}, {}, "0–10"),
    SMILEY: Scale(SMILEY, (1, 2, 3, 4, 5),
                  {1: _l("1, very bad"), 2: _l("2, bad"), 3: _l("3, neither good nor bad"), 4: _l("4, good"),
                   5: _l("5, very good")},
                  {1: "😞", 2: "😟", 3: "😐", 4: "😊", 5: "😄"}, "1–5"),
}


def scale(key: str | None) -> Scale:
    """The scale of a set (or of a stored release); anything unknown is the 0–10 scale, which
    every set and release made before the short form used."""
    return SCALES.get(key or ZERO_TO_TEN, SCALES[ZERO_TO_TEN])


def scale_choices():
    return [(ZERO_TO_TEN, _l("0 to 10")), (SMILEY, _l("Five faces, 1 to 5 (short form)"))]
