"""Small shared helpers."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Naive UTC timestamp, as stored in every TIMESTAMP column."""
    return datetime.now(timezone.utc).replace(tzinfo=None)

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(value: object) -> object:
    """Make a text cell safe for spreadsheets: a leading = + - @ tab or CR gets a quote prefix."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


