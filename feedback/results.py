"""Results tables as pure functions: counts and sums in, a table with suppressed cells out.

Every number a results page, the group summary or the report renders comes from here, so the
property test in tests/test_feedback_suppression.py covers them all.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from core.formatting import number

from .suppression import Plan, mean, plan_partition


def format_mean(value: float | None, locale: str | None = None) -> str:
    """A mean with one decimal in the language's own way (5,6 through Babel's fi_FI, sv_FI and
    en_FI: core.formatting): pages, charts' descriptions and CSV files alike."""
    return number(value, 1, locale=locale)


@dataclass(frozen=True)
class PartInput:
    key: Hashable
    n: int
    sums: dict            # item key -> sum of scores over the part's n responses


@dataclass
class Row:
    key: Hashable
    shown: bool
    n: int | None                    # None when hidden
    means: dict = field(default_factory=dict)   # item key -> mean (empty when hidden)
    reason: str | None = None        # why hidden: too_few | complementary | empty | not_closed


@dataclass
class Table:
    rows: list[Row]
    total: Row
    k: int


def summarise(parts: Sequence[PartInput], items: Sequence[Hashable], k: int, *, with_total: bool = True) -> Table:
    plan: Plan = plan_partition({p.key: p.n for p in parts}, k, with_total=with_total)
    rows = []
    for p in parts:
        if p.key in plan.shown:
            rows.append(Row(p.key, True, p.n, {i: mean(p.sums.get(i, 0), p.n) for i in items}))
        else:
            rows.append(Row(p.key, False, None, reason=plan.reasons.get(p.key)))
    n_total = sum(p.n for p in parts)
    if plan.total_shown:
        total = Row("total", True, n_total,
                    {i: mean(sum(p.sums.get(i, 0) for p in parts), n_total) for i in items})
    else:
        reason = "empty" if n_total == 0 else ("too_few" if n_total < k or not with_total else "complementary")
        total = Row("total", False, None, reason=reason)
    return Table(rows=rows, total=total, k=k)


def distribution(counts: dict[int, int], k: int) -> dict[int, int] | None:
    """Counts of each score 0–10, or None when fewer than ``k`` responses stand behind them."""
    n = sum(counts.values())
    if n < k:
        return None
    return {score: counts.get(score, 0) for score in range(11)}


def comments_if_enough(comments: list[str], k: int) -> list[str] | None:
    """Free text only when at least ``k`` people wrote something (the text itself is the figure)."""
    return sorted(comments) if len(comments) >= k else None
