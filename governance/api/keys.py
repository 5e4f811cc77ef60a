"""API keys of the read API: created by admins, shown once, stored only as a hash, revoked at once.

A key is `stw_` and 43 random URL-safe characters (32 bytes from `secrets`). The store keeps its
SHA-256 and its first characters (`prefix`, to tell keys apart in lists); nothing else of it. A key
carries a role, analyst or steward (whose masking policy and tag permissions apply to what it reads;
never admin), one consent purpose (people without a granted, unexpired consent for it are not found),
scopes, an optional expiry and a rate limit in requests per minute. An expiry given as a date ends with
that day in China time (Asia/Shanghai): the key stops at 00:00 China time of the next day. Every change is audited; so is every call
(`record_call`, with the endpoint template, the status and how many people it returned).
This module alone writes `api_keys`.
"""
from __future__ import annotations

import copy
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import duckdb
import pandas as pd

from governance.access import audit, auth
from governance.access.events import Event
from governance.privacy.consent import PURPOSES
from governance.store.errors import GovernanceError
from governance.store.storage import Database
from governance.store.util import utcnow

SCOPES = ("tags:read", "customers:read", "audiences:read", "sensitive:read")
ROLES = ("analyst", "steward")  # a key never reads as an admin
DEFAULT_PURPOSE = "marketing"
CHINA = timezone(timedelta(hours=8))  # Asia/Shanghai: no daylight saving since 1991
KEY_PREFIX = "stw_"
SHOWN_PREFIX = 12  # characters of the key kept to name it in lists: "stw_" and 8 random ones
DEFAULT_RATE = 120  # requests per minute
MAX_RATE = 100_000
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
STATUSES = ("active", "expired", "revoked")
_COLUMNS = ("name, prefix, role, scopes, purpose, expires_at, rate_per_minute, created_by, created_at, revoked_by, revoked_at, "
            "last_used_at")


class ApiKeyError(GovernanceError):
    """An API key request that is refused (a bad name, role, scope, expiry or rate)."""


@dataclass(frozen=True)
class ApiKey:
    name: str
    prefix: str
    role: str
    scopes: tuple[str, ...]
    purpose: str
    expires_at: datetime | None
    rate_per_minute: int
    created_by: str
    created_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def status(self, now: datetime | None = None) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return "expired"
        return "active"

    def usable(self, now: datetime | None = None) -> bool:
        return self.status(now) == "active"

    def has(self, scope: str) -> bool:
        return scope in self.scopes


def hash_key(key: str) -> str:
    # A key is 256 random bits, so a plain fast SHA-256 cannot be reversed by guessing (unlike a
    # password, which needs a slow salted hash such as bcrypt); it also lets a lookup go by the hash.
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _check_name(name: str) -> str:
    name = (name or "").strip().lower()
    if not NAME_RE.match(name):
        raise ApiKeyError("A key name is 2–64 characters: lower-case letters, digits, '.', '_' or '-'.")
    return name


def parse_scopes(scopes: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Scopes from a list or a comma-separated text, checked, in SCOPES order."""
    given = [s.strip() for s in (scopes.split(",") if isinstance(scopes, str) else scopes) if s and s.strip()]
    unknown = [s for s in given if s not in SCOPES]
    if unknown:
        raise ApiKeyError(f"Unknown scope {unknown[0]!r}; choose from {', '.join(SCOPES)}.")
    if not given:
        raise ApiKeyError(f"A key needs at least one scope: {', '.join(SCOPES)}.")
    return tuple(s for s in SCOPES if s in given)


def _utc(moment: datetime) -> datetime:
    """A moment as stored: naive UTC (a naive moment is China time)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=CHINA)).astimezone(timezone.utc).replace(tzinfo=None)


