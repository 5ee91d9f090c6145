"""Deterministic opaque ids derived from a request."""

from __future__ import annotations

import base64
import hashlib


def derive_id(*parts: str, length: int = 22) -> str:
    """A base64url-alphabet id of the given length, stable for the same parts."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:length]
