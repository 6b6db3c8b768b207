"""Keep what people typed and secret links out of every log line.

Two things in a URL must never reach a log file:

* **Query strings.** Searches are GET forms (``/clients?q=Matti``, ``/meetings/?q=…``,
  ``/groups/?theme=…``), so a client's name would be logged with the request line, the referrer
  and any error message that names the URL. Every query value is replaced by ``[redacted]``
  unless its key is on a short allow-list *and* the value has the harmless shape that key takes
  (a page number, a date, a list filter's keyword). An allow-list rather than a block-list: a
  search field added later is redacted without anyone remembering to list it. The keys stay
  readable (``q=[redacted]`` still tells an operator that a search was made); a key the app does
  not read is redacted too.
* **Tokens in paths**: calendar feeds (``/calendar/<token>.ics``), partner links
  (``/p/<token>``), reminder opt-out and offer links (``/reminders/stop|offer/<token>``) and feedback codes
  (``/f/<code>``). Anyone holding one reads or changes data without logging in.

``redact`` does both to any text. ``RedactTokens`` applies it to log records (their message and
arguments, including every atom of gunicorn's access log that its format names, whatever
``access_log_format`` says); ``install`` puts it on the server loggers, the app's logger and
their handlers; ``GunicornLogger`` (gunicorn.conf.py's ``logger_class``) installs it as soon as
gunicorn sets up logging, in the master and in every worker.
"""
from __future__ import annotations

import functools
import logging
import re

REDACTED = "[redacted]"

# Path segments that are secrets: the token routes of calendar_export, meetings (partner links),
# reminders (opt-out) and feedback (participants' codes and answer slips, /f/<code>/<slip>;
# /f/thanks is a page, not a code).
_SEGMENT = r"[^/?#\s\"']+"
_PATH_TOKEN_RE = re.compile(
    rf"(/calendar/)(?!subscriptions/|meeting/|session/){_SEGMENT}(?=\.ics)"
    rf"|(/p/|/reminders/stop/|/reminders/offer/|/outreach/v/){_SEGMENT}"
    rf"|(/f/)(?!thanks(?:[/?#\s\"']|$)){_SEGMENT}(?:/{_SEGMENT})?")


def _redact_path_token(match: re.Match) -> str:
    return (match.group(1) or match.group(2) or match.group(3)) + REDACTED


_DATE = r"\d{4}-\d{2}-\d{2}"
_WORD = r"[a-z_\-]{1,20}"
# Query keys whose values may be logged, with the only shape such a value may take. Everything
# else (q, theme, code, next, client, ids, anything added later) is redacted.
ALLOWED_QUERY_VALUES = {
    "page": re.compile(r"\d{1,7}"),
    "show": re.compile(_WORD),
    "when": re.compile(_WORD),
    "status": re.compile(_WORD),
    "mine": re.compile(r"[01]"),
    "lang": re.compile(r"[a-z]{2}"),
    "v": re.compile(r"[0-9a-f]{1,16}"),
    "start": re.compile(_DATE),
    "end": re.compile(_DATE),
}
# Query keys the app reads whose values are always redacted: the key alone is kept, so a log
# still says that a search was made. A key not named here or above (a typo, a crafted URL,
# ``?Matti``) is redacted as a whole.
KNOWN_QUERY_KEYS = frozenset(ALLOWED_QUERY_VALUES) | {"q", "theme", "code", "next", "client", "client_id",
                                                      "facilitator", "from", "months"}
# A query string: from "?" up to what ends a URL in a log line (space, quote, end).
_QUERY_RE = re.compile(r"\?([^\s\"'<>]*)")
_PAIR_SEPARATOR = re.compile(r"[&;]")


def _redact_pair(pair: str) -> str:
    if not pair:
        return pair
    key, sep, value = pair.partition("=")
    if not sep or key not in KNOWN_QUERY_KEYS:
        return REDACTED
    shape = ALLOWED_QUERY_VALUES.get(key)
    if value and not (shape and shape.fullmatch(value)):
        value = REDACTED
    return f"{key}={value}"


def redact_query_string(query: str) -> str:
    """A bare query string (``q=Matti&page=2``, WSGI's QUERY_STRING) with its values redacted."""
    return "&".join(_redact_pair(pair) for pair in _PAIR_SEPARATOR.split(query)) if query else query


def _redact_query(match: re.Match) -> str:
    return "?" + redact_query_string(match.group(1))


# Substrings without which a text has nothing to redact: checking them first keeps the cost of
# the access log's ~50 atoms per request at a few microseconds.
_MARKERS = ("?", "/calendar/", "/p/", "/reminders/stop/", "/reminders/offer/", "/f/", "/outreach/v/")


def redact(text: str) -> str:
    """``text`` with secret path segments and every query value not on the allow-list replaced."""
    if not any(marker in text for marker in _MARKERS):
        return text
    text = _PATH_TOKEN_RE.sub(_redact_path_token, text)
    return _QUERY_RE.sub(_redact_query, text) if "?" in text else text


def _redact_value(value):
    return redact(value) if isinstance(value, str) else value


# Atoms of gunicorn's access log that hold a bare query string (no "?" to find it by).
_QUERY_ATOMS = frozenset({"q", "{query_string}e"})
_FORMAT_KEY = re.compile(r"%\(([^)]+)\)")


@functools.lru_cache(maxsize=32)
def _format_keys(fmt: str) -> tuple[str, ...]:
    """The mapping keys a %-format names (gunicorn's access_log_format), as gunicorn's atoms
    store them (header and environ names in lower case)."""
    return tuple(k.lower() if k.startswith("{") else k for k in _FORMAT_KEY.findall(fmt))


class RedactTokens(logging.Filter):
    """Redacts a record's message and arguments before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_kohtaamo_redacted", False):
            return True
        args = record.args
        if isinstance(args, dict):
            # gunicorn's access log: a mapping of ~50 atoms of which the format uses a few;
            # only those are redacted (in place: the mapping is the request's own).
            for key in _format_keys(record.msg) if isinstance(record.msg, str) else args:
                value = args.get(key)
                if isinstance(value, str):
                    args[key] = redact_query_string(value) if key in _QUERY_ATOMS else redact(value)
        elif args:
            record.args = tuple(_redact_value(a) for a in args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.exc_info and not record.exc_text:
            # A traceback can quote a URL (an error about a request); format it now, redacted.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        record._kohtaamo_redacted = True
        return True


def _add_filter(target) -> None:
    if not any(isinstance(f, RedactTokens) for f in target.filters):
        target.addFilter(RedactTokens())


def install(*extra: logging.Logger) -> None:
    """Add the filter to the server loggers, the root logger and any given ones (the app's own
    logger: the error handler logs request paths), and to their handlers (a handler's filter
    also sees records that reach it from a child logger)."""
    names = ("werkzeug", "gunicorn.access", "gunicorn.error", "")
    for logger in [*(logging.getLogger(n) for n in names), *extra]:
        _add_filter(logger)
        for handler in logger.handlers:
            _add_filter(handler)


try:
    from gunicorn.glogging import Logger as _GunicornBase
except ImportError:  # gunicorn is only needed in production
    _GunicornBase = None

if _GunicornBase is not None:
    class GunicornLogger(_GunicornBase):
        """gunicorn's logger with the redaction filter on its loggers and handlers from the
        moment gunicorn configures logging (in the master too, and again after a reload), so
        it does not depend on the app being imported."""

        def setup(self, cfg):
            super().setup(cfg)
            install(self.error_log, self.access_log)
