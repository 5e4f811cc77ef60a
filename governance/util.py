"""Small shared helpers."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone


def utcnow() -> datetime:
    """Naive UTC timestamp, as stored in every TIMESTAMP column."""
    return datetime.now(timezone.utc).replace(tzinfo=None)

_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(value: object) -> object:
    """Make a text cell safe for spreadsheets: a leading = + - @ tab or CR gets a quote prefix."""
    if isinstance(value, str) and value.startswith(_FORMULA_LEADS):
        return "'" + value
    return value


def hmac_hex(key: str | bytes, value: str) -> str:
    """Keyed pseudonym: HMAC-SHA256 of `value` under the secret `key` (hex). Plain SHA-256 of a
    phone number can be reversed by enumerating the 11-digit space; this cannot without the key."""
    if not key:
        raise ValueError("hmac_hex needs a non-empty key")
    key_bytes = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(key_bytes, value.encode("utf-8"), hashlib.sha256).hexdigest()
