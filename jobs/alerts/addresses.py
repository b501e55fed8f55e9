"""What an alert may be sent to: an e-mail address or an http(s) URL, checked where typed.

Deliberately plain checks (one `@`, a dotted domain, no spaces or commas; a URL with a scheme
and a host): the mail server or the web server has the last word, and says it in the run's
alert record.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_EMAIL = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]+")
URL_MAX = 2000


def email_problem(address: str) -> str | None:
    """Why `address` cannot receive alerts, or None."""
    if not isinstance(address, str):
        return f"expected text, got {address!r}"
    if not _EMAIL.fullmatch(address):
        return f"{address!r} is not an e-mail address (name@example.com)"
    return None


def webhook_problem(url: str) -> str | None:
    """Why `url` cannot receive alerts, or None."""
    if not isinstance(url, str):
        return f"expected text, got {url!r}"
    if len(url) > URL_MAX:
        return f"a URL of {len(url)} characters is longer than {URL_MAX}"
    if any(char.isspace() for char in url):
        return f"{url!r} contains a space"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        return f"{url!r} is not a URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return f"{url!r} is not an http:// or https:// URL"
    if not parts.hostname:
        return f"{url!r} has no host"
    return None


def split_list(text: str) -> list[str]:
    """Addresses or URLs typed in one box, separated by commas, semicolons or spaces."""
    return [item for item in re.split(r"[\s,;]+", text.strip()) if item]
