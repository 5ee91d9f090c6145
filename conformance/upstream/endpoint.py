"""Where the upstream listens: a loopback host and port, as ``--upstream HOST:PORT`` gives it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from conformance.errors import ConfigError


@dataclass(frozen=True)
class Endpoint:
    """A loopback host and port to serve on (port 0: any free port)."""

    host: str
    port: int

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def parse(cls, text: str, field: str = "--upstream") -> Endpoint:
        """``HOST:PORT`` (``[::1]:PORT`` for IPv6) on a loopback address; anything else is a ConfigError."""
        host, sep, port_text = text.strip().rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not sep or not host or not port_text.isdigit():
            raise ConfigError(f"expected HOST:PORT (e.g. 127.0.0.1:8090), got {text!r}", field=field)
        port = int(port_text)
        if port > 65535:
            raise ConfigError(f"not a TCP port: {port} (0 to 65535)", field=field)
        if not is_loopback(host):
            raise ConfigError(
                f"{host} is not a loopback address: the upstream listens on this machine only"
                " (127.0.0.1, ::1 or localhost)",
                field=field,
            )
        return cls("127.0.0.1" if host == "localhost" else host, port)


def is_loopback(host: str) -> bool:
    """Whether a host names this machine's loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
