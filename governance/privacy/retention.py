"""Retention (PIPL Art. 19, 47): a period per source or per purpose, an expiry scan, and erasure
after a steward confirms, with evidence in `retention_runs` (counts only).

- Source policy: a source record is past retention when its last activity — the record's
  `updated_at` when the source maps one, else its batch's upload time — is more than `days` ago.
  Applying erases those records through privacy.erasure, the mechanism of a deletion
  request, but keeps no tombstone (a later upload of the same person is welcome); the golden
  records of people who keep other records are rebuilt afterwards.
- Purpose policy: consent histories (consent_records) of that purpose
  whose current state is withdrawn or expired, and last changed more than `days` ago, are erased.

`retention_policies` is also read by the record of processing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import pandas as pd

from governance.access import audit
from governance.access.events import Event
from governance.privacy import consent, erasure
from governance.store.errors import GovernanceError
from governance.store.storage import Database, one, scalar
from governance.store.util import utcnow

SCOPES = ("source", "purpose")


MAX_DAYS = 36500  # a hundred years


def set_policy(db: Database, actor: str, scope: str, target: str, days: int, basis: str | None = None) -> None:
    """Create or change a retention period (days > 0). Audited."""
    if scope not in SCOPES:
        raise GovernanceError(f"A retention scope is one of {', '.join(SCOPES)}.")
    target = (target or "").strip()
    if not target:
        raise GovernanceError("Name the source or purpose the period applies to.")
    if not 0 < int(days) <= MAX_DAYS:
        raise GovernanceError(f"A retention period is a number of days from 1 to {MAX_DAYS:,}.")
    if scope == "purpose" and target not in consent.ALL_PURPOSES:
        raise GovernanceError(f"No consent purpose named {target!r}; the purposes are {', '.join(consent.ALL_PURPOSES)}.")
    with db.transaction() as cur:
        if scope == "source" and not cur.execute("SELECT 1 FROM sources WHERE source = ?", [target]).fetchone():
            raise GovernanceError(f"No source named {target!r}.")
        before = cur.execute("SELECT days FROM retention_policies WHERE scope = ? AND target = ?", [scope, target]).fetchone()
        cur.execute("INSERT OR REPLACE INTO retention_policies VALUES (?, ?, ?, ?, ?, ?)",
                    [scope, target, int(days), (basis or "").strip() or None, actor, utcnow()])
        audit.record(cur, actor, Event.RETENTION_SET, "retention_policy", f"{scope}:{target}",
                     {"days": int(days), "previous_days": before[0] if before else None})


def remove_policy(db: Database, actor: str, scope: str, target: str) -> None:
    with db.transaction() as cur:
        cur.execute("DELETE FROM retention_policies WHERE scope = ? AND target = ?", [scope, target])
        audit.record(cur, actor, Event.RETENTION_REMOVE, "retention_policy", f"{scope}:{target}")


def policies(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return cur.execute("SELECT scope, target, days, basis, updated_by, updated_at FROM retention_policies "
                       "ORDER BY scope, target").df()


def _policy(cur: duckdb.DuckDBPyConnection, scope: str, target: str) -> int:
    row = cur.execute("SELECT days FROM retention_policies WHERE scope = ? AND target = ?", [scope, target]).fetchone()
    if row is None:
        raise GovernanceError(f"No retention policy for {scope} {target!r}.")
    return row[0]


_LAST_ACTIVITY = "coalesce(TRY_CAST(s.updated_at AS TIMESTAMP), b.uploaded_at)"


def _expired_source_sql() -> str:
    return (f"SELECT s.batch_id, s.row_number, c.oneid, {_LAST_ACTIVITY} AS last_activity FROM std_records s "
            f"JOIN batches b USING (batch_id) LEFT JOIN crosswalk c USING (batch_id, row_number) "
            f"WHERE s.source = ? AND {_LAST_ACTIVITY} < ?")


@dataclass
class Scan:
    scope: str
    target: str
    days: int
    cutoff: datetime
    records: int
    oneids: int
    note: str | None = None

    def summary(self) -> dict:
        return {"scope": self.scope, "target": self.target, "days": self.days,
                "cutoff": self.cutoff.isoformat(timespec="seconds"), "records": self.records, "oneids": self.oneids,
                "note": self.note}


def scan(cur: duckdb.DuckDBPyConnection, scope: str, target: str, now: datetime | None = None) -> Scan:
    """How many records (source) or consent records (purpose) are past the policy's period."""
    days = _policy(cur, scope, target)
    cutoff = (now or utcnow()) - timedelta(days=days)
    if scope == "source":
        records, oneids = one(cur, f"SELECT count(*), count(DISTINCT oneid) FROM ({_expired_source_sql()})",
                                   [target, cutoff])
        return Scan(scope, target, days, cutoff, records, oneids)
    records, oneids = one(cur, f"SELECT count(*), count(DISTINCT oneid) FROM ({consent.ENDED_SQL})",
                               [target, cutoff])
    return Scan(scope, target, days, cutoff, records, oneids)


