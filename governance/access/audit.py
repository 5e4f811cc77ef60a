"""The append-only, tamper-evident audit log.

Rows are only ever inserted, each carrying the hash of the row before it. The hash is an
HMAC-SHA256 under `audit_key`, a secret kept in the secrets file, never in the store; it is stored
as `hmac:<hex>`. Rows written by releases before the key keep their plain SHA-256 (64 hex digits),
and the first keyed row chains from the last of them. The head of the chain is also anchored
outside the store: a small file beside the secrets file, one per store (`anchor_path`), holds the
last id, its hash and the row count, under an HMAC with the same key.

What `verify_chain` reports, and why it holds:
- **rewritten**: a row edited, even with every following hash recomputed, since that needs the key.
  An edited old unkeyed row is caught too, by the first keyed row (whose HMAC covers its
  predecessor's hash) or, before there is one, by the anchor. An unkeyed row after a keyed one is a
  rewrite as well.
- **gap at id N**: rows deleted in the middle, so the next row no longer links to the row before
  it. Ids come from a sequence, and DuckDB (2.0) does not give back the ids a rolled-back
  transaction took, so a skipped id alone proves nothing: after a rollback the next committed row
  links to the last committed one and the chain stays intact.
- **newest rows deleted after id N**: the store no longer holds the head the anchor saw.
- **anchor missing** (for a store once anchored at this path: `audit_anchor_paths`; a fresh, just
  upgraded, copied or moved store starts its own) or **anchor forged** (its HMAC fails).

The anchor only ever names a committed head, so a rollback or a crash leaves it behind, never
ahead: `record`, inside its caller's transaction, first anchors the head committed before that
transaction (read over a second connection); `log` anchors again after its commit; `verify` does
when the chain is intact. It moves only forward, and only while the store still holds the head it
names, so a deletion stays on record. Rows committed since the last anchoring are covered from the
next audit write or verify on: deleting the very newest rows before then goes unnoticed. After a
backup is restored, `reanchor` accepts the current head, once every row verifies.

Not detected: whoever holds both the store and the secrets file (or can write its folder) can
rewrite the log with valid HMACs and anchor it, and an old copy of the anchor put back hides
deletions made after it. A replaced `audit_key` makes every keyed row look rewritten.

The chain relies on serialized writes (the Database lock within a process, DuckDB's file lock
across processes); two writers racing would break a link, never fork the chain silently.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from governance.access.events import Event, declared, is_declared
from governance.store import config
from governance.store.errors import ConfigError
from governance.store.storage import one, scalar
from governance.store.util import neutralize_formula, utcnow

GENESIS = "0" * 64
KEYED = "hmac:"  # the prefix of a keyed hash
KEY_NAME = "audit_key"  # in the secrets file
SYSTEM_ACTOR = "system"


def _payload(prev_hash: str, row_id: int, ts: datetime, actor: str, action: str, object_type: str | None,
             object_id: str | None, detail: str | None) -> bytes:
    return json.dumps([prev_hash, row_id, ts.isoformat(), actor, action, object_type, object_id, detail],
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _row_hash(prev_hash: str, row_id: int, ts: datetime, actor: str, action: str,
              object_type: str | None, object_id: str | None, detail: str | None) -> str:
    """The unkeyed SHA-256 of rows written before the audit key."""
    return hashlib.sha256(_payload(prev_hash, row_id, ts, actor, action, object_type, object_id, detail)).hexdigest()


def _row_mac(key: bytes, prev_hash: str, row_id: int, ts: datetime, actor: str, action: str,
             object_type: str | None, object_id: str | None, detail: str | None) -> str:
    payload = _payload(prev_hash, row_id, ts, actor, action, object_type, object_id, detail)
    return KEYED + hmac.new(key, payload, hashlib.sha256).hexdigest()


def _stored_key() -> bytes | None:
    value = config.stored_secrets().get(KEY_NAME)
    return value.encode("utf-8") if value else None


def _key() -> bytes:
    """The audit key. Only the first start writes the secrets file, so a missing key stops here."""
    key = _stored_key()
    if key is None:
        raise ConfigError(f"The secret {KEY_NAME} is not in {config.secrets_path()}: run `python -m governance "
                          "init` (or start the app) once; it adds the key and keeps the other secrets.")
    return key


# ---- the anchor: the head of the chain, kept beside the secrets file ------------------------------

@dataclass(frozen=True)
class Anchor:
    id: int  # the last row's id (0: an empty log)
    hash: str
    rows: int  # rows with an id up to `id`


class ForgedAnchor(ValueError):
    pass


def anchor_path(store: Path) -> Path:
    """The anchor file of the store at `store`: in a folder beside the secrets file, named after
    the store's file name and a digest of its full path."""
    secrets = config.secrets_path()
    digest = hashlib.sha256(str(store).encode("utf-8")).hexdigest()[:16]
    return secrets.with_name(f"{secrets.stem}.audit-anchors") / f"{store.stem}-{digest}.json"


