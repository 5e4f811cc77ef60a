"""The read API under /api/v1: Starlette routes the app's own server mounts beside the pages (serve.py).

Every call but the OpenAPI document needs `Authorization: Bearer <key>` (governance/api/keys). The
answers, in order of the checks:
- 413 for a POST whose declared Content-Length is above MAX_BODY, before anything else (the body is
  never read);
- 401 (with `WWW-Authenticate: Bearer`) without a usable key: missing, unknown, revoked or expired;
- 429 (with `Retry-After`) past the key's requests per minute (a sliding window per key, in this process);
- 403 when the key lacks the endpoint's scope;
- 413 when a body sent without a length (chunked) grows past MAX_BODY: it is read only after the key
  is checked, and never more than MAX_BODY of it;
- 400 for a body or a parameter that cannot be read; 404 for an unknown OneID or audience, and for a
  person who is erased or may not be shown (a minor under 14 without a guardian's consent, or anyone
  without a granted, unexpired consent for the key's purpose), with the very body of a OneID that never
  existed.
What a key reads follows its role exactly as the pages do: the masking policy of the role (the keyed
`hash` included), and only the tags the role may view (tags.library.viewable_computed). A `personal`
tag's value shows in full only where the role sees unmapped columns in full (else `***`, as exports
do). A `sensitive` tag, and a sensitive golden field (ID numbers), needs the key's `sensitive:read`
scope and the person's separate consent. An audience whose rule reads, directly or through the saved
audiences it includes, a tag the key may not read (by its role, or a sensitive one without
`sensitive:read`) is left out of the list, and its members answer 404 as an unknown audience does.
Audience members keep their audience's own purpose and are checked again at the call
(audiences.library.member_page), so a withdrawal or an erasure takes effect at once.

Every call is audited (keys.record_call) with the key's name, the endpoint template (never the concrete
path), the status and how many people it returned. Identifiers looked up travel in the POST body of
/lookup, never in a URL, and are never logged. Refusals before a usable key is known (401, and the
early 413) are not written one row each, so that a flood of them cannot flood the audit log
(RefusalLog): per client address, key presented and status, the first refusal writes a row at once,
later ones within a minute of it are only counted in memory, and the count goes into the next row
allowed for them (`calls`: how many refusals the row stands for, `client`: the address): the next
refusal after the minute, or, for counts still held, the next audit row the API writes once their
minute is over. Counts still held when the process stops are lost.
"""
from __future__ import annotations

import functools
import json
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import duckdb
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from governance import bootstrap
from governance.access import masking
from governance.api import keys
from governance.api.keys import ApiKey
from governance.audiences import library as audience_library
from governance.audiences import members as audience_members
from governance.audiences.library import Audience
from governance.audiences.rules import AudienceError, references
from governance.golden import customer360
from governance.oneid.links import REC_ID
from governance.privacy import consent
from governance.standardize import normalizers
from governance.store import config, serving
from governance.store.config import resolve_db_path
from governance.store.errors import StoreBusyError, log_incident
from governance.store.schema import BY_NAME, FIELD_NAMES
from governance.store.storage import Database
from governance.tags import library as tag_library
from governance.tags.definitions import TagDefinition

PREFIX = "/api/v1"
OPENAPI_PATH = f"{PREFIX}/openapi.json"
WINDOW_SECONDS = 60.0
DEFAULT_PAGE, MAX_PAGE = 100, 1000
MAX_BODY = 16 * 1024  # bytes of a lookup body
MAX_HELD = 10_000  # clients whose refusals RefusalLog counts at once
# A process serving the API keeps the store open this long after a call (0.25 s otherwise): opening it
# again and warming DuckDB's caches costs a call about 50 ms. A command-line job waits at most this long.
HOLD_SECONDS = 5.0
SENSITIVE_FIELDS = tuple(f for f in FIELD_NAMES if BY_NAME[f].sensitive)
ATTRIBUTES = ("record_count", "channel_count", "channels", "first_seen", "last_seen", "completeness",
              "consent_status")
NOT_FOUND = {"error": "not_found", "message": "No such customer."}  # the same for erased and never-existed
NO_AUDIENCE = {"error": "not_found", "message": "No such audience."}  # the same for hidden and never-saved
TOO_LARGE = {"error": "too_large", "message": f"The body is larger than {MAX_BODY} bytes."}
LOOKUPS: dict[str, tuple[str, ...]] = {"mobile": ("mobile",), "open_id": ("open_id", "app_id"),
                                       "union_id": ("union_id",), "member_card": ("member_card", "source")}

