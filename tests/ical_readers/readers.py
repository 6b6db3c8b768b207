"""Read iCalendar files with six independent readers and report what each understood.

Readers: ical.js (Thunderbird's, with the file's VTIMEZONEs registered as Thunderbird does) and
node-ical from npm (``read_node.cjs``, one node process for a batch of files), libical (the C
library of Evolution; ``read_libical.c``, compiled once per test session with gcc against
libical-dev), vobject, icalendar and recurring-ical-events from PyPI.

Each reading is ``{"events": {uid: (start, end, summary)}, "components": n}`` with aware UTC
instants, or ``{"error": text}``. A reader that is not installed makes the caller fail when
``CI`` or ``REQUIRE_BROWSER`` is set (CI must not pass by skipping) and skip otherwise.

Install: ``npm ci`` in this directory (``package-lock.json``), ``apt-get install libical-dev``,
``pip install vobject recurring-ical-events`` (the ``dev`` extra of ``pyproject.toml``).
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
READERS = ("ical.js", "node-ical", "libical", "vobject", "icalendar", "recurring-ical-events")


def missing(reason: str):
    """Fail in CI, skip on a developer's machine without the reader."""
    if os.environ.get("CI") or os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(f"iCalendar reader missing: {reason}")
    pytest.skip(f"iCalendar reader missing: {reason}")


@functools.lru_cache(maxsize=1)
def _libical_binary() -> str:
    """Compile the libical reader once (the path is cached; a failure raises every time)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("gcc is not installed")
    try:
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libical"], check=True, capture_output=True,
                               text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        flags = ["-lical"]
    out = Path(tempfile.mkdtemp(prefix="ical-readers-")) / "read_libical"
    result = subprocess.run([gcc, "-O1", "-o", str(out), str(HERE / "read_libical.c"), *flags],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"libical reader does not compile (apt-get install libical-dev): {result.stderr[-500:]}")
    return str(out)


def check_installed() -> None:
    """Every reader present, or ``missing`` (fail in CI, skip otherwise)."""
    if shutil.which("node") is None:
        missing("node is not installed")
    for package in ("ical.js", "node-ical"):
        if not (HERE / "node_modules" / package / "package.json").is_file():
            missing(f"npm package {package} (run `npm ci` in {HERE})")
    for module in ("vobject", "recurring_ical_events", "icalendar"):
        try:
            __import__(module)
        except ImportError:
            missing(f"Python package {module} (pip install '.[dev]')")
    try:
        _libical_binary()
    except RuntimeError as error:
        missing(str(error))


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _node(paths: list[str]) -> dict[str, dict[str, dict]]:
    result = subprocess.run(["node", str(HERE / "read_node.cjs")], input=json.dumps(paths), capture_output=True,
                            text=True, cwd=HERE, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"node readers crashed: {result.stderr[-2000:]}")
    out: dict[str, dict[str, dict]] = {}
    for path, by_reader in json.loads(result.stdout).items():
        for reader, reading in by_reader.items():
            if "error" in reading:
                out.setdefault(path, {})[reader] = reading
                continue
            events = {}
            for e in reading["events"]:
                if e["uid"] in events:
                    reading.setdefault("duplicates", []).append(e["uid"])
                events[e["uid"]] = (_iso(e["start"]), _iso(e["end"]), e["summary"])
            out.setdefault(path, {})[reader] = {"events": events, "components": reading["components"],
                                                **({"names": reading["names"]} if "names" in reading else {})}
    return out


def _libical(paths: list[str]) -> dict[str, dict]:
    result = subprocess.run([_libical_binary(), *paths], capture_output=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"libical reader crashed: {result.stderr[-2000:]!r}")
    out: dict[str, dict] = {}
    current: dict = {}
    for line in result.stdout.decode("utf-8").splitlines():
        kind, _, rest = line.partition("\t")
        if kind == "FILE":
            current = out[rest] = {"events": {}, "errors": [], "components": 0}
        elif kind == "ERROR":
            label, _, value = rest.partition(": ")
            try:
                current["errors"].append(f"{label}: {bytes.fromhex(value).decode('utf-8', 'replace')}")
            except ValueError:
                current["errors"].append(rest)
        elif kind == "COMPONENTS":
            current["components"] = int(rest)
        elif kind == "EVENT":
            uid, start, end, summary = rest.split("\t")
            current["events"][bytes.fromhex(uid).decode()] = (
                datetime.fromtimestamp(int(start), UTC), datetime.fromtimestamp(int(end), UTC),
                bytes.fromhex(summary).decode("utf-8"))
    for path, reading in out.items():
        if reading["errors"]:  # X-LIC-ERROR: libical refused part of the file
            out[path] = {"error": "; ".join(reading.pop("errors"))}
        else:
            reading.pop("errors")
    return out


def _vobject(data: bytes) -> dict:
    import vobject

    cal = vobject.readOne(data.decode("utf-8"), validate=True)
    events = {}
    for ev in getattr(cal, "vevent_list", []):
        start, end = ev.dtstart.value, ev.dtend.value
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("vobject read a floating time")
        events[ev.uid.value] = (start.astimezone(UTC), end.astimezone(UTC), ev.summary.value)
    names = [cal.contents[key][0].value if key in cal.contents else None for key in ("name", "x-wr-calname")]
    return {"events": events, "components": len(list(cal.components())), "names": names}


def _icalendar(data: bytes) -> dict:
    import icalendar

    cal = icalendar.Calendar.from_ical(data)
    if cal.errors or any(c.errors for c in cal.walk()):
        raise ValueError(f"icalendar errors: {[c.errors for c in cal.walk() if c.errors]}")
    events = {str(ev["UID"]): (ev.decoded("DTSTART").astimezone(UTC), ev.decoded("DTEND").astimezone(UTC),
                               str(ev["SUMMARY"])) for ev in cal.walk("VEVENT")}
    names = [str(cal[key]) if key in cal else None for key in ("NAME", "X-WR-CALNAME")]
    return {"events": events, "components": len(cal.subcomponents), "names": names}


def _recurring(data: bytes) -> dict:
    import icalendar
    import recurring_ical_events

    cal = icalendar.Calendar.from_ical(data)
    occurrences = recurring_ical_events.of(cal).between(date(1990, 1, 1), date(2100, 1, 1))
    events = {str(ev["UID"]): (ev["DTSTART"].dt.astimezone(UTC), ev["DTEND"].dt.astimezone(UTC),
                               str(ev["SUMMARY"])) for ev in occurrences}
    return {"events": events, "components": len(cal.subcomponents)}


def read_all(files: dict[str, bytes]) -> dict[str, dict[str, dict]]:
    """``{name: {reader: reading}}`` for iCalendar ``files`` given as ``{name: bytes}``; ical.js,
    vobject and icalendar also give the calendar's ``names`` (NAME, X-WR-CALNAME)."""
    check_installed()
    with tempfile.TemporaryDirectory(prefix="ical-files-") as tmp:
        paths = {}
        for i, (name, data) in enumerate(files.items()):
            path = Path(tmp) / f"{i}.ics"
            path.write_bytes(data)
            paths[str(path)] = name
        node = _node(list(paths))
        libical = _libical(list(paths))
    out: dict[str, dict[str, dict]] = {}
    for path, name in paths.items():
        data = files[name]
        readings = {**node[path], "libical": libical[path]}
        for reader, fn in (("vobject", _vobject), ("icalendar", _icalendar),
                           ("recurring-ical-events", _recurring)):
            try:
                readings[reader] = fn(data)
            except Exception as error:  # a reader that refuses the file is a finding, not a crash
                readings[reader] = {"error": f"{type(error).__name__}: {error}"}
        assert set(readings) == set(READERS)
        out[name] = readings
    return out


