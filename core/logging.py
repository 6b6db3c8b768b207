"""Secret tokens in URLs (calendar feeds, partner links) must never reach a log file."""
from __future__ import annotations

import logging
import re

# Any path segment of 20+ URL-safe characters after a token-bearing prefix is a secret.
_TOKEN_RE = re.compile(r"(/(?:calendar|p|partner|f)/)[A-Za-z0-9_\-]{20,}")


def redact(text: str) -> str:
    return _TOKEN_RE.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):  # gunicorn's access log passes a mapping of atoms
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install(*extra: logging.Logger) -> None:
    """Add the filter to the server loggers and any given ones (the app's own logger: the error
    handler logs request paths)."""
    loggers = [logging.getLogger(name) for name in ("werkzeug", "gunicorn.access", "gunicorn.error")]
    for logger in [*loggers, *extra]:
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