DbProvider = Callable[[], Database]
T = TypeVar("T")


def default_database() -> Database:
    """The server's one Database (STEWARD_DB, else the default store), shared with the pages."""
    return bootstrap.shared_database(resolve_db_path(os.environ.get("STEWARD_DB")))


class RateLimiter:
    """Requests per minute per key: a sliding window of the last minute's calls, in this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, name: str, per_minute: int) -> float:
        """0 when the call may go ahead (and counts); else the seconds until it may."""
        now = self.clock()
        with self._lock:
            calls = self._calls.setdefault(name, deque())
            while calls and calls[0] <= now - WINDOW_SECONDS:
                calls.popleft()
            if len(calls) >= per_minute:
                return max(calls[0] + WINDOW_SECONDS - now, 0.001)
            calls.append(now)
            return 0.0


@dataclass
class _Held:
    key: ApiKey | None
    endpoint: str
    written_at: float
    pending: int = 0


# A refusal's audit row to write: the key presented (if on record), endpoint, status, calls, client.
Refusal = tuple[ApiKey | None, str, int, int, str]


class RefusalLog:
    """Refused calls before a usable key is known, counted per (client, key presented, status): at most
    one audit row per minute each (see the module docstring). In this process, bounded to MAX_HELD."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_held: int = MAX_HELD):
        self.clock = clock
        self.max_held = max_held
        self._held: dict[tuple[str, str | None, int], _Held] = {}
        self._dropped = 0  # held counts of entries let go to stay bounded: added to the next row
        self._lock = threading.Lock()

    def refused(self, client: str, key: ApiKey | None, endpoint: str, status: int) -> list[Refusal]:
        """Count one refusal; returns the rows to write now (none while this client's minute lasts)."""
        now = self.clock()
        ident = (client, key.name if key else None, status)
        rows: list[Refusal] = []
        with self._lock:
            held = self._held.get(ident)
            if held is None or now - held.written_at >= WINDOW_SECONDS:
                calls = 1 + (held.pending if held else 0) + self._dropped
                self._dropped = 0
                self._held[ident] = _Held(key, endpoint, now)
                rows.append((key, endpoint, status, calls, client))
            else:
                held.pending += 1
                held.endpoint = endpoint
            rows += self._due(now)
            self._bound(now)
        return rows

    def due(self) -> list[Refusal]:
        """The held counts whose minute is over, as rows to write now."""
        with self._lock:
            return self._due(self.clock())

    def _due(self, now: float) -> list[Refusal]:
        rows: list[Refusal] = []
        for (client, _, status), held in self._held.items():
            if held.pending and now - held.written_at >= WINDOW_SECONDS:
                rows.append((held.key, held.endpoint, status, held.pending, client))
                held.written_at, held.pending = now, 0
        return rows

    def _bound(self, now: float) -> None:
        if len(self._held) <= self.max_held:
            return
        for ident in [i for i, h in self._held.items() if not h.pending and now - h.written_at >= WINDOW_SECONDS]:
            del self._held[ident]
        while len(self._held) > self.max_held:  # the oldest go; their held counts are not lost
            self._dropped += self._held.pop(next(iter(self._held))).pending


class BadRequest(Exception):
    """A body or parameter the API cannot read: 400 with this message (never echoing the values)."""


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    people: int = 0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """What an endpoint gets: the store, the key, the path and query parameters, the body."""
    db: Database
    key: ApiKey
    params: dict[str, str]
    query: dict[str, str]
    body: bytes
    hmac_key: str | None