def parse_expiry(value: str | date | datetime | None) -> datetime | None:
    """An expiry as stored (naive UTC). A date means the end of that day in China time (the key stops at
    00:00 Asia/Shanghai of the next day, 16:00 UTC of the date); ISO text is read as a date, or as a date
    and time (China time unless it has an offset). A datetime object is taken as stored (naive UTC).
    None or empty: no expiry."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is None else value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, date):
        return _utc(datetime.combine(value + timedelta(days=1), time()))
    text = str(value).strip()
    try:
        if len(text) == 10:  # a date alone
            return parse_expiry(date.fromisoformat(text))
        return _utc(datetime.fromisoformat(text))
    except ValueError:
        raise ApiKeyError(f"Cannot read the expiry {value!r}: write a date such as 2027-01-31.") from None


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ApiKeyError(f"A key reads as an analyst or a steward, not as {role!r}.")
    return role


def check_purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ApiKeyError(f"Unknown purpose {purpose!r}; choose one of {', '.join(PURPOSES)}.")
    return purpose


def _key(row: tuple) -> ApiKey:
    (name, prefix, role, scopes, purpose, expires_at, rate, created_by, created_at, revoked_by, revoked_at,
     last_used) = row
    return ApiKey(name, prefix, role, tuple(scopes or ()), purpose, expires_at, int(rate), created_by, created_at, revoked_by,
                  revoked_at, last_used)


def get(cur: duckdb.DuckDBPyConnection, name: str) -> ApiKey | None:
    row = cur.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE name = ?", [(name or "").strip().lower()]).fetchone()
    return _key(row) if row else None


def add(db: Database, actor: str, name: str, role: str, scopes: str | list[str] | tuple[str, ...],
        expires: str | date | datetime | None = None, rate_per_minute: int = DEFAULT_RATE,
        purpose: str = DEFAULT_PURPOSE) -> str:
    """Create a key; returns it. This is the only time it exists in clear: only its hash is stored. Audited.
    `role`: analyst or steward; `purpose`: the consent purpose its reads are for (consent.PURPOSES)."""
    name = _check_name(name)
    check_role(role)
    check_purpose(purpose)
    chosen = parse_scopes(scopes)
    expires_at = parse_expiry(expires)
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise ApiKeyError("The expiry must lie in the future.")
    try:
        rate = int(rate_per_minute)
    except (TypeError, ValueError):
        raise ApiKeyError("The rate limit is a whole number of requests per minute.") from None
    if not 1 <= rate <= MAX_RATE:
        raise ApiKeyError(f"The rate limit must be between 1 and {MAX_RATE:,} requests per minute.")
    key = new_key()
    with db.transaction() as cur:
        auth.require_user(cur, actor, "apikeys.manage")
        if get(cur, name) is not None:
            raise ApiKeyError(f"An API key named {name!r} already exists (a revoked key keeps its name).")
        cur.execute(f"INSERT INTO api_keys (key_hash, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                    [hash_key(key), name, key[:SHOWN_PREFIX], role, list(chosen), purpose, expires_at, rate, actor,
                     now])
        audit.record(cur, actor, Event.API_KEY_ADD, "api_key", name,
                     {"prefix": key[:SHOWN_PREFIX], "role": role, "scopes": list(chosen), "purpose": purpose,
                      "expires_at": expires_at,
                      "rate_per_minute": rate})
    return key


def revoke(db: Database, actor: str, name: str) -> None:
    """Revoke a key: every later call with it is refused (401). Audited."""
    with db.transaction() as cur:
        auth.require_user(cur, actor, "apikeys.manage")
        key = get(cur, name)
        if key is None:
            raise ApiKeyError(f"No API key named {name!r}.")
        if key.revoked_at is not None:
            raise ApiKeyError(f"The API key {key.name!r} is already revoked.")
        cur.execute("UPDATE api_keys SET revoked_by = ?, revoked_at = ? WHERE name = ?", [actor, utcnow(), key.name])
        audit.record(cur, actor, Event.API_KEY_REVOKE, "api_key", key.name, {"prefix": key.prefix})


def find(cur: duckdb.DuckDBPyConnection, key: str | None) -> ApiKey | None:
    """The key presented, whatever its state (revoked and expired included); None when unknown."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    row = cur.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = ?", [hash_key(key)]).fetchone()
    return _key(row) if row else None


def verify(cur: duckdb.DuckDBPyConnection, key: str | None) -> ApiKey | None:
    """The key presented if it may be used now (known, not revoked, not expired); else None."""
    found = find(cur, key)
    return found if found is not None and found.usable() else None


def list_keys(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every key (never the key itself): prefix, role, scopes, purpose, rate, expiry, last use and status."""
    return cur.execute(
        "SELECT name, prefix, role, array_to_string(scopes, ',') AS scopes, purpose, rate_per_minute, expires_at, last_used_at, "
        "CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN expires_at <= ? THEN 'expired' ELSE 'active' END "
        "AS status, created_by, created_at, revoked_by, revoked_at FROM api_keys ORDER BY created_at, name",
        [utcnow()]).df()


@dataclass
class _Call:
    db: Database
    key: ApiKey | None
    status: int
    entry: audit.Entry
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    writer: int | None = None  # the thread that wrote its group


class CallLog:
    """The audit rows of API calls, written in groups (a group commit): a call's row is committed
    before its answer goes out, and the calls waiting meanwhile share one transaction, whose
    writer is the first of them to get the turn."""

    def __init__(self) -> None:
        self._queue: list[_Call] = []
        self._queued = threading.Lock()
        self._turn = threading.Lock()

    def record(self, db: Database, key: ApiKey | None, endpoint: str, status: int, people: int = 0, *,
               calls: int | None = None, client: str | None = None) -> None:
        """Audit one call: the key's name (None: no key, or one not on record), the endpoint template
        (never the concrete path nor the body, which may hold identifiers), the status and the people
        returned. A call made with a usable key also sets its last use. `calls` and `client`: a row
        that stands for several refused calls from one client (routes.RefusalLog) says how many and
        from where. Returns once the row is committed; raises what the writing raised."""
        detail: dict = {"key": key.name if key else None, "status": status, "people": people}
        if calls is not None:
            detail |= {"calls": calls, "client": client}
        call = _Call(db, key, status, (f"api:{key.name}" if key else "api", Event.API_CALL, "api", endpoint, detail))
        with self._queued:
            self._queue.append(call)
        with self._turn:
            if not call.done.is_set():
                with self._queued:
                    group, self._queue = self._queue, []
                for queued in group:
                    queued.writer = threading.get_ident()
                _write(group)
        if call.error is not None:
            if call.writer == threading.get_ident():
                raise call.error
            raise copy.copy(call.error) from call.error  # a follower raises a copy: one exception, one thread


def _write(group: list[_Call]) -> None:
    for db in {id(c.db): c.db for c in group}.values():
        calls = [c for c in group if c.db is db]
        try:
            used = sorted({c.key.name for c in calls if c.key is not None and c.status != 401})
            with db.transaction(log_only=True) as cur:
                if used:
                    cur.execute("UPDATE api_keys SET last_used_at = ? WHERE list_contains(?, name)", [utcnow(), used])
                audit.record_many(cur, [c.entry for c in calls])
        except BaseException as exc:  # each waiting call raises it
            for c in calls:
                c.error = exc
        finally:
            for c in calls:
                c.done.set()


_calls = CallLog()
record_call = _calls.record
