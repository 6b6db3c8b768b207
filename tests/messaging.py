"""Messages leaving the app, caught from the outside: a fake SMS gateway (HTTP on loopback), a
real SMTP server (aiosmtpd) on loopback, and the calendar part of a sent invitation.
(Moved from reminders/testing.py, which no longer ships with the app.)"""
from __future__ import annotations

import json
import socket
import threading
import time as _time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeGateway:
    """Accepts POSTs like a JSON SMS gateway. ``script`` gives the answer for the next requests
    ("ok", "500", "timeout"); after the script it answers "ok"."""

    def __init__(self, delay: float = 0.0):
        self.requests: list[dict] = []
        self.script: list[str] = []
        self.delay = delay
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                with gateway.lock:
                    action = gateway.script.pop(0) if gateway.script else "ok"
                    gateway.requests.append({"payload": payload, "auth": self.headers.get("Authorization"),
                                             "action": action})
                if action == "timeout":
                    _time.sleep(2.0)
                if gateway.delay:
                    _time.sleep(gateway.delay)
                status = 500 if action == "500" else 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"ok": %s}' % (b"true" if status == 200 else b"false"))
                except OSError:
                    pass  # the client gave up (timeout)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def delivered(self) -> list[dict]:
        return [r["payload"] for r in self.requests if r["action"] == "ok"]

    def delivered_counts(self) -> Counter:
        return Counter((p["to"], p["message"]) for p in self.delivered())

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that keeps what arrived."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.raw: list[bytes] = []   # each message's bytes exactly as they arrived
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
                import email
                from email import policy

                sink.raw.append(envelope.content)
                sink.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content,
                                                                                  policy=policy.default)))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def calendar_bytes(message) -> bytes:
    """The bytes of an e-mail's inline text/calendar part as received (transfer encoding undone,
    charset not): what a calendar program reads."""
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return part.get_payload(decode=True)


def keep_ics(name: str, data: bytes) -> None:
    """With KOHTAAMO_ICS_DIR set, write a received calendar there (``<name>.ics``), so that other
    parsers (ical.js, libical) can be run on the very bytes a test received."""
    import os
    from pathlib import Path

    folder = os.environ.get("KOHTAAMO_ICS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.ics").write_bytes(data)
