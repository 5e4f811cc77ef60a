"""Tombstones of erased people, and the suppression of their rows on later uploads.

A deletion (privacy.dsr) keeps one tombstone: keyed hashes (HMAC-SHA256 with the
`hmac_key` secret, never the values) of the person's standardized identifiers. Every
standardize run checks the rows it just standardized against the active tombstones (`apply`,
the engine's required keep-aside step); a
matching row is left out of `std_records` (so it is never resolved nor in a golden record)
and listed in `suppressed_records`, which the steward sees as counts. Lifting a tombstone
(audited, with a reason; the pipeline's `lift_tombstone`) re-standardizes the batches holding its
suppressed rows; `purge`
erases them instead, raw rows included.

Identifier kinds (one key each, hashed as "kind:value"): the resident ID, another ID number
(passport, SSN …), email, WeChat union_id, open_id within its app id, Douyin id, e-commerce buyer
id, membership card within its source, and the mobile. A mobile alone suppresses only a row
without a usable name; a row with a name needs the same mobile *and* a compatible name
(`mobile_name`, the pinyin key of the OneID rule), so a household member sharing the phone is not
suppressed.
"""
from __future__ import annotations

import duckdb
import pyarrow as pa

from governance.access import audit
from governance.access.events import Event
from governance.access.masking import pseudonym
from governance.oneid.links import _NAME_KEY
from governance.privacy import erasure
from governance.standardize import engine
from governance.standardize.engine import VALID_SQL
from governance.store.config import secret
from governance.store.errors import GovernanceError
from governance.store.storage import scalar
from governance.store.util import utcnow

_V = f"IN {VALID_SQL}"
KEY_SQL: dict[str, str] = {
    "id_card": f"CASE WHEN id_card_status {_V} THEN id_card END",
    "other_id": f"CASE WHEN other_id_status {_V} THEN other_id END",
    "email": f"CASE WHEN email_status {_V} THEN lower(email) END",
    "union_id": f"CASE WHEN wechat_union_id_status {_V} THEN wechat_union_id END",
    "open_id": f"CASE WHEN wechat_open_id_status {_V} THEN coalesce(wechat_app_id, '') || '|' || wechat_open_id END",
    "douyin_id": f"CASE WHEN douyin_id_status {_V} THEN douyin_id END",
    "buyer_id": f"CASE WHEN ecommerce_buyer_id_status {_V} THEN ecommerce_buyer_id END",
    "member_card": f"CASE WHEN member_card_status {_V} THEN source || '|' || member_card END",
    "mobile": f"CASE WHEN mobile_status {_V} THEN mobile END",
    "mobile_name": f"CASE WHEN mobile_status {_V} THEN mobile || '|' || name_key END",
}
KINDS = tuple(KEY_SQL)


def hmac_key() -> str:
    return secret("hmac_key")


_KEY_CHECK_LABEL = "steward:hmac-key-check"


def check_key(cur: duckdb.DuckDBPyConnection, key: str) -> None:
    """Tombstones match only under the key they were made with. A lost or replaced secrets file
    would let erased people back in without a sound, so a different key is refused. The key's
    check value (a keyed hash of a fixed label) is recorded the first time it is used."""
    check = pseudonym(_KEY_CHECK_LABEL, key)[:16]
    row = cur.execute("SELECT check_value FROM secret_checks WHERE name = 'hmac_key'").fetchone()
    if row is None:
        cur.execute("INSERT INTO secret_checks VALUES ('hmac_key', ?, ?)", [check, utcnow()])
    elif row[0] != check:
        raise GovernanceError(
            "The HMAC key (hmac_key in secrets.toml, or STEWARD_HMAC_KEY) is not the one this store's tombstones of "
            "erased people were made with, so they would no longer match. Restore the original key; nothing was changed.")


def _keys_sql(where: str, for_tombstone: bool) -> str:
    """(batch_id, row_number, kind, value) for std_records rows matching `where` (SQL). For a
    tombstone a row gives both its mobile and mobile+name keys; a candidate row gives the mobile
    key only when it has no name, else the mobile+name key."""
    parts = []
    for kind, expr in KEY_SQL.items():
        cond = ""
        if not for_tombstone and kind == "mobile":
            cond = " AND name_key IS NULL"
        parts.append(f"SELECT batch_id, row_number, '{kind}' AS kind, {expr} AS value FROM s WHERE {expr} IS NOT NULL{cond}")
    return (f"WITH s AS (SELECT *, {_NAME_KEY} AS name_key FROM std_records WHERE {where}) "
            + " UNION ALL ".join(parts))


