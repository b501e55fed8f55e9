"""Alert settings: the SMTP server, default recipients and the webhook secret.

Plain settings live in the database's meta table beside the core settings (`alert.smtp.host`),
so `serve`, the window and the command line agree. The two secrets, the SMTP password and the
webhook secret, live in `secrets.json` in the data directory, user-only (0600) and written
atomically: not in the database (whose backups are copied before migrations) and never in an
export. Wherever a secret is printed or shown it is masked; the webhook secret is the user's to
read in that file (their receiver needs it); `ensure_webhook_secret` makes one the first time a
webhook is sent or the secret is asked for, never on a mere read of the settings.

Names, as `jobdesk config NAME VALUE` takes them:
  smtp.host, smtp.port (0: the security's usual port), smtp.user, smtp.password,
  smtp.security (starttls, ssl or none), smtp.from,
  alert_email (default addresses, comma-separated), alert_webhook (default URLs, space-separated),
  webhook_secret.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from jobs.alerts.addresses import email_problem, split_list, webhook_problem
from jobs.db import meta_table
from jobs.paths import DataDir, make_private_file

log = logging.getLogger(__name__)

SECURITIES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
SECRET_NAMES = ("smtp.password", "webhook_secret")
PLAIN_NAMES = ("smtp.host", "smtp.port", "smtp.user", "smtp.security", "smtp.from", "alert_email", "alert_webhook")
ALERT_SETTING_NAMES = (*PLAIN_NAMES[:3], "smtp.password", *PLAIN_NAMES[3:], "webhook_secret")
MASK = "********"
SECRETS_FILE = "secrets.json"


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 0  # 0: DEFAULT_PORTS[security]
    user: str = ""
    password: str = ""
    security: str = "starttls"
    sender: str = ""  # the From address

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    @property
    def problem(self) -> str | None:
        """Why no e-mail can be sent with these settings, or None."""
        if not self.host:
            return "no SMTP server set (jobdesk config smtp.host HOST)"
        if not self.sender:
            return "no sender address set (jobdesk config smtp.from ADDRESS)"
        return None


@dataclass(frozen=True)
class AlertSettings:
    smtp: SmtpSettings = SmtpSettings()
    email: tuple[str, ...] = ()  # for jobs that name no address of their own
    webhooks: tuple[str, ...] = ()  # for jobs that name no URL of their own
    webhook_secret: str = ""


def parse_alert_setting(name: str, text: str) -> str:
    """The stored form of a setting typed by a person; ValueError says what is wrong."""
    value = str(text).strip()
    if name not in ALERT_SETTING_NAMES:
        raise ValueError(f"unknown setting {name!r}")
    if name == "smtp.port":
        if not value.isdigit() or not 0 <= int(value) <= 65535:
            raise ValueError(f"smtp.port: {value!r} is not a port number (1-65535, or 0 for the usual one)")
        return str(int(value))
    if name == "smtp.security":
        if value.lower() not in SECURITIES:
            raise ValueError(f"smtp.security: {value!r} is not one of: {', '.join(SECURITIES)}")
        return value.lower()
    if name in ("smtp.from", "alert_email"):
        for address in split_list(value) if name == "alert_email" else ([value] if value else []):
            problem = email_problem(address)
            if problem:
                raise ValueError(f"{name}: {problem}")
        return ", ".join(split_list(value)) if name == "alert_email" else value
    if name == "alert_webhook":
        for url in split_list(value):
            problem = webhook_problem(url)
            if problem:
                raise ValueError(f"{name}: {problem}")
        return " ".join(split_list(value))
    if name == "smtp.host" and any(char.isspace() for char in value):
        raise ValueError(f"smtp.host: {value!r} contains a space")
    if "\0" in value or "\n" in value:
        raise ValueError(f"{name}: must be one line of text")
    return value if name not in SECRET_NAMES else str(text)


def load_alert_settings(engine: Engine, data_dir: DataDir) -> AlertSettings:
    """The alert settings as stored (the webhook secret "" while none was made)."""
    with engine.connect() as conn:
        rows = dict(conn.execute(select(meta_table.c.key, meta_table.c.value)
                                 .where(meta_table.c.key.like("alert.%"))).all())  # fmt: skip
    plain = {name: rows.get(f"alert.{name}", "") for name in PLAIN_NAMES}
    stored = _read_secrets(data_dir) or {}
    secret = stored.get("webhook_secret", "")
    security = plain["smtp.security"] if plain["smtp.security"] in SECURITIES else "starttls"
    port = plain["smtp.port"]
    smtp = SmtpSettings(
        host=plain["smtp.host"], port=int(port) if port.isdigit() else 0, user=plain["smtp.user"],
        password=stored.get("smtp.password", ""), security=security, sender=plain["smtp.from"],
    )
    return AlertSettings(smtp, tuple(split_list(plain["alert_email"])), tuple(split_list(plain["alert_webhook"])), secret)


def ensure_webhook_secret(data_dir: DataDir) -> str:
    """The webhook secret, made (64 hex digits, kept user-only) if there is none yet. ValueError
    when the secrets file exists but cannot be read (it is never overwritten)."""
    stored = _read_secrets(data_dir)
    if stored is None:
        raise ValueError(f"{secrets_path(data_dir)} cannot be read; fix or remove it")
    if not stored.get("webhook_secret"):
        stored["webhook_secret"] = secrets.token_hex(32)
        _write_secrets(data_dir, stored)
        log.info("made a webhook secret in %s", secrets_path(data_dir))
    return stored["webhook_secret"]


def save_alert_setting(engine: Engine, data_dir: DataDir, name: str, value: Any) -> None:
    """Validate and store one setting (an empty value clears it; webhook_secret then gets a new one)."""
    stored = parse_alert_setting(name, str(value))
    if name in SECRET_NAMES:
        current = _read_secrets(data_dir)
        if current is None:
            raise ValueError(f"{name}: {secrets_path(data_dir)} cannot be read; fix or remove it first")
        if stored:
            current[name] = stored
        else:
            current.pop(name, None)
        _write_secrets(data_dir, current)
        return
    key = f"alert.{name}"
    with engine.begin() as conn:
        conn.execute(delete(meta_table).where(meta_table.c.key == key))
        if stored:
            conn.execute(insert(meta_table).values(key=key, value=stored))


def shown_settings(settings: AlertSettings, data_dir: DataDir) -> dict[str, Any]:
    """The settings as printed and sent over the socket: secrets masked."""
    smtp = settings.smtp
    return {
        "smtp.host": smtp.host, "smtp.port": smtp.port, "smtp.user": smtp.user,
        "smtp.password": MASK if smtp.password else "", "smtp.security": smtp.security, "smtp.from": smtp.sender,
        "alert_email": ", ".join(settings.email), "alert_webhook": " ".join(settings.webhooks),
        "webhook_secret": f"{MASK} (in {secrets_path(data_dir)})" if settings.webhook_secret
        else "(made when the first webhook is sent)",
    }


def secrets_path(data_dir: DataDir) -> Path:
    return data_dir.root / SECRETS_FILE


def _read_secrets(data_dir: DataDir) -> dict[str, str] | None:
    """The stored secrets; None when the file exists but cannot be read (it is left alone)."""
    path = secrets_path(data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.error("%s cannot be read (%s); alert secrets are unset until it is fixed", path, exc)
        return None
    make_private_file(path)
    return {str(key): str(value) for key, value in data.items()} if isinstance(data, dict) else None


def _write_secrets(data_dir: DataDir, values: dict[str, str]) -> None:
    from jobs.transfer import write_atomically  # (it loads the TOML writer, which reads never need)

    write_atomically(secrets_path(data_dir), json.dumps(values, indent=2, sort_keys=True) + "\n")


class AlertConfig:
    """The alert settings of one data directory, kept current by their own changes (any thread)."""

    def __init__(self, engine: Engine, data_dir: DataDir) -> None:
        self._engine = engine
        self._data_dir = data_dir
        self._lock = threading.Lock()
        self.settings = load_alert_settings(engine, data_dir)

    def webhook_secret(self) -> str:
        """The secret webhooks are signed with, made now if there is none yet."""
        with self._lock:
            if not self.settings.webhook_secret:
                ensure_webhook_secret(self._data_dir)
                self.settings = load_alert_settings(self._engine, self._data_dir)
            return self.settings.webhook_secret

    def with_secret(self) -> AlertSettings:
        """For the alerts worker: a webhook is never sent unsigned."""
        if not self.settings.webhook_secret:
            self.webhook_secret()
        return self.settings

    def set(self, name: str, value: Any) -> AlertSettings:
        """Change an SMTP, default-recipient or webhook-secret setting."""
        save_alert_setting(self._engine, self._data_dir, name, value)
        self.settings = load_alert_settings(self._engine, self._data_dir)
        return self.settings
