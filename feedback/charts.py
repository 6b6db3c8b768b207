"""Charts as pure functions: plain data in, SVG bytes out. Nothing here knows about requests,
the database or suppression; callers pass only figures that may be shown."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import matplotlib

# No display on servers; must be set before pyplot is imported.
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

SVG = "image/svg+xml"
COLOURS = ["#1f5f8b", "#b35900", "#2e7d32", "#6a1b9a", "#8b1f3f", "#37474f"]
# Same input, same bytes: a fixed SVG id salt and no date in the metadata.
plt.rcParams["svg.hashsalt"] = "kohtaamo"
plt.rcParams["svg.fonttype"] = "path"

# Part of every chart's cache key: new drawing code or a new matplotlib draws new charts.
VERSION = hashlib.sha256(Path(__file__).read_bytes() + matplotlib.__version__.encode()).hexdigest()[:16]


def _svg(fig: Figure) -> tuple[bytes, str]:
    out = io.BytesIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return out.getvalue(), SVG


def means_chart(data: dict) -> tuple[bytes, str]:
    """data: {"title", "labels": [question], "values": [mean], "x_label"}: one bar per question."""
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


def distribution_chart(data: dict) -> tuple[bytes, str]:
    """data: {"title", "scores": [the scale's values], "counts": [count per score], "x_label", "y_label"}."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    scores = data.get("scores") or list(range(11))
    ax.bar(scores, data["counts"], color=COLOURS[0])
    ax.set_xticks(scores)
    ax.set_xlabel(data.get("x_label", ""))
    ax.set_ylabel(data.get("y_label", ""))
    ax.set_title(data.get("title", ""))
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _svg(fig)


def attendance_chart(data: dict) -> tuple[bytes, str]:
    """data: {"title", "x_labels", "present": [...], "enrolled": [...], "labels": {present, enrolled}}."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    xs = list(range(len(data["x_labels"])))
    ax.bar([x - .2 for x in xs], data["enrolled"], width=.4, color="#9fb8cc", label=data["labels"]["enrolled"])
    ax.bar([x + .2 for x in xs], data["present"], width=.4, color=COLOURS[0], label=data["labels"]["present"])
    ax.set_xticks(xs, data["x_labels"])
    ax.set_title(data.get("title", ""))
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize="small")
    return _svg(fig)


RENDERERS = {"means": means_chart, "distribution": distribution_chart, "attendance": attendance_chart}
