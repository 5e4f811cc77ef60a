"""Small shared helpers."""
from __future__ import annotations

import os
from datetime import datetime, timezone


def utcnow() -> datetime:
    """Naive UTC timestamp, as stored in every TIMESTAMP column."""
    return datetime.now(timezone.utc).replace(tzinfo=None)

def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (another user's counts; a bad id does not)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError, ValueError):
        return False
    except PermissionError:  # another user's process
        return True
    return True


FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(value: object) -> object:
    """Make a text cell safe for spreadsheets: a leading = + - @ tab or CR gets a quote prefix."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


