"""Steward overrides of golden-record fields: a value set by hand, with a reason, that beats every
survivorship rule and survives re-resolution until it is removed. When its OneID is merged into
another one, the override moves along (oneid_history: 'retire' with the absorbing OneID).
Setting, removing and moving an override are audited; the pipeline refreshes the golden record at once."""
from __future__ import annotations

import duckdb
import pandas as pd

from governance.access import audit
from governance.access.events import Event
from governance.standardize.normalizers import NORMALIZERS, REASONS, VALID
from governance.store.errors import GovernanceError
from governance.store.schema import FIELD_NAMES
from governance.store.storage import Database, scalar
from governance.store.util import utcnow


def _clean(field: str, value: str) -> str:
    """The standardized form of a hand-set value; invalid and placeholder values are refused."""
    if field not in FIELD_NAMES:
        raise GovernanceError(f"Unknown field {field!r}.")
    if not isinstance(value, str) or not value.strip():
        raise GovernanceError("The override value is empty.")
    result = NORMALIZERS[field](value)
    if result.status not in VALID or result.value is None:
        why = REASONS.get(result.reason or "", ("", result.reason or result.status))[1]
        raise GovernanceError(f"{value!r} is not a valid {field}: {why}.")
    return result.value


def set_override(db: Database, actor: str, oneid: str, field: str, value: str, reason: str) -> int:
    """Set `field` of the golden record of `oneid` to `value` (standardized first), replacing any
    active override of that field. Returns the override id."""
    if not reason or not reason.strip():
        raise GovernanceError("An override needs a reason.")
    clean = _clean(field, value)
    with db.transaction() as cur:
        if not cur.execute("SELECT 1 FROM crosswalk WHERE oneid = ? LIMIT 1", [oneid]).fetchone():
            raise GovernanceError(f"No OneID {oneid}.")
        override_id = scalar(cur, "SELECT nextval('golden_override_seq')")
        replaced = [r[0] for r in cur.execute(
            "SELECT override_id FROM golden_overrides WHERE oneid = ? AND field = ? AND removed_at IS NULL",
            [oneid, field]).fetchall()]
        now = utcnow()
        cur.execute("UPDATE golden_overrides SET removed_at = ?, removed_by = ?, removed_reason = ? "
                    "WHERE oneid = ? AND field = ? AND removed_at IS NULL",
                    [now, actor, f"replaced by override {override_id}", oneid, field])
        cur.execute("INSERT INTO golden_overrides VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                    [override_id, oneid, field, clean, reason.strip(), actor, now, oneid])
        audit.record(cur, actor, Event.GOLDEN_OVERRIDE_SET, "oneid", oneid,
                     {"override_id": override_id, "field": field, "reason": reason.strip(), "replaced": replaced})
    return override_id


def remove_override(db: Database, actor: str, override_id: int, reason: str) -> str:
    """End an override; the field goes back to its survivorship rule. Returns its OneID."""
    if not reason or not reason.strip():
        raise GovernanceError("Removing an override needs a reason.")
    with db.transaction() as cur:
        row = cur.execute("SELECT oneid, field FROM golden_overrides WHERE override_id = ? AND removed_at IS NULL",
                          [override_id]).fetchone()
        if not row:
            raise GovernanceError(f"No active override {override_id}.")
        cur.execute("UPDATE golden_overrides SET removed_at = ?, removed_by = ?, removed_reason = ? WHERE override_id = ?",
                    [utcnow(), actor, reason.strip(), override_id])
        audit.record(cur, actor, Event.GOLDEN_OVERRIDE_REMOVE, "oneid", row[0],
                     {"override_id": override_id, "field": row[1], "reason": reason.strip()})
    return row[0]


def active_overrides(cur: duckdb.DuckDBPyConnection, oneid: str | None = None) -> pd.DataFrame:
    """Active overrides (all, or of one OneID): id, oneid, field, value, reason, who and when."""
    where, params = ("AND oneid = ?", [oneid]) if oneid else ("", [])
    return cur.execute(
        "SELECT override_id, oneid, field, value, reason, created_by, created_at, set_on_oneid FROM golden_overrides "
        f"WHERE removed_at IS NULL {where} ORDER BY oneid, field, override_id", params).df()


def carry_to_merged(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Move active overrides of OneIDs that were merged away to the OneID that absorbed them (the
    chain of 'retire' events in oneid_history, latest first). Returns the OneIDs that received
    one. Called inside the golden refresh's transaction."""
    if not scalar(cur, "SELECT count(*) FROM golden_overrides o WHERE o.removed_at IS NULL "
                       "AND NOT EXISTS (SELECT 1 FROM crosswalk c WHERE c.oneid = o.oneid)"):
        return []  # every override's OneID is still there (the history is not read)
    moves = cur.execute("""
        WITH RECURSIVE absorbed AS (
            SELECT oneid, related AS into_oneid FROM oneid_history WHERE event = 'retire' AND related IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY oneid ORDER BY run_id DESC) = 1),
        chain(override_id, origin, here, depth) AS (
            SELECT o.override_id, o.oneid, o.oneid, 0 FROM golden_overrides o
            WHERE o.removed_at IS NULL AND NOT EXISTS (SELECT 1 FROM crosswalk c WHERE c.oneid = o.oneid)
            UNION ALL
            SELECT chain.override_id, chain.origin, a.into_oneid, depth + 1 FROM chain JOIN absorbed a ON a.oneid = chain.here
            WHERE depth < 50)
        SELECT override_id, origin, here FROM chain WHERE depth > 0 AND EXISTS (SELECT 1 FROM crosswalk c WHERE c.oneid = here)
        QUALIFY row_number() OVER (PARTITION BY override_id ORDER BY depth) = 1""").fetchall()
    for override_id, old, new in moves:
        cur.execute("UPDATE golden_overrides SET oneid = ? WHERE override_id = ?", [new, override_id])
        audit.record(cur, audit.SYSTEM_ACTOR, Event.GOLDEN_OVERRIDE_MOVE, "oneid", new,
                     {"override_id": override_id, "from": old, "reason": f"{old} merged into {new}"})
    return sorted({new for _, _, new in moves})