def scan_all(cur: duckdb.DuckDBPyConnection, now: datetime | None = None) -> list[Scan]:
    return [scan(cur, scope, target, now) for scope, target in
            cur.execute("SELECT scope, target FROM retention_policies ORDER BY scope, target").fetchall()]


def expired_records(cur: duckdb.DuckDBPyConnection, target: str, now: datetime | None = None,
                    limit: int = 50) -> pd.DataFrame:
    """A sample of the expired records of a source policy (ids and dates, no personal data)."""
    cutoff = (now or utcnow()) - timedelta(days=_policy(cur, "source", target))
    return cur.execute(f"SELECT batch_id, row_number, oneid, last_activity FROM ({_expired_source_sql()}) "
                       f"ORDER BY last_activity, batch_id, row_number LIMIT ?", [target, cutoff, limit]).df()


def apply(db: Database, actor: str, scope: str, target: str, confirm_records: int,
          now: datetime | None = None) -> tuple[int, list[str]]:
    """Erase what `scan` found, after the steward confirmed its count (`confirm_records`; a
    different count means the data changed since the scan, and nothing is erased). One
    transaction; evidence in retention_runs; audited. Returns the run id and the OneIDs of the
    people none of whose records stayed (erased as a whole)."""
    people: list[str] = []
    with db.transaction() as cur:
        found = scan(cur, scope, target, now)
        if found.records != confirm_records:
            raise GovernanceError(f"The scan now finds {found.records} records, not the {confirm_records} confirmed; "
                                  "scan again and confirm.")
        if scope == "source":
            rows = cur.execute(f"SELECT batch_id, row_number, oneid FROM ({_expired_source_sql()})",
                               [target, found.cutoff]).fetchall()
            stale = sorted({o for _, _, o in rows if o})
            deleted = erasure.erase(cur, [(b, r) for b, r, _ in rows], stale_oneids=stale)
            people = erasure.people_erased(cur)
        else:
            deleted = {}
            if found.records:
                n = consent.delete_ended(cur, target, found.cutoff)
                deleted = {"consent_records": n}
        run_id = scalar(cur, "SELECT nextval('retention_run_seq')")
        cur.execute("INSERT INTO retention_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, scope, target, found.days, found.cutoff, actor, utcnow(), found.records, found.oneids,
                     json.dumps(deleted)])
        audit.record(cur, actor, Event.RETENTION_APPLY, "retention_run", run_id,
                     found.summary() | {"deleted": deleted, "people_erased": len(people)})
    return run_id, people


def runs(cur: duckdb.DuckDBPyConnection, limit: int = 50) -> pd.DataFrame:
    return cur.execute("SELECT run_id, scope, target, days, cutoff, actor, ts, records, oneids, deleted "
                       "FROM retention_runs ORDER BY run_id DESC LIMIT ?", [limit]).df()


def run_summary(cur: duckdb.DuckDBPyConnection, run_id: int) -> dict:
    """One retention run as a small JSON-able summary (counts only), e.g. for the job that ran it."""
    row = cur.execute("SELECT scope, target, days, cutoff, records, oneids, deleted FROM retention_runs "
                      "WHERE run_id = ?", [run_id]).fetchone()
    if row is None:
        raise GovernanceError(f"No retention run {run_id}.")
    scope, target, days, cutoff, records, oneids, deleted = row
    return {"run_id": int(run_id), "scope": scope, "target": target, "days": days,
            "cutoff": cutoff.isoformat(timespec="seconds"), "records": records, "oneids": oneids,
            "deleted": json.loads(deleted) if deleted else {}}