def disagreements(readings: dict[str, dict[str, dict]],
                  expected: dict[str, dict[str, tuple[datetime, datetime, str]]],
                  titles_not_compared: frozenset[tuple[str, str]] = frozenset()) -> list[str]:
    """What any reader got wrong: ``expected`` is ``{name: {uid: (start, end, summary)}}``.
    ``titles_not_compared`` holds (reader, uid) pairs whose title a reader is known to misread
    (its instants are still compared)."""
    problems = []
    for name, by_reader in readings.items():
        for reader, reading in by_reader.items():
            if "error" in reading:
                problems.append(f"{name}: {reader} refused the file: {reading['error'][:500]}")
                continue
            if reading.get("duplicates"):
                problems.append(f"{name}: {reader} read duplicate UIDs {reading['duplicates']}")
            if reading["components"] < 1:
                problems.append(f"{name}: {reader} found no component")
            want = expected[name]
            got = reading["events"]
            if set(got) != set(want):
                problems.append(f"{name}: {reader} read UIDs {sorted(got)}, expected {sorted(want)}")
            for uid in sorted(set(got) & set(want)):
                if (reader, uid) in titles_not_compared:
                    if got[uid][:2] != want[uid][:2]:
                        problems.append(f"{name}: {reader} read {uid} at {got[uid][:2]}, expected {want[uid][:2]}")
                elif got[uid] != want[uid]:
                    problems.append(f"{name}: {reader} read {uid} as {got[uid]}, expected {want[uid]}")
    return problems
