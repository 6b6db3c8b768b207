"""The per-venue chart of the lead's report as a pure function: data in, PNG bytes out.

Uses matplotlib's object API on the Agg canvas (no pyplot, no global state), so it is safe in
threaded servers and easy to test.
"""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import AutoLocator  # noqa: E402


def _whole_numbers() -> AutoLocator:
    """Matplotlib's default ticks, at whole numbers only: the axis counts people or answers."""
    locator = AutoLocator()
    locator.set_params(integer=True)
    return locator


def venue_chart_png(title: str, month_labels: list[str], people_met: list[int | None],
                    appointments: list[int | None], *, people_label: str, appointments_label: str,
                    hidden_label: str = "") -> bytes:
    """Bars of people met and appointments booked per month for one venue. None is a figure
    hidden by k-suppression: no bar, and ``hidden_label`` written at the foot of its place."""
    if not (len(month_labels) == len(people_met) == len(appointments)):
        raise ValueError("every month needs both counts")
    shown_people = [n or 0 for n in people_met]
    shown_appointments = [n or 0 for n in appointments]
    fig = Figure(figsize=(7.5, 3.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    xs = list(range(len(month_labels)))
    width = 0.4
    # Dark blue and orange stay apart for the common colour-vision deficiencies; hatching too.
    ax.bar([x - width / 2 for x in xs], shown_people, width, label=people_label, color="#0b5394")
    ax.bar([x + width / 2 for x in xs], shown_appointments, width, label=appointments_label, color="#c65d00", hatch="//",
           edgecolor="#ffffff")
    ax.set_title(title)
    ax.set_xticks(xs, month_labels, rotation=45, ha="right", fontsize=8)
    ax.yaxis.set_major_locator(_whole_numbers())
    top = max([1, *shown_people, *shown_appointments]) * 1.15
    ax.set_ylim(bottom=0, top=top)
    for x, people, booked in zip(xs, people_met, appointments, strict=True):
        for offset, value in ((-width / 2, people), (width / 2, booked)):
            if value is None:
                ax.text(x + offset, top * 0.02, hidden_label or "–", rotation=90, ha="center", va="bottom",
                        fontsize=7, color="#333333")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    # Fixed metadata keeps the bytes the same for the same data (cacheable, testable).
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def topics_chart_png(title: str, labels: list[str], values: list[int | None], *, hidden_label: str = "") -> bytes:
    """Horizontal bars: how many people raised each topic at one venue. None is a figure hidden
    by k-suppression: no bar, ``hidden_label`` in its place."""
    if len(labels) != len(values):
        raise ValueError("every topic needs a count")
    shown = [n or 0 for n in values]
    fig = Figure(figsize=(7.5, 0.45 * len(labels) + 1.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ys = list(range(len(labels)))[::-1]   # the first topic on top, as in the table
    ax.barh(ys, shown, 0.6, color="#0b5394")
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_title(title)
    right = max([1, *shown]) * 1.15
    ax.set_xlim(left=0, right=right)
    ax.xaxis.set_major_locator(_whole_numbers())
    for y, value in zip(ys, values, strict=True):
        if value is None:
            ax.text(right * 0.01, y, hidden_label or "–", va="center", ha="left", fontsize=7, color="#333333")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