def _hashed(cur: duckdb.DuckDBPyConnection, keys_sql: str, key: str) -> pa.Table:
    """The distinct (kind, value) pairs of `keys_sql` with their keyed hash."""
    pairs = cur.execute(f"SELECT DISTINCT kind, value FROM ({keys_sql})").fetchall()
    return pa.table({"kind": pa.array([k for k, _ in pairs], pa.string()),
                     "value": pa.array([v for _, v in pairs], pa.string()),
                     "key_hash": pa.array([pseudonym(f"{k}:{v}", key) for k, v in pairs], pa.string())})


def tombstone_hashes(cur: duckdb.DuckDBPyConnection, where: str, key: str) -> list[tuple[str, str]]:
    """(kind, key hash) of every identifier of the std_records rows matching `where`."""
    check_key(cur, key)
    hashed = _hashed(cur, _keys_sql(where, for_tombstone=True), key)
    return sorted(set(zip(hashed.column("kind").to_pylist(), hashed.column("key_hash").to_pylist())))


def add_tombstone(cur: duckdb.DuckDBPyConnection, actor: str, request_id: int | None,
                  hashes: list[tuple[str, str]]) -> int:
    """Store a tombstone (inside the caller's transaction); returns its id."""
    tombstone_id = scalar(cur, "SELECT nextval('tombstone_seq')")
    cur.execute("INSERT INTO dsr_tombstones VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL)",
                [tombstone_id, request_id, len(hashes), actor, utcnow()])
    if hashes:
        cur.executemany("INSERT INTO dsr_tombstone_keys VALUES (?, ?, ?)", [[tombstone_id, k, h] for k, h in hashes])
    return tombstone_id


def matching_rows(cur: duckdb.DuckDBPyConnection, where: str, key: str,
                  tombstone_filter: str = "t.lifted_at IS NULL") -> list[tuple[int, int, int, str]]:
    """(batch_id, row_number, tombstone id, matched kinds) of std_records rows matching `where`
    whose identifiers hit a tombstone."""
    check_key(cur, key)
    candidates = _keys_sql(where, for_tombstone=False)
    hashed = _hashed(cur, candidates, key)  # noqa: F841 (read by DuckDB below)
    return cur.execute(
        f"SELECT c.batch_id, c.row_number, min(k.tombstone_id), string_agg(DISTINCT c.kind, ',' ORDER BY c.kind) "
        f"FROM ({candidates}) c JOIN hashed h USING (kind, value) JOIN dsr_tombstone_keys k ON k.key_hash = h.key_hash "
        f"AND k.kind = c.kind JOIN dsr_tombstones t USING (tombstone_id) WHERE {tombstone_filter} GROUP BY ALL "
        f"ORDER BY 1, 2").fetchall()


def active(cur: duckdb.DuckDBPyConnection) -> bool:
    return cur.execute("SELECT 1 FROM dsr_tombstones WHERE lifted_at IS NULL LIMIT 1").fetchone() is not None


def apply(cur: duckdb.DuckDBPyConnection, batch_ids: list[int]) -> int:
    """Called by the pipeline right after standardize, in its transaction: move the batches' rows
    that match an active tombstone out of std_records. Returns how many."""
    ids = ", ".join(str(int(b)) for b in batch_ids)
    if not ids:
        return 0
    cur.execute(f"DELETE FROM suppressed_records WHERE batch_id IN ({ids}) AND lifted_at IS NULL")
    if not active(cur):
        return 0
    rows = matching_rows(cur, f"batch_id IN ({ids})", hmac_key())
    if not rows:
        return 0
    now = utcnow()
    found = pa.table({"batch_id": pa.array([r[0] for r in rows], pa.int64()),  # noqa: F841 (read by DuckDB)
                      "row_number": pa.array([r[1] for r in rows], pa.int64()),
                      "tombstone_id": pa.array([r[2] for r in rows], pa.int64()),
                      "kinds": pa.array([r[3] for r in rows], pa.string())})
    cur.execute("INSERT INTO suppressed_records SELECT batch_id, row_number, tombstone_id, kinds, ?, NULL FROM found",
                [now])
    cur.execute("CREATE OR REPLACE TEMP TABLE _suppressed AS SELECT batch_id, row_number FROM found")
    engine.drop_records(cur, "_suppressed")
    cur.execute("DROP TABLE _suppressed")
    return len(rows)


