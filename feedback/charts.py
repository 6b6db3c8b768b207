"""Charts as pure functions: plain data in, SVG bytes out. Nothing here knows about requests,
the database or suppression; callers pass only figures that may be shown."""
from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import matplotlib

# No display on servers; must be set before pyplot is imported.
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import AutoLocator  # noqa: E402

SVG = "image/svg+xml"
COLOURS = ["#1f5f8b", "#b35900", "#2e7d32", "#6a1b9a", "#8b1f3f", "#37474f"]
# Same input, same bytes: a fixed SVG id salt and no date in the metadata.
plt.rcParams["svg.hashsalt"] = "kohtaamo"
plt.rcParams["svg.fonttype"] = "path"

# Part of every chart's cache key: new drawing code or a new matplotlib draws new charts.
VERSION = hashlib.sha256(Path(__file__).read_bytes() + matplotlib.__version__.encode()).hexdigest()[:16]


class MeansData(TypedDict):
    title: str
    labels: list[str]                # one bar per question
    values: list[float | None]       # each question's mean; None when too few answered it
    x_label: NotRequired[str]
    x_range: NotRequired[list[int]]  # the scale's [low, high]; 0–10 when missing


class DistributionData(TypedDict):
    title: str
    scores: NotRequired[list[int]]   # the scale's values; 0–10 when missing
    counts: list[int]                # answers per score
    x_label: NotRequired[str]
    y_label: NotRequired[str]


class AttendanceLabels(TypedDict):
    present: str
    enrolled: str


class AttendanceData(TypedDict):
    title: str
    x_labels: list[str]              # one per session
    present: list[int]
    enrolled: list[int]
    labels: AttendanceLabels


ChartData = MeansData | DistributionData | AttendanceData


def _svg(fig: Figure) -> tuple[bytes, str]:
    out = io.BytesIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return out.getvalue(), SVG


def _whole_numbers() -> AutoLocator:
    """Matplotlib's default ticks, at whole numbers only: the axis counts people or answers."""
    locator = AutoLocator()
    locator.set_params(integer=True)
    return locator


def means_chart(data: MeansData) -> tuple[bytes, str]:
    """One bar per question."""
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(data["labels"]) + 1.2))
    ys = list(range(len(data["labels"])))
    ax.barh(ys, [v if v is not None else 0 for v in data["values"]], color=COLOURS[0])
    ax.set_yticks(ys, data["labels"])
    ax.invert_yaxis()
    # The scale's own range (0–10, or 1–5 for the short form): never one axis for both.
    _low, high = data.get("x_range") or (0, 10)
    ax.set_xlim(0, high)
    ax.set_xlabel(data.get("x_label", ""))
    ax.set_title(data.get("title", ""))
    ax.grid(axis="x", alpha=.3)
    return _svg(fig)


def distribution_chart(data: DistributionData) -> tuple[bytes, str]:
    """A bar per score of the scale: how many gave it."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    scores = data.get("scores") or list(range(11))
    ax.bar(scores, data["counts"], color=COLOURS[0])
    ax.set_xticks(scores)
    ax.set_xlabel(data.get("x_label", ""))
    ax.set_ylabel(data.get("y_label", ""))
    ax.set_title(data.get("title", ""))
    ax.yaxis.set_major_locator(_whole_numbers())
    return _svg(fig)


def attendance_chart(data: AttendanceData) -> tuple[bytes, str]:
    """Enrolled and present side by side, per session."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    xs = list(range(len(data["x_labels"])))
    ax.bar([x - .2 for x in xs], data["enrolled"], width=.4, color="#9fb8cc", label=data["labels"]["enrolled"])
    ax.bar([x + .2 for x in xs], data["present"], width=.4, color=COLOURS[0], label=data["labels"]["present"])
    ax.set_xticks(xs, data["x_labels"])
    ax.set_title(data.get("title", ""))
    ax.yaxis.set_major_locator(_whole_numbers())
    ax.legend(fontsize="small")
    return _svg(fig)


# Each takes the data of its own kind (``feedback.summary`` builds the data by kind).
RENDERERS: dict[str, Callable[[Any], tuple[bytes, str]]] = {"means": means_chart, "distribution": distribution_chart, "attendance": attendance_chart}