def _plain(value: Any) -> Any:
    """A value JSON can hold (dates as ISO text, numbers as numbers, lists as lists, missing as null)."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _plain(value.tolist())
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    return value


class Json(JSONResponse):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=_plain).encode("utf-8")


# ---- what a role may see ---------------------------------------------------------------------------

def visible_tags(cur: duckdb.DuckDBPyConnection, key: ApiKey) -> dict[str, TagDefinition]:
    """The computed (published or deprecated) tags the key's role may view; sensitive ones only with
    the `sensitive:read` scope."""
    return {code: t for code, t in tag_library.viewable_computed(cur, key.role).items()
            if t.sensitivity != "sensitive" or key.has("sensitive:read")}


def tags_read(cur: duckdb.DuckDBPyConnection, rule: Any) -> set[str]:
    """Every tag a rule reads, directly or through the saved audiences it includes (their current
    rules); AudienceError when one of those audiences is gone."""
    tags: set[str] = set()
    seen: set[str] = set()
    pending = [rule]
    while pending:
        read = references(pending.pop())
        tags.update(read["tags"])
        for name in read["audiences"]:
            if name not in seen:
                seen.add(name)
                pending.append(audience_members.saved_rule(cur, name))
    return tags


def readable_audience(cur: duckdb.DuckDBPyConnection, audience: Audience, tags: dict[str, TagDefinition]) -> bool:
    """Whether the key whose readable tags are `tags` (visible_tags) may see the audience: its rule reads
    no other tag (one it cannot tell to be readable counts as unreadable)."""
    try:
        return tags_read(cur, audience.rule) <= set(tags)
    except AudienceError:
        return False


def shown_person(cur: duckdb.DuckDBPyConnection, oneid: str, purpose: str) -> tuple[dict, set[str]] | None:
    """The golden record and the granted consents of a person the API may show for `purpose` (the key's);
    None for a OneID that does not exist, is erased, has no granted, unexpired consent for the purpose
    (the ledger's current state, consent_current), or is a minor under 14 without a guardian's consent."""
    record = customer360.golden_row(cur, oneid)
    if record is None:
        return None
    states = consent.current(cur, oneid)
    granted = {p for p, state in states.items() if state == "granted"}
    if purpose not in granted:
        return None
    record["consent_status"] = states.get("marketing", "unknown")  # as golden_records gives it
    if bool(_plain(record.get("is_minor"))) and consent.GUARDIAN not in granted:
        return None
    return record, granted


def person_tags(cur: duckdb.DuckDBPyConnection, key: ApiKey, oneid: str, granted: set[str],
                policy: masking.Policy, tags: dict[str, TagDefinition]) -> dict[str, Any]:
    """{code: value} of the person's tags the key may read (`tags`: visible_tags): a personal tag's value
    as exports show it to the role, a sensitive one only with the person's separate consent."""
    shown_personal = policy.rule(masking.OTHER, key.role).method == "full"
    out: dict[str, Any] = {}
    for code, value, sensitivity in cur.execute(
            "SELECT t.tag_code, t.value, d.sensitivity FROM tag_values t JOIN tag_definitions d "
            "ON d.code = t.tag_code AND d.version = t.tag_version WHERE t.oneid = ? ORDER BY t.tag_code",
            [oneid]).fetchall():
        tag = tags.get(code)
        if tag is None:
            continue
        levels = {sensitivity, tag.sensitivity}
        if "sensitive" in levels and consent.SENSITIVE_TAGS not in granted:
            continue
        out[code] = value if levels == {"normal"} or shown_personal else masking.HIDDEN
    return out


def masked_fields(record: dict, key: ApiKey, granted: set[str], policy: masking.Policy) -> dict[str, Any]:
    """The filled golden fields masked by the key's role policy, as the Customer 360 page shows them; a
    sensitive field only with the `sensitive:read` scope and the person's separate consent for it."""
    out: dict[str, Any] = {}
    for f in FIELD_NAMES:
        value = _plain(record.get(f))
        if value is None:
            continue
        if f in SENSITIVE_FIELDS and not (key.has("sensitive:read") and consent.SENSITIVE_CONSENT[f] in granted):
            continue
        out[f] = masking.mask_value(f, value if isinstance(value, str) else str(value), key.role, policy)
    return out


# ---- endpoints ---------------------------------------------------------------------------------------

def _policy(cur: duckdb.DuckDBPyConnection, call: Call) -> masking.Policy:
    """The masking policy, read once per change of the store."""
    return call.db.cached(("api.policy", call.hmac_key), lambda: masking.load_policy(cur, call.hmac_key))


def _tags(cur: duckdb.DuckDBPyConnection, call: Call) -> dict[str, TagDefinition]:
    """visible_tags for the call's key, read once per change of the store and kind of key."""
    key = call.key
    return call.db.cached(("api.tags", key.role, key.has("sensitive:read")), lambda: visible_tags(cur, key))


def get_tags(call: Call) -> Answer:
    with call.db.cursor() as cur:
        tags = _tags(cur, call)
    return Answer(200, {"tags": [{
        "code": t.code, "name_zh": t.name_zh, "name_en": t.name_en, "category": t.category, "value_type": t.value_type,
        "allowed_values": [{"code": a.code, "zh": a.zh, "en": a.en} for a in t.allowed_values],
        "sensitivity": t.sensitivity, "status": t.status, "version": t.version,
        "business_definition": t.business_definition} for t in sorted(tags.values(), key=lambda t: t.code)]})


def _oneid(call: Call) -> str:
    return call.params.get("oneid", "").strip().upper()


def get_customer(call: Call) -> Answer:
    oneid = _oneid(call)
    with call.db.snapshot() as cur:  # one committed state for the whole answer
        found = shown_person(cur, oneid, call.key.purpose)
        if found is None:
            return Answer(404, NOT_FOUND)
        record, granted = found
        policy = _policy(cur, call)
        body = {"oneid": oneid, "fields": masked_fields(record, call.key, granted, policy),
                **{a: _plain(record.get(a)) for a in ATTRIBUTES},
                "tags": person_tags(cur, call.key, oneid, granted, policy, _tags(cur, call))}
    return Answer(200, body, people=1)


def get_customer_tags(call: Call) -> Answer:
    oneid = _oneid(call)
    with call.db.snapshot() as cur:  # one committed state for the whole answer
        found = shown_person(cur, oneid, call.key.purpose)
        if found is None:
            return Answer(404, NOT_FOUND)
        tags = person_tags(cur, call.key, oneid, found[1], _policy(cur, call), _tags(cur, call))
    return Answer(200, {"oneid": oneid, "tags": tags}, people=1)


def _lookup_request(body: bytes) -> tuple[str, dict[str, str]]:
    """The kind of lookup and its values, from a JSON body of exactly one accepted form."""
    if len(body) > MAX_BODY:
        raise BadRequest("The body is too large.")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    forms = ' or '.join('{' + ', '.join(f'"{k}"' for k in keys_) + '}' for keys_ in LOOKUPS.values())
    for kind, names in LOOKUPS.items():
        if set(data) == set(names):
            if not all(isinstance(data[n], str) and data[n].strip() for n in names):
                raise BadRequest("Every value must be a non-empty string.")
            return kind, {n: data[n].strip() for n in names}
    raise BadRequest(f"Send exactly one of {forms}.")


# per lookup: the std_records column it reads, its status column, and (column, body name) pairs to match
_LOOKUP_COLUMNS = {"mobile": ("mobile", "mobile_status", ()),
                   "open_id": ("wechat_open_id", "wechat_open_id_status", (("wechat_app_id", "app_id"),)),
                   "union_id": ("wechat_union_id", "wechat_union_id_status", ()),
                   "member_card": ("member_card", "member_card_status", ())}


def _lookup_oneids(cur: duckdb.DuckDBPyConnection, kind: str, values: dict[str, str]) -> list[str]:
    """The OneIDs of the standardized records holding the identifier (shown_person then checks each): a
    read of std_records by the identifier alone (any other test there would keep DuckDB from its serving
    index), the status and app id checked here, then the crosswalk by those records."""
    value = values[kind]
    if kind == "mobile":
        normalized = normalizers.normalize_mobile(value)
        if normalized.status not in normalizers.VALID or not normalized.value:
            raise BadRequest("The mobile is not a valid mainland mobile number.")
        value = normalized.value
    column, status, also = _LOOKUP_COLUMNS[kind]
    wanted = tuple(values[name] for _, name in also)
    records = [rec for rec, state, *others in cur.execute(
        f"SELECT {REC_ID}, {status}{''.join(', ' + c for c, _ in also)} FROM std_records WHERE {column} = ?",
        [value]).fetchall() if state in normalizers.VALID and tuple(others) == wanted]
    if not records:
        return []
    sql = "SELECT DISTINCT oneid FROM crosswalk WHERE list_contains(?::BIGINT[], rec_id)"
    params: list[Any] = [records]
    if kind == "member_card":
        sql, params = sql + " AND source = ?", [records, values["source"]]
    return [r[0] for r in cur.execute(sql + " ORDER BY 1", params).fetchall()]


def post_lookup(call: Call) -> Answer:
    kind, values = _lookup_request(call.body)
    with call.db.snapshot() as cur:  # one committed state for the whole answer
        shown = []
        for oneid in _lookup_oneids(cur, kind, values):
            found = shown_person(cur, oneid, call.key.purpose)
            if found is not None:
                shown.append((oneid, found[1]))
        if not shown:
            return Answer(404, NOT_FOUND)
        if len(shown) > 1:
            return Answer(409, {"error": "ambiguous", "message": "The identifier belongs to more than one customer.",
                                "matches": len(shown)})
        oneid, granted = shown[0]
        tags = person_tags(cur, call.key, oneid, granted, _policy(cur, call), _tags(cur, call))
    return Answer(200, {"oneid": oneid, "tags": tags}, people=1)


def get_audiences(call: Call) -> Answer:
    with call.db.cursor() as cur:
        tags = _tags(cur, call)
        listed = [a for a in audience_library.list_audiences(cur) if readable_audience(cur, a, tags)]
    return Answer(200, {"audiences": [{
        "name": a.name, "kind": a.kind, "purpose": a.purpose, "channel": a.channel, "version": a.version,
        "description": a.description, "members": _plain(a.members), "updated_at": _plain(a.updated_at),
        "refreshed_at": _plain(a.refreshed_at)} for a in listed]})


def _limit(call: Call) -> int:
    text = call.query.get("limit", "")
    if not text:
        return DEFAULT_PAGE
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE:  # not ² or ①
        raise BadRequest(f"limit is a whole number from 1 to {MAX_PAGE}.")
    return int(text)


def get_members(call: Call) -> Answer:
    name, limit = call.params.get("name", ""), _limit(call)
    cursor = call.query.get("cursor") or None
    with call.db.cursor() as cur:
        audience = next((a for a in audience_library.list_audiences(cur) if a.name == name), None)
        if audience is None or not readable_audience(cur, audience, _tags(cur, call)):
            return Answer(404, NO_AUDIENCE)
        # member_page checks the exclusions again now: a withdrawal or an erasure takes effect at once
        members, next_cursor = audience_library.member_page(cur, name, cursor=cursor, limit=limit)
    return Answer(200, {"audience": name, "version": audience.version, "members": members,
                        "next_cursor": next_cursor}, people=len(members))


# (method, path, scope, handler)
ENDPOINTS: tuple[tuple[str, str, str, Callable[[Call], Answer]], ...] = (
    ("GET", f"{PREFIX}/tags", "tags:read", get_tags),
    ("GET", f"{PREFIX}/customers/{{oneid}}", "customers:read", get_customer),
    ("GET", f"{PREFIX}/customers/{{oneid}}/tags", "customers:read", get_customer_tags),
    ("POST", f"{PREFIX}/lookup", "customers:read", post_lookup),
    ("GET", f"{PREFIX}/audiences", "audiences:read", get_audiences),
    ("GET", f"{PREFIX}/audiences/{{name}}/members", "audiences:read", get_members),
)


# ---- serving -----------------------------------------------------------------------------------------

def _bearer(header: str | None) -> str | None:
    scheme, _, token = (header or "").strip().partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def _unauthorized(presented: bool) -> Answer:
    challenge = 'Bearer realm="steward"' + (', error="invalid_token"' if presented else "")
    return Answer(401, {"error": "unauthorized", "message": "A valid API key is needed: Authorization: Bearer <key>."},
                  headers={"WWW-Authenticate": challenge})


class Api:
    """The routes' shared state: where the store comes from, the rate limiter, the refusal log and the
    HMAC key. A call goes in steps: an early 413 on the declared length, then the key (401, 429, 403),
    only then the body (read up to MAX_BODY), then the endpoint; each step's answer is audited."""

    def __init__(self, db_provider: DbProvider | None = None, limiter: RateLimiter | None = None,
                 hmac_key: Callable[[], str | None] | None = None, refusals: RefusalLog | None = None):
        self.db_provider = db_provider or default_database
        self.limiter = limiter or RateLimiter()
        self.refusals = refusals or RefusalLog(self.limiter.clock)
        self.hmac_key = hmac_key or functools.cache(lambda: config.secret("hmac_key"))

    def safely(self, step: Callable[[Database], T]) -> T | Response:
        """Run one step on the store: 503 while it is busy, 500 (the traceback to the private log) on a failure."""
        db: Database | None = None
        try:
            db = self.db_provider()
            db.hold_seconds = max(db.hold_seconds, HOLD_SECONDS)
            return step(db)
        except StoreBusyError:
            return Json({"error": "busy", "message": "The store is busy; try again shortly."}, 503,
                        headers={"Retry-After": "5"})
        except Exception as exc:  # one line for the caller; the traceback (it may hold data) to the private log
            incident, _ = log_incident(exc, (db.path if db else resolve_db_path(None)).parent)
            return Json({"error": "internal", "message": f"Unexpected failure, incident {incident}."}, 500)

    def record(self, db: Database, key: ApiKey | None, template: str, answer: Answer, client: str) -> None:
        """Audit an answer: a refusal before a usable key is known through the refusal log, any other at once
        (with the refusal counts whose minute is over)."""
        if key is None or answer.status == 401:
            rows = self.refusals.refused(client, key, template, answer.status)
        else:
            keys.record_call(db, key, template, answer.status, answer.people)
            rows = self.refusals.due()
        for held_key, endpoint, status, calls, who in rows:
            keys.record_call(db, held_key, endpoint, status, calls=calls, client=who)

    def reply(self, db: Database, key: ApiKey | None, template: str, answer: Answer, client: str) -> Response:
        self.record(db, key, template, answer, client)
        return Json(answer.body, answer.status, headers=answer.headers)

    def authorize(self, db: Database, template: str, scope: str, request: Request, client: str) -> Response | ApiKey:
        """The usable key allowed this call now, or the refusal (401, 429, 403), audited."""
        token = _bearer(request.headers.get("authorization"))
        with db.cursor() as cur:
            key = keys.find(cur, token)
        if key is None or not key.usable():
            answer = _unauthorized(token is not None)
        elif wait := self.limiter.take(key.name, key.rate_per_minute):
            answer = Answer(429, {"error": "rate_limited", "message": f"More than {key.rate_per_minute} requests "
                                                                      "a minute with this key."},
                            headers={"Retry-After": str(max(1, math.ceil(wait)))})
        elif not key.has(scope):
            answer = Answer(403, {"error": "forbidden", "message": f"This key lacks the scope {scope}."})
        else:
            return key
        return self.reply(db, key, template, answer, client)

    def handle(self, db: Database, key: ApiKey, template: str, handler: Callable[[Call], Answer], request: Request,
               body: bytes | None, client: str) -> Response:
        """The endpoint's answer (400 for what it cannot read, 413 for a body past MAX_BODY), audited."""
        if body is None:
            answer = Answer(413, TOO_LARGE)
        else:
            call = Call(db, key, dict(request.path_params), dict(request.query_params), body, self.hmac_key())
            try:
                answer = handler(call)
            except BadRequest as exc:
                answer = Answer(400, {"error": "bad_request", "message": str(exc)})
        return self.reply(db, key, template, answer, client)

    def route(self, method: str, path: str, scope: str, handler: Callable[[Call], Answer]) -> Route:
        template = f"{method} {path}"

        async def endpoint(request: Request) -> Response:
            client = request.client.host if request.client else "unknown"
            length = request.headers.get("content-length", "")
            if method == "POST" and length.isascii() and length.isdigit() and int(length) > MAX_BODY:  # refused unread, before the key
                return await run_in_threadpool(self.safely, lambda db: self.reply(
                    db, None, template, Answer(413, TOO_LARGE, headers={"Connection": "close"}), client))
            allowed = await run_in_threadpool(self.safely, lambda db: self.authorize(db, template, scope, request,
                                                                                     client))
            if isinstance(allowed, Response):
                return allowed
            body = await _capped_body(request) if method == "POST" else b""
            return await run_in_threadpool(self.safely, lambda db: self.handle(
                db, allowed, template, handler, request, body, client))

        return Route(path, endpoint, methods=[method], name=template)


async def _capped_body(request: Request) -> bytes | None:
    """The body, read up to MAX_BODY; None when it is longer (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def openapi(request: Request) -> Response:
    return Json(openapi_document())


def routes(db_provider: DbProvider | None = None, limiter: RateLimiter | None = None,
           hmac_key: Callable[[], str | None] | None = None, keep_indexes: bool = False) -> list[Route]:
    """The API's routes. The store comes from `db_provider` (default: the server's shared Database).
    `keep_indexes`: this process rebuilds the serving indexes bulk writes drop (store.serving.Keeper)."""
    api = Api(db_provider, limiter, hmac_key)
    if keep_indexes:
        serving.Keeper(api.db_provider).start()
    return [*(api.route(*e) for e in ENDPOINTS), Route(OPENAPI_PATH, openapi, methods=["GET"])]


# ---- the OpenAPI document ----------------------------------------------------------------------------

def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


_ERRORS = {"401": _error("No usable key: missing, unknown, revoked or expired (WWW-Authenticate: Bearer)."),
           "403": _error("The key lacks the scope."),
           "429": _error("Past the key's requests per minute (Retry-After: seconds)."),
           "503": _error("The store is busy (Retry-After).")}
_TAGS_MAP = {"type": "object", "additionalProperties": {"type": ["string", "null"]},
             "description": "Tag code -> value; a personal tag's value is *** unless the role sees it in full."}


def _operation(summary: str, scope: str, ok: dict, *, extra: dict | None = None, **more: Any) -> dict:
    responses = {"200": {"description": "OK", "content": {"application/json": {"schema": ok}}}, **_ERRORS,
                 **(extra or {})}
    return {"summary": summary, "description": f"Scope: `{scope}`.", "security": [{"bearer": []}],
            "responses": responses, **more}


def openapi_document() -> dict:
    """The API described in OpenAPI 3.1."""
    oneid = {"name": "oneid", "in": "path", "required": True, "schema": {"type": "string"}}
    not_found = {"404": _error("Unknown, erased, without a granted consent for the key's purpose, or not to be "
                               "shown (same body for all).")}
    lookup_forms = [{"type": "object", "required": list(names), "additionalProperties": False,
                     "properties": {n: {"type": "string"} for n in names}} for names in LOOKUPS.values()]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Steward read API", "version": "1",
                 "description": "Tags as a service: the published tag library, customers' masked golden records and "
                                "tags, lookups by identifier and audience members. A key reads for one consent "
                                "purpose: a person without a granted consent for it is not found. Every call is "
                                "audited."},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "string"},
                                                                   "message": {"type": "string"}}}},
        },
        "paths": {
            f"{PREFIX}/tags": {"get": _operation(
                "The published tags the key's role may view", "tags:read",
                {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "object", "properties": {
                    "code": {"type": "string"}, "name_zh": {"type": "string"}, "name_en": {"type": "string"},
                    "category": {"type": "string"}, "value_type": {"type": "string"},
                    "allowed_values": {"type": "array", "items": {"type": "object"}},
                    "sensitivity": {"type": "string"}}}}}})},
            f"{PREFIX}/customers/{{oneid}}": {"get": _operation(
                "A customer's golden record, masked by the key's role, and tags", "customers:read",
                {"type": "object", "properties": {"oneid": {"type": "string"}, "fields": {"type": "object"},
                                                  "tags": _TAGS_MAP}},
                extra=not_found, parameters=[oneid])},
            f"{PREFIX}/customers/{{oneid}}/tags": {"get": _operation(
                "A customer's tags", "customers:read",
                {"type": "object", "properties": {"oneid": {"type": "string"}, "tags": _TAGS_MAP}},
                extra=not_found, parameters=[oneid])},
            f"{PREFIX}/lookup": {"post": _operation(
                "Find a customer by identifier (sent in the body, never in the URL)", "customers:read",
                {"type": "object", "properties": {"oneid": {"type": "string"}, "tags": _TAGS_MAP}},
                extra={**not_found, "400": _error("Not JSON, or not one of the accepted forms."),
                       "413": _error(f"A body larger than {MAX_BODY} bytes."),
                       "409": _error("The identifier belongs to more than one customer.")},
                requestBody={"required": True, "content": {"application/json": {"schema": {"oneOf": lookup_forms}}}})},
            f"{PREFIX}/audiences": {"get": _operation(
                "Saved audiences whose rules read only tags the key may read", "audiences:read",
                {"type": "object", "properties": {"audiences": {"type": "array", "items": {"type": "object"}}}})},
            f"{PREFIX}/audiences/{{name}}/members": {"get": _operation(
                "An audience's current members as OneIDs, paged", "audiences:read",
                {"type": "object", "properties": {"members": {"type": "array", "items": {"type": "string"}},
                                                  "next_cursor": {"type": ["string", "null"]}}},
                extra={"404": _error("No such audience, or one whose rule reads a tag the key may not read."),
                       "400": _error("A bad limit.")},
                parameters=[{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                            {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                        "maximum": MAX_PAGE}}])},
            OPENAPI_PATH: {"get": {"summary": "This document", "security": [],
                                   "responses": {"200": {"description": "OK"}}}},
        },
    }
