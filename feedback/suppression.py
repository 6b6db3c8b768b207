"""Small-number suppression for feedback results, as pure functions (no Flask, no database).

Rule: a figure (mean, distribution, count, comment list) is shown only when at least ``k``
responses stand behind it. Showing each cell's own count is not enough: when a total is shown
next to its parts, the total minus the shown parts reveals the hidden parts together. So hidden
parts must together hold 0 or at least ``k`` responses (complementary suppression): if they do
not, more parts are hidden (smallest first); if that cannot help, or would hide every part,
the total is hidden instead.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

DEFAULT_MIN_RESPONSES = 5
FLOOR = 3


def min_responses(configured) -> int:
    """The threshold from configuration: default 5, never below 3, junk means the default."""
    try:
        value = int(configured)
    except (TypeError, ValueError):
        value = DEFAULT_MIN_RESPONSES
    return max(FLOOR, value)


@dataclass(frozen=True)
class Plan:
    """Which parts and whether the total may be shown; ``reasons`` says why a part is hidden."""

    shown: frozenset
    total_shown: bool
    reasons: dict = field(default_factory=dict)   # key -> "too_few" | "complementary" | "empty"


def plan_partition(counts: Mapping[Hashable, int], k: int, *, with_total: bool = True) -> Plan:
    """Decide which parts of a partition (e.g. sessions of a group, themes of a report) to show.

    ``counts`` maps each part to its number of responses. Parts with no responses have nothing
    to hide (they are shown as "no responses"); they are neither shown nor counted as hidden.
    """
    reasons: dict = {}
    shown = set()
    for key, n in counts.items():
        if n <= 0:
            reasons[key] = "empty"
        elif n >= k:
            shown.add(key)
        else:
            reasons[key] = "too_few"
    total = sum(max(n, 0) for n in counts.values())
    total_shown = with_total and total >= k
    if total_shown:
        hidden = sum(counts[key] for key, why in reasons.items() if why == "too_few")
        # Differencing the total against the shown parts reveals the hidden parts together.
        extra: dict = {}
        remaining = set(shown)
        while 0 < hidden < k and remaining:
            # Hide the smallest shown part (stable order for equal counts) so the hidden pool grows.
            victim = min(remaining, key=lambda key: (counts[key], str(key)))
            remaining.discard(victim)
            extra[victim] = "complementary"
            hidden += counts[victim]
        if 0 < hidden < k or (shown and not remaining):
            # Either nothing could protect the small parts, or protecting them would hide every
            # part: then the total goes instead, which keeps the parts readable.
            total_shown = False
        else:
            shown = remaining
            reasons.update(extra)
    return Plan(shown=frozenset(shown), total_shown=total_shown, reasons=reasons)


def mean(total: float, n: int) -> float | None:
    return round(total / n, 1) if n else None