def _head(cur: duckdb.DuckDBPyConnection) -> tuple[Path | None, Anchor]:
    """The store file `cur` is connected to (None in memory), and the head of its chain."""
    path, head_id, head_hash, rows = one(
        cur, "SELECT (SELECT path FROM duckdb_databases() WHERE database_name = current_database()), "
             "coalesce(max(id), 0), coalesce(arg_max(hash, id), ?), count(*) FROM audit_log", [GENESIS])
    return (Path(path).resolve() if path else None), Anchor(head_id, head_hash, rows)


def _anchor_mac(key: bytes, store: Path, anchor: Anchor) -> str:
    payload = json.dumps(["steward.audit.anchor", str(store), anchor.id, anchor.hash, anchor.rows])
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def _read_anchor(file: Path, store: Path, key: bytes) -> Anchor:
    """The anchor in `file`. Raises ForgedAnchor when it is unreadable or its HMAC fails."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        anchor = Anchor(int(data["id"]), str(data["hash"]), int(data["rows"]))
        mac = str(data["mac"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ForgedAnchor(str(exc)) from None
    if not hmac.compare_digest(mac, _anchor_mac(key, store, anchor)):
        raise ForgedAnchor("its HMAC does not match")
    return anchor


def _write_anchor(file: Path, store: Path, key: bytes, anchor: Anchor) -> None:
    """Replace the anchor atomically (a crash leaves the old one or the new one), mode 0600."""
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = json.dumps({"store": str(store), "id": anchor.id, "hash": anchor.hash, "rows": anchor.rows,
                       "mac": _anchor_mac(key, store, anchor)})
    fd, part = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, file)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise


def _anchor_problem(cur: duckdb.DuckDBPyConnection, anchor: Anchor) -> tuple[int, str] | None:
    """(first bad id, why) when the store does not hold the head `anchor` names; None when it does."""
    if anchor.id == 0:
        return None
    found = cur.execute("SELECT hash, (SELECT count(*) FROM audit_log WHERE id <= ?) FROM audit_log WHERE id = ?",
                        [anchor.id, anchor.id]).fetchone()
    if found is None:
        kept = scalar(cur, "SELECT coalesce(max(id), 0) FROM audit_log WHERE id < ?", [anchor.id])
        return anchor.id, f"newest rows deleted after id {kept} (the anchor saw id {anchor.id})"
    if found != (anchor.hash, anchor.rows):
        return anchor.id, "rewritten (the anchor saw another chain up to this row)"
    return None


def _anchored_here(cur: duckdb.DuckDBPyConnection, store: Path) -> bool:
    """Whether the store's chain has been anchored at this path (a copy or a moved store has not)."""
    return cur.execute("SELECT 1 FROM audit_anchor_paths WHERE path = ?", [str(store)]).fetchone() is not None


def _anchor_at(cur: duckdb.DuckDBPyConnection, store: Path, key: bytes, head: Anchor) -> None:
    """Write the anchor, then note in the store that it is anchored at this path (in that order: a
    crash in between must not leave the store claiming an anchor that was never written)."""
    _write_anchor(anchor_path(store), store, key, head)
    cur.execute("INSERT INTO audit_anchor_paths VALUES (?, ?) ON CONFLICT DO NOTHING", [str(store), utcnow()])


