"""Sending one alert: an e-mail over SMTP, or a webhook POST signed with HMAC-SHA256.

Both block up to `timeout` seconds and raise `DeliveryError` saying why, and whether trying
again later may help (a refused connection, a busy server) or not (a wrong password, a 404).
Only the delivery worker (jobs.alerts.deliveries) calls them, never the GUI thread.

The webhook body is the run exactly as `history --json` shows it (jobs.records_json), UTF-8
JSON; `X-Jobdesk-Signature: sha256=<hex>` is the HMAC-SHA256 of those bytes with the user's
webhook secret, as GitHub signs its webhooks, so a receiver can check who sent it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from jobs import __version__
from jobs.alerts.config import SmtpSettings
from jobs.records_json import iso
from jobs.model import RunRecord, RunStatus

SIGNATURE_HEADER = "X-Jobdesk-Signature"


class DeliveryError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


# --- e-mail -------------------------------------------------------------------------------------


def email_text(record: RunRecord) -> tuple[str, str]:
    """(subject, body) of the e-mail about `record`."""
    if record.status is RunStatus.SUCCEEDED:
        outcome = "succeeded"
    elif record.status is RunStatus.FAILED:
        outcome = "failed"
    else:
        outcome = record.status.value
    subject = f"[Jobdesk] {record.job_name} {outcome} (run #{record.id})"
    lines = [f"{record.job_name}: run #{record.id} {outcome}.", ""]
    facts: list[tuple[str, Any]] = [
        ("Job", f"{record.job_name} ({record.job_id})"), ("Cause", record.cause.value),
        ("Scheduled for", iso(record.scheduled_at)), ("Started", iso(record.started_at)), ("Ended", iso(record.ended_at)),
        ("Duration", f"{record.duration:.1f} s" if record.duration is not None else None),
        ("Exit code", record.exit_code), ("Error", record.error), ("Waited for", record.waiting_for),
        ("Command", " ".join(record.command)), ("Directory", record.cwd), ("Host", record.ran_on or socket.gethostname()),
        ("Log", str(record.log_path) if record.log_path else None),
    ]
    lines += [f"{label + ':':<15}{value}" for label, value in facts if value is not None and value != ""]
    if record.stderr_tail and record.status is not RunStatus.SUCCEEDED:
        lines += ["", "Last lines of stderr:", *("  " + line for line in record.stderr_tail.splitlines())]
    lines += ["", f"-- Jobdesk {__version__}"]
    return subject, "\n".join(lines) + "\n"


def send_email(smtp: SmtpSettings, to: str, subject: str, body: str, *, timeout: float) -> None:
    problem = smtp.problem
    if problem:
        raise DeliveryError(problem, transient=False)
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
    message.set_content(body)
    context = ssl.create_default_context()
    try:
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.effective_port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.effective_port, timeout=timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=context)
            if smtp.user:
                client.login(smtp.user, smtp.password)
            client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}", transient=False) from None
    except smtplib.SMTPRecipientsRefused as exc:
        code, reason = next(iter(exc.recipients.values()))
        raise DeliveryError(f"{to} refused: {code} {_text(reason)}", transient=400 <= code < 500) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"the SMTP server does not support this: {exc} (see smtp.security)", transient=False) from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP error {exc.smtp_code} {_text(exc.smtp_error)}", transient=400 <= exc.smtp_code < 500) from None
    except ssl.SSLError as exc:
        raise DeliveryError(f"TLS with {smtp.host}:{smtp.effective_port} failed: {exc.reason or exc}", transient=False) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"cannot reach {smtp.host}:{smtp.effective_port}: {exc}", transient=True) from None


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


# --- webhook ------------------------------------------------------------------------------------


def webhook_body(run: dict[str, Any]) -> bytes:
    return json.dumps(run, ensure_ascii=False).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    """The value of X-Jobdesk-Signature: "sha256=" and the HMAC-SHA256 of `body`, in hex."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirected POST would become a GET somewhere else: report it instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


def post_webhook(url: str, body: bytes, secret: str, *, run_id: int, timeout: float) -> None:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": f"Jobdesk/{__version__}",
        SIGNATURE_HEADER: signature(secret, body), "X-Jobdesk-Event": "run.finished", "X-Jobdesk-Run": str(run_id),
    })  # fmt: skip
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        transient = exc.code >= 500 or exc.code in (408, 429)
        raise DeliveryError(f"HTTP {exc.code} {exc.reason}", transient=transient) from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"cannot reach {url}: {exc.reason}", transient=True) from None
    except (OSError, ValueError) as exc:  # timeouts, resets, a malformed answer
        raise DeliveryError(f"cannot reach {url}: {exc}", transient=True) from None