def tombstones(cur: duckdb.DuckDBPyConnection):
    """Every tombstone with its key count and suppressed rows (no identifiers, only counts)."""
    return cur.execute(
        "SELECT t.tombstone_id, t.request_id, t.keys, t.created_by, t.created_at, t.lifted_by, t.lifted_at, "
        "t.lift_reason, count(s.row_number) FILTER (WHERE s.lifted_at IS NULL) AS suppressed_rows, "
        "count(DISTINCT s.batch_id) FILTER (WHERE s.lifted_at IS NULL) AS batches "
        "FROM dsr_tombstones t LEFT JOIN suppressed_records s USING (tombstone_id) GROUP BY ALL "
        "ORDER BY t.tombstone_id DESC").df()


def suppressed_by_batch(cur: duckdb.DuckDBPyConnection):
    return cur.execute("SELECT b.source, s.batch_id, b.file_name, count(*) AS suppressed_rows FROM suppressed_records s "
                       "JOIN batches b USING (batch_id) WHERE s.lifted_at IS NULL GROUP BY ALL ORDER BY s.batch_id").df()


def lift(db, actor: str, tombstone_id: int, reason: str) -> tuple[int, list[int]]:
    """Lift a tombstone (the person is back, e.g. a new relationship with fresh consent): its
    suppressed rows are released, to be standardized again (the pipeline's `lift_tombstone`) and
    join the next resolve. Audited. Returns the rows released and the batches holding them."""
    reason = (reason or "").strip()
    if not reason:
        raise GovernanceError("Lifting a suppression needs a reason.")
    with db.transaction() as cur:
        row = cur.execute("SELECT lifted_at FROM dsr_tombstones WHERE tombstone_id = ?", [tombstone_id]).fetchone()
        if row is None:
            raise GovernanceError(f"No tombstone {tombstone_id}.")
        if row[0] is not None:
            raise GovernanceError(f"Tombstone {tombstone_id} is already lifted.")
        now = utcnow()
        batches = [r[0] for r in cur.execute("SELECT DISTINCT batch_id FROM suppressed_records WHERE tombstone_id = ? "
                                             "AND lifted_at IS NULL ORDER BY 1", [tombstone_id]).fetchall()]
        released = scalar(cur, "UPDATE suppressed_records SET lifted_at = ? WHERE tombstone_id = ? AND lifted_at IS NULL",
                               [now, tombstone_id])
        cur.execute("UPDATE dsr_tombstones SET lifted_by = ?, lifted_at = ?, lift_reason = ? WHERE tombstone_id = ?",
                    [actor, now, reason, tombstone_id])
        audit.record(cur, actor, Event.DSR_SUPPRESSION_LIFT, "tombstone", tombstone_id,
                     {"released_rows": released, "batches": batches})
    return released, batches


def purge(db, actor: str, tombstone_id: int) -> dict[str, int]:
    """Erase the rows a tombstone suppressed (raw rows included) instead of keeping them aside:
    the brand holds nothing of the erased person from later uploads either. Audited (counts)."""
    with db.transaction() as cur:
        if cur.execute("SELECT 1 FROM dsr_tombstones WHERE tombstone_id = ?", [tombstone_id]).fetchone() is None:
            raise GovernanceError(f"No tombstone {tombstone_id}.")
        rows = cur.execute("SELECT batch_id, row_number FROM suppressed_records WHERE tombstone_id = ? "
                           "AND lifted_at IS NULL", [tombstone_id]).fetchall()
        deleted = erasure.erase(cur, rows) if rows else {}
        audit.record(cur, actor, Event.DSR_SUPPRESSION_PURGE, "tombstone", tombstone_id,
                     {"rows": len(rows), "deleted": deleted})
    return deleted
