"""The conditions a job may require before a due run starts, as people write them.

`ac-power` (the computer is not running on battery), `network` (the system says it is
connected: a route, not a promise that a given server answers; NOTES item 38) and
`network:HOST:PORT` (a TCP connection to HOST:PORT succeeds within a few seconds: the server the
job needs really answers). IPv6 hosts go in brackets: `network:[::1]:5432`.

Qt-free and pure: the command line, the codec, the editor and the gate share it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AC_POWER = "ac-power"
NETWORK = "network"
KINDS = (AC_POWER, NETWORK)
_HOST = re.compile(r"[A-Za-z0-9._-]{1,253}")
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]{2,45}\]")


@dataclass(frozen=True)
class Requirement:
    kind: str  # AC_POWER or NETWORK
    host: str | None = None  # NETWORK with a probe: connect to host:port
    port: int | None = None

    @property
    def text(self) -> str:
        """As written in a definition: "network:db.example.com:5432"."""
        if self.host is None:
            return self.kind
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.kind}:{host}:{self.port}"

    @property
    def words(self) -> str:
        """What a waiting run waits for: "AC power", "a network connection", "db:5432"."""
        if self.kind == AC_POWER:
            return "AC power"
        if self.host is None:
            return "a network connection"
        return f"{self.text[len(NETWORK) + 1:]} to answer"

    @property
    def absent(self) -> str:
        """How the unmet condition is said in a missed run's reason: "on battery"."""
        if self.kind == AC_POWER:
            return "on battery"
        if self.host is None:
            return "no network"
        return f"{self.text[len(NETWORK) + 1:]} unreachable"


def parse_requirement(text: str) -> Requirement:
    """`text` as a Requirement; ValueError says what is wrong with it."""
    if not isinstance(text, str):
        raise ValueError(f"expected text, got {text!r}")
    cleaned = text.strip().lower()
    if cleaned in KINDS:
        return Requirement(cleaned)
    if cleaned in ("ac", "power", "ac_power", "acpower"):
        return Requirement(AC_POWER)
    if not cleaned.startswith(NETWORK + ":"):
        raise ValueError(f"{text.strip()!r} is not a condition: use ac-power, network or network:HOST:PORT")
    rest = text.strip()[len(NETWORK) + 1:]
    host, sep, port_text = rest.rpartition(":")
    if not sep or not host:
        raise ValueError(f"{text.strip()!r}: write network:HOST:PORT, e.g. network:db.example.com:5432")
    if host.startswith("["):
        if not _IPV6.fullmatch(host):
            raise ValueError(f"{text.strip()!r}: {host} is not an IPv6 address in brackets")
        host = host[1:-1]
    elif not _HOST.fullmatch(host) or host.startswith(("-", ".")):
        raise ValueError(f"{text.strip()!r}: {host!r} is not a host name or address")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{text.strip()!r}: port {port_text!r} is not a number from 1 to 65535")
    return Requirement(NETWORK, host, int(port_text))


def parse_requirements(texts: tuple[str, ...] | list[str]) -> tuple[Requirement, ...]:
    """Every requirement, each once, in the order given (ValueError for the first bad one)."""
    return tuple(dict.fromkeys(parse_requirement(text) for text in texts))


def normalized(texts: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The canonical spelling of each requirement, duplicates dropped."""
    return tuple(requirement.text for requirement in parse_requirements(texts))


def join_words(parts: list[str]) -> str:
    """"AC power", "AC power and a network connection", "a, b and c"."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