def _advance_anchor(cur: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Anchor the head `cur` sees, which must be committed. The anchor moves only forward and only
    from a head the store still holds; a missing one is created only for a store never anchored at
    this path (fresh, just upgraded, copied or moved). Otherwise it is left for verify to report."""
    store, head = _head(cur)
    if store is None:
        return
    file = anchor_path(store)
    if file.exists():
        try:
            anchor = _read_anchor(file, store, key)
        except ForgedAnchor:
            return
        if head.id <= anchor.id or _anchor_problem(cur, anchor):
            return
    elif _anchored_here(cur, store):
        return
    _anchor_at(cur, store, key, head)


def _anchor_committed(db, key: bytes) -> None:
    """Anchor the store's committed head; inside a transaction of this thread, leave it for later."""
    if not db.in_transaction:
        with db.transaction() as cur:  # serialized with writers: no commit lands between read and write
            _advance_anchor(cur, key)


# One event to append: actor, action, object type, object id, detail.
Entry = tuple[str, Event, str | None, Any, dict | None]


def record(cur: duckdb.DuckDBPyConnection, actor: str, action: Event, object_type: str | None = None,
           object_id: Any = None, detail: dict | None = None) -> int:
    """Append one audit event. Call it inside the transaction of the action it records.
    `action` must be a declared Event (governance/access/events.py); anything else raises ValueError.
    Needs the audit key (ConfigError without it)."""
    return record_many(cur, [(actor, action, object_type, object_id, detail)])[0]


def record_many(cur: duckdb.DuckDBPyConnection, entries: list[Entry]) -> list[int]:
    """Append several audit events in order, chained as `record` chains one (one anchoring and one
    read of the head for all of them); returns their ids."""
    if not entries:
        return []
    names = [declared(action).value for _, action, *_ in entries]
    key = _key()
    with cur.cursor() as committed:  # another connection: it sees only what is committed
        _advance_anchor(committed, key)
    prev_hash = scalar(cur, "SELECT coalesce(arg_max(hash, id), ?) FROM audit_log", [GENESIS])
    ids = [r[0] for r in cur.execute("SELECT nextval('audit_seq') FROM range(?)", [len(entries)]).fetchall()]
    rows = []
    for (actor, _, object_type, object_id, detail), name, row_id in zip(entries, names, sorted(ids), strict=True):
        ts = utcnow()
        detail_json = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str) if detail else None
        object_id = None if object_id is None else str(object_id)
        digest = _row_mac(key, prev_hash, row_id, ts, actor, name, object_type, object_id, detail_json)
        rows.append([row_id, ts, actor, name, object_type, object_id, detail_json, prev_hash, digest])
        prev_hash = digest
    cur.execute("INSERT INTO audit_log VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows)),
                [value for row in rows for value in row])
    return [r[0] for r in rows]


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    rows: int
    first_bad_id: int | None = None
    reason: str | None = None  # why it is broken
    head_id: int | None = None  # the last row, when intact
    head_hash: str | None = None

    @property
    def message(self) -> str:
        """One line for the CLI."""
        if self.ok:
            head = f", head id {self.head_id} ({self.head_hash})" if self.head_id is not None else ""
            return f"Audit chain intact: {self.rows} rows{head}."
        where = f" at row id {self.first_bad_id}" if self.first_bad_id is not None else ""
        return f"Audit chain broken{where}: {self.reason}."


def verify_chain(cur: duckdb.DuckDBPyConnection) -> ChainCheck:
    """Recompute every hash in order and check that the store still holds the anchored head;
    report the first thing that does not fit (see the module docstring). Reads only."""
    key = _stored_key()  # needed only once a keyed row or the anchor turns up (`key or _key()` raises then)
    check = _verify_rows(cur, key)
    return (_check_anchor(cur, key, check.rows) if check.ok else None) or check


def _verify_rows(cur: duckdb.DuckDBPyConnection, key: bytes | None) -> ChainCheck:
    prev_id, prev, rows, keyed = 0, GENESIS, 0, False
    result = cur.execute(
        "SELECT id, ts, actor, action, object_type, object_id, detail, prev_hash, hash FROM audit_log ORDER BY id"
    )
    try:
        while batch := result.fetchmany(10_000):
            for row_id, ts, actor, action, otype, oid, detail, prev_hash, digest in batch:
                rows += 1
                if prev_hash != prev:
                    why = f"gap at id {prev_id + 1} (rows deleted)" if row_id > prev_id + 1 else "rewritten"
                    return ChainCheck(False, rows, row_id, why)
                if digest.startswith(KEYED):
                    keyed = True
                    fits = digest == _row_mac(key or _key(), prev, row_id, ts, actor, action, otype, oid, detail)
                else:  # an unkeyed row fits only before the first keyed one
                    fits = not keyed and digest == _row_hash(prev, row_id, ts, actor, action, otype, oid, detail)
                if not fits:
                    return ChainCheck(False, rows, row_id, "rewritten")
                prev_id, prev = row_id, digest
    finally:  # a break found early leaves the rest of the log unread: the cursor is free for the anchor check
        cur.abort()
    return ChainCheck(True, rows, head_id=prev_id or None, head_hash=prev if prev_id else None)


