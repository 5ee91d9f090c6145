"""Removing secrets from everything that leaves the process: reports, console and logs."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "[REDACTED]"
SECRET_HEADERS = frozenset(
    {"authorization", "x-goog-api-key", "api-key", "x-api-key", "proxy-authorization", "cookie", "set-cookie"}
)


class Redactor:
    """Replaces every known secret, in raw and URL-encoded form, with a mask."""

    def __init__(self, secrets: list[str | None] | tuple[str | None, ...] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= 4:
                forms.update({secret, quote(secret, safe=""), quote_plus(secret)})
        self._forms = sorted(forms, key=len, reverse=True)
        self._bytes_forms = [form.encode() for form in self._forms]

    def text(self, value: str) -> str:
        for form in self._forms:
            if form in value:
                value = value.replace(form, MASK)
        return value

    def data(self, value: bytes) -> bytes:
        for form in self._bytes_forms:
            if form in value:
                value = value.replace(form, MASK.encode())
        return value

    def headers(self, headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        """Headers with secret ones masked (an Authorization scheme kept), secrets removed from the rest."""
        out = []
        for name, value in headers:
            if name.lower() in SECRET_HEADERS:
                scheme = (
                    value.split(" ", 1)[0] + " " if name.lower() == "authorization" and " " in value else ""
                )
                out.append((name, scheme + MASK))
            else:
                out.append((name, self.text(value)))
        return tuple(out)
