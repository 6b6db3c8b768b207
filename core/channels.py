"""Delivery channels: e-mail over SMTP and SMS through a pluggable backend.

SMS_BACKEND "outbox" (default) sends nothing: the message waits in the outbox page and staff send
it by hand. "http" posts JSON to SMS_GATEWAY_URL with SMS_GATEWAY_KEY as a bearer token.
"""
from __future__ import annotations

import html
import json
import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import make_msgid


class SendError(Exception):
    """A delivery attempt failed; the message is retried later."""


class ConfigurationError(Exception):
    """A channel that has messages due is not configured."""


MANUAL = "manual"
SENT = "sent"


def missing_email_settings(config) -> list[str]:
    return [key for key in ("MAIL_SERVER", "MAIL_FROM") if not config.get(key)]


def missing_sms_settings(config) -> list[str]:
    backend = config.get("SMS_BACKEND") or "outbox"
    if backend == "outbox":
        return []
    if backend != "http":
        return ["SMS_BACKEND"]
    return [key for key in ("SMS_GATEWAY_URL", "SMS_GATEWAY_KEY") if not config.get(key)]


def one_line(text: str) -> str:
    """``text`` as one header-safe line: line breaks and other control characters become single
    spaces. A place typed as "Room 1<CR><LF>Bcc: ..." must neither break the e-mail library
    (which refuses CR/LF in a header) nor add a header."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in (text or "")).split())


def _html(body: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n") if p)
    return f"<!doctype html><html><body>{paragraphs}</body></html>"


def build_email(config, *, to: str, subject: str, body: str, ics: str = "", ics_method: str = "") -> EmailMessage:
    """The message as Outlook and Gmail build invitations: multipart/alternative of text/plain,
    text/html and (for an invitation) the calendar as text/calendar; charset=UTF-8;
    method=REQUEST|CANCEL, which calendar programs act on; the same .ics is also attached as
    invite.ics for programs that only look at attachments. Raises ValueError for an address a
    header cannot carry (the caller fails that one message)."""
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = one_line(subject)
    domain = config["MAIL_FROM"].rsplit("@", 1)[-1] or "kohtaamo.invalid"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(body)
    if not ics:
        return message
    message.add_alternative(_html(body), subtype="html")
    method = ics_method or "REQUEST"
    message.add_alternative(ics, subtype="calendar", params={"method": method})
    message.add_attachment(ics.encode("utf-8"), maintype="application", subtype="ics", filename="invite.ics")
    return message


def send_email(config, *, to: str, subject: str, body: str, ics: str = "", ics_method: str = "") -> str:
    message = build_email(config, to=to, subject=subject, body=body, ics=ics, ics_method=ics_method)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25),
                          timeout=float(config.get("MAIL_TIMEOUT", 20))) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"SMTP: {exc}"[:500]) from exc
    return SENT


class OutboxSmsBackend:
    """No gateway: staff send the text from the outbox page and mark it sent."""

    def send(self, to: str, text: str) -> str:
        return MANUAL


class HttpSmsBackend:
    def __init__(self, url: str, key: str, timeout: float = 10.0):
        self.url = url
        self.key = key
        self.timeout = timeout

    def send(self, to: str, text: str) -> str:
        request = urllib.request.Request(
            self.url, data=json.dumps({"to": to, "message": text}).encode("utf-8"), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                if not 200 <= response.status < 300:
                    raise SendError(f"SMS gateway: HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            raise SendError(f"SMS gateway: HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SendError(f"SMS gateway: {reason}"[:500]) from exc
        return SENT


def sms_backend(config):
    if (config.get("SMS_BACKEND") or "outbox") == "http":
        return HttpSmsBackend(config["SMS_GATEWAY_URL"], config["SMS_GATEWAY_KEY"],
                              float(config.get("SMS_GATEWAY_TIMEOUT", 10)))
    return OutboxSmsBackend()