def _check_anchor(cur: duckdb.DuckDBPyConnection, key: bytes | None, rows: int) -> ChainCheck | None:
    """The broken check when the anchor is forged, missing though the store was anchored at this
    path, or names a head the store no longer holds; None otherwise."""
    store, _ = _head(cur)
    if store is None:
        return None
    file = anchor_path(store)
    if not file.exists():
        return ChainCheck(False, rows, None, f"anchor missing ({file})") if _anchored_here(cur, store) else None
    try:
        anchor = _read_anchor(file, store, key or _key())
    except ForgedAnchor as exc:
        return ChainCheck(False, rows, None, f"anchor forged ({file}: {exc})")
    problem = _anchor_problem(cur, anchor)
    return ChainCheck(False, rows, *problem) if problem else None


def verify(db) -> ChainCheck:
    """`verify_chain`; when the chain is intact, anchor its head."""
    with db.cursor() as cur:
        check = verify_chain(cur)
    key = _stored_key()
    if check.ok and key:
        _anchor_committed(db, key)
    return check


def reanchor(db) -> ChainCheck:
    """Anchor the current head although the anchor does not fit: for an administrator who has
    checked why (a backup restored, a store recreated at the same path). Only when every row
    verifies; returns that check."""
    key = _key()
    with db.transaction() as cur:
        check = _verify_rows(cur, key)
        store, head = _head(cur)
        if check.ok and store is not None:
            _anchor_at(cur, store, key, head)
    return check


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None  # exactly this action (an Event)
    object_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[str, list]:
        clauses: list[str] = []
        params: list[object] = []
        if self.actor:
            clauses.append("actor = ?")
            params.append(self.actor)
        if self.action:
            clauses.append("action = ?")
            params.append(str(self.action))
        if self.object_type:
            clauses.append("object_type = ?")
            params.append(self.object_type)
        if self.since:
            clauses.append("ts >= ?")
            params.append(self.since)
        if self.until:
            clauses.append("ts < ?")
            params.append(self.until)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_COLUMNS = "id, ts, actor, action, object_type, object_id, detail"


def count(cur: duckdb.DuckDBPyConnection, flt: AuditFilter = AuditFilter()) -> int:
    where, params = flt.where()
    return scalar(cur, f"SELECT count(*) FROM audit_log{where}", params)


def query(cur: duckdb.DuckDBPyConnection, flt: AuditFilter = AuditFilter(), limit: int = 50,
          offset: int = 0) -> tuple[pd.DataFrame, int]:
    """One page of audit rows, newest first, and the total count for the filter."""
    where, params = flt.where()
    total = count(cur, flt)
    page = cur.execute(
        f"SELECT {_COLUMNS} FROM audit_log{where} ORDER BY id DESC LIMIT ? OFFSET ?", params + [limit, offset]
    ).df()
    return page, total


def export_csv(cur: duckdb.DuckDBPyConnection, flt: AuditFilter = AuditFilter()) -> bytes:
    """All rows for the filter as CSV (UTF-8 with BOM, for Excel)."""
    where, params = flt.where()
    frame = cur.execute(f"SELECT {_COLUMNS} FROM audit_log{where} ORDER BY id", params).df()
    for column in ("actor", "action", "object_type", "object_id", "detail"):
        frame[column] = frame[column].map(neutralize_formula)
    return frame.to_csv(index=False).encode("utf-8-sig")


def distinct_values(cur: duckdb.DuckDBPyConnection, column: str) -> list[str]:
    if column not in {"actor", "action", "object_type"}:
        raise ValueError(column)
    rows = cur.execute(f"SELECT DISTINCT {column} FROM audit_log WHERE {column} IS NOT NULL ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def action_choices(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The actions to filter the log by: every declared event, in declaration order, then any
    undeclared action the log holds (rows written before it was declared, or behind the app's back)."""
    return [*Event, *undeclared_actions(cur)]


def undeclared_actions(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Actions in the log that are not declared events, with their row counts."""
    rows = cur.execute("SELECT action, count(*) FROM audit_log GROUP BY action ORDER BY action").fetchall()
    return {action: n for action, n in rows if not is_declared(action)}


def log(db, actor: str, action: Event, object_type: str | None = None, object_id: Any = None,
        detail: dict | None = None) -> int:
    """Append one event in its own transaction (for events with no other write, e.g. a reveal),
    then anchor it once committed."""
    with db.transaction() as cur:
        row_id = record(cur, actor, action, object_type, object_id, detail)
    _anchor_committed(db, _key())
    return row_id
