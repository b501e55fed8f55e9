"""The broker URL: checked when set, masked whenever shown, and the words for "cannot reach it".

Whoever can write to the broker can run commands on every worker, so the URL carries a password
(`redis://:PASSWORD@host:6379/0`, or `rediss://` for TLS). It is stored user-only with the other
settings and never shown in full: `config`, logs and error messages get `mask()`'s form.
"""

from __future__ import annotations

import errno
import os
import re
import socket
from urllib.parse import SplitResult, urlsplit

SCHEMES = ("redis", "rediss")
DEFAULT_PORT = 6379
ENV_VAR = "JOBDESK_BROKER"
CONNECT_TIMEOUT = 2.0  # seconds: a due run fails "broker unreachable" within a few seconds
_HIDDEN = "****"


class BrokerUrlError(ValueError):
    """The text is not a broker URL Jobdesk can use; the message says why."""


def check(url: str) -> str:
    """`url` stripped if it is a usable Redis URL, else BrokerUrlError (saying it masked)."""
    text = url.strip()
    if not text:
        return ""
    parts = _split(text)
    if parts.scheme not in SCHEMES:
        raise BrokerUrlError(f"{mask(text)}: the broker must be redis://... or rediss://... (TLS)")
    if not parts.hostname:
        raise BrokerUrlError(f"{mask(text)}: no host; write it like redis://:PASSWORD@host:6379/0")
    try:
        port = parts.port
    except ValueError:
        raise BrokerUrlError(f"{mask(text)}: the port is not a number from 1 to 65535") from None
    if port == 0:
        raise BrokerUrlError(f"{mask(text)}: the port is not a number from 1 to 65535")
    db = parts.path.lstrip("/")
    if db and not db.isdigit():
        raise BrokerUrlError(f"{mask(text)}: the database after the host must be a number, like /0")
    if any(c.isspace() for c in text):
        raise BrokerUrlError(f"{mask(text)}: must not contain spaces")
    return text


def _split(text: str) -> SplitResult:
    try:
        return urlsplit(text)
    except ValueError as exc:
        raise BrokerUrlError(f"not a URL: {exc}") from None


def mask(url: str) -> str:
    """The URL with its password (and a user's secret part) replaced by ****."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^@/]*@", f"//{_HIDDEN}@", url)
    if parts.password is None and "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    secret = f"{user}:{_HIDDEN}" if ":" in userinfo or not user else _HIDDEN
    return parts._replace(netloc=f"{secret}@{hostport}").geturl()


def address(url: str) -> str:
    """scheme://host:port without credentials or database: how errors name the broker."""
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORT
    except ValueError:
        return mask(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}:{port}"


def from_environment() -> str:
    return os.environ.get(ENV_VAR, "").strip()


def reason(exc: BaseException) -> str:
    """A short lower-case reason for a failed connection ("connection refused")."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < 8:
        seen.append(current)
        current = current.__cause__ or current.__context__
    for item in seen:
        if isinstance(item, ConnectionRefusedError) or getattr(item, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        if isinstance(item, socket.gaierror):
            return "host not found"
        if isinstance(item, (socket.timeout, TimeoutError)):
            return "timed out"
    text = " ".join(str(item) for item in seen).lower()
    for needle, said in (("connection refused", "connection refused"), ("timed out", "timed out"),
                         ("timeout", "timed out"), ("name or service not known", "host not found"),
                         ("nodename nor servname", "host not found"), ("temporary failure in name", "host not found"),
                         ("invalid password", "wrong password"), ("wrongpass", "wrong password"),
                         ("authentication required", "a password is needed"), ("noauth", "a password is needed"),
                         ("ssl", "TLS failed"), ("connection reset", "connection reset"),
                         ("no route to host", "no route to host"), ("network is unreachable", "network unreachable")):
        if needle in text:
            return said
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return first[:120]


def unreachable(url: str, exc: BaseException) -> str:
    """ "broker unreachable: redis://host:6379 (connection refused)" (never the password)."""
    return f"broker unreachable: {address(url)} ({reason(exc)})"
