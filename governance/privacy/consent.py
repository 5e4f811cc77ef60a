"""The consent ledger (PIPL Art. 13–15, 28–31): append-only consent records per person and purpose.

A record is a fact ("on <recorded_at>, <oneid> granted / withdrew consent for <purpose>, by <method>,
under notice <notice_version>, evidence <evidence_ref>"). Nothing is updated in place: the current
state of a (person, purpose) is the latest record (`recorded_at`, then `id`), and a grant past its
`expires_at` reads as expired. The view `consent_current` gives that state; exports read it at export
time, so a withdrawal takes effect at once.

A record imported from a source row follows that row to its current OneID through the crosswalk
(merges and splits included); a manual record is anchored to one source row of the person when it is
entered, and falls back to its stored OneID when the person has no rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from governance.access import audit, masking
from governance.access.events import Event
from governance.standardize.engine import VALID_SQL
from governance.store.errors import GovernanceError
from governance.store.storage import Database, one, scalar
from governance.store.util import utcnow

# Consent-bound purposes of processing, then the separate consents: sensitive personal information
# (PIPL Art. 29; the purpose of each sensitive standard field: one for ID numbers, resident or other)
# and a guardian's consent for a minor under 14 (Art. 31).
THIRD_PARTY = "third_party_sharing"  # providing data to another handler (PIPL Art. 23)
PURPOSES = ("marketing", "analytics", THIRD_PARTY)
SENSITIVE_CONSENT = {"id_card": "sensitive_id_card", "other_id": "sensitive_id_card"}
GUARDIAN = "guardian"
# The separate consent (Art. 29) a person gives before the values of their `sensitive` tags are served
# (by the read API; exports never include sensitive tags).
SENSITIVE_TAGS = "sensitive_tags"
ALL_PURPOSES = PURPOSES + tuple(dict.fromkeys(SENSITIVE_CONSENT.values())) + (SENSITIVE_TAGS, GUARDIAN)
STATES = ("granted", "withdrawn", "expired")
_STATE_EVENTS = {"granted": Event.CONSENT_GRANT, "withdrawn": Event.CONSENT_WITHDRAWN, "expired": Event.CONSENT_EXPIRED}
METHODS = ("source_import", "written", "electronic", "verbal", "other")

CURRENT_VIEW = "consent_current"
# a record's state now, as consent_current gives it
_STATE_NOW = ("CASE WHEN state = 'granted' AND expires_at IS NOT NULL AND expires_at <= now()::TIMESTAMP THEN 'expired' "
              "ELSE state END AS state")


def consent_status_sql() -> str:
    """SQL of the current state per (oneid, purpose): the latest record wins; a grant past its
    expiry reads 'expired'. Columns: oneid, purpose, state, recorded_at, channel, method,
    notice_version, evidence_ref, actor, expires_at, record_id."""
    return (
        "SELECT oneid, purpose, CASE WHEN state = 'granted' AND expires_at IS NOT NULL "
        "AND expires_at <= now()::TIMESTAMP THEN 'expired' ELSE state END AS state, recorded_at, channel, method, "
        "notice_version, evidence_ref, actor, expires_at, id AS record_id FROM ("
        "SELECT coalesce(c.oneid, r.oneid) AS oneid, r.purpose, r.state, r.recorded_at, r.channel, r.method, "
        "r.notice_version, r.evidence_ref, r.actor, r.expires_at, r.id FROM consent_records r "
        "LEFT JOIN crosswalk c ON c.batch_id = r.batch_id AND c.row_number = r.row_number) WHERE oneid IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY oneid, purpose ORDER BY recorded_at DESC, id DESC) = 1"
    )


# Consent histories (oneid, purpose) whose latest record is withdrawn or expired, or past its
# expiry, and last changed before a cutoff; parameters: purpose, cutoff.
ENDED_SQL = ("SELECT r.id, r.oneid FROM consent_records r JOIN (SELECT oneid, purpose, "
             "arg_max(state, (recorded_at, id)) AS state, arg_max(expires_at, (recorded_at, id)) AS expires_at, "
             "max(recorded_at) AS last FROM consent_records WHERE purpose = ? GROUP BY ALL) h USING (oneid, purpose) "
             "WHERE (h.state IN ('withdrawn', 'expired') OR h.expires_at < now()::TIMESTAMP) AND h.last < ?")


def delete_ended(cur: duckdb.DuckDBPyConnection, purpose: str, cutoff) -> int:
    """Erase the ended consent histories of a purpose (retention, inside its transaction)."""
    return scalar(cur, f"DELETE FROM consent_records WHERE id IN (SELECT id FROM ({ENDED_SQL}))",
                       [purpose, cutoff])


def _check(purpose: str, state: str | None = None, method: str | None = None) -> None:
    if purpose not in ALL_PURPOSES:
        raise GovernanceError(f"Unknown consent purpose {purpose!r}; choose one of {', '.join(ALL_PURPOSES)}.")
    if state is not None and state not in STATES:
        raise GovernanceError(f"Unknown consent state {state!r}.")
    if method is not None and method not in METHODS:
        raise GovernanceError(f"Unknown consent method {method!r}; choose one of {', '.join(METHODS)}.")


@dataclass(frozen=True)
class ImportResult:
    records: int
    granted: int
    withdrawn: int


def import_from_sources(db: Database, actor: str) -> ImportResult:
    """Record the standardized `marketing_consent` flag of every source row not imported before:
    'true' -> granted, 'false' -> withdrawn, as of the row's last update (else its batch's upload).
    A row is imported once, so a re-import never overrides a later withdrawal. The pipeline runs
    it after every standardize that wrote rows; an import that finds nothing new is not audited."""
    with db.transaction() as cur:
        last_id = scalar(cur, "SELECT coalesce(max(id), 0) FROM consent_records")
        cur.execute(
            "INSERT INTO consent_records SELECT nextval('consent_seq'), c.oneid, s.batch_id, s.row_number, 'marketing', "
            "CASE s.marketing_consent WHEN 'true' THEN 'granted' ELSE 'withdrawn' END, b.channel, "
            "coalesce(TRY_CAST(s.updated_at AS TIMESTAMP), b.uploaded_at), 'source_import', NULL, "
            "'batch ' || s.batch_id || ' row ' || s.row_number, ?, NULL, ? "
            "FROM std_records s JOIN batches b USING (batch_id) "
            "LEFT JOIN crosswalk c ON c.batch_id = s.batch_id AND c.row_number = s.row_number "
            f"WHERE s.marketing_consent IN ('true', 'false') AND s.marketing_consent_status IN {VALID_SQL} "
            "AND NOT EXISTS (SELECT 1 FROM consent_records r WHERE r.method = 'source_import' AND r.purpose = 'marketing' "
            "AND r.batch_id = s.batch_id AND r.row_number = s.row_number) "
            "ORDER BY s.batch_id, s.row_number", [actor, utcnow()])
        granted, withdrawn = one(cur,
            "SELECT count(*) FILTER (WHERE state = 'granted'), count(*) FILTER (WHERE state = 'withdrawn') "
            "FROM consent_records WHERE id > ?", [last_id])
        result = ImportResult(granted + withdrawn, granted, withdrawn)
        if result.records:
            audit.record(cur, actor, Event.CONSENT_IMPORT, "consent", "marketing", vars(result))
    return result


def _anchor(cur: duckdb.DuckDBPyConnection, oneid: str) -> tuple[int | None, int | None]:
    row = cur.execute("SELECT batch_id, row_number FROM crosswalk WHERE oneid = ? ORDER BY rec_id LIMIT 1",
                      [oneid]).fetchone()
    return (row[0], row[1]) if row else (None, None)


def record(db: Database, actor: str, oneid: str, purpose: str, state: str, *, method: str = "other",
           channel: str | None = None, notice_version: str | None = None, evidence_ref: str | None = None,
           expires_at: datetime | None = None, recorded_at: datetime | None = None) -> int:
    """Append one consent record for a person (manual entry); audited. Returns the record id."""
    _check(purpose, state, method)
    oneid = (oneid or "").strip()
    if not oneid:
        raise GovernanceError("A consent record needs a OneID.")
    now = utcnow()
    with db.transaction() as cur:
        known = cur.execute("SELECT 1 FROM crosswalk WHERE oneid = ? LIMIT 1", [oneid]).fetchone() or \
            cur.execute("SELECT 1 FROM consent_records WHERE oneid = ? LIMIT 1", [oneid]).fetchone()
        if not known:
            raise GovernanceError(f"No person with OneID {oneid}.")
        batch_id, row_number = _anchor(cur, oneid)
        record_id = scalar(cur, "SELECT nextval('consent_seq')")
        cur.execute("INSERT INTO consent_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [record_id, oneid, batch_id, row_number, purpose, state, channel, recorded_at or now, method,
                     notice_version, evidence_ref, actor, expires_at, now])
        audit.record(cur, actor, _STATE_EVENTS[state], "consent", oneid,
                     {"purpose": purpose, "record_id": record_id, "method": method, "notice_version": notice_version,
                      "expires_at": expires_at})
    return record_id


def grant(db: Database, actor: str, oneid: str, purpose: str, **details) -> int:
    return record(db, actor, oneid, purpose, "granted", **details)


def withdraw(db: Database, actor: str, oneid: str, purpose: str, **details) -> int:
    """Withdrawal takes effect at once: every later export reads the ledger."""
    return record(db, actor, oneid, purpose, "withdrawn", **details)


def current(cur: duckdb.DuckDBPyConnection, oneid: str) -> dict[str, str]:
    """{purpose: state} for one person (purposes never recorded are absent): what consent_current says,
    read from this person's records only (the view resolves everyone's). A record belongs to the OneID
    its row is placed under, and to its own OneID only when its row is in no OneID."""
    rows = {tuple(r) for r in cur.execute("SELECT batch_id, row_number FROM crosswalk WHERE oneid = ?",
                                          [oneid]).fetchall()}
    select = f"SELECT purpose, {_STATE_NOW}, recorded_at, id, batch_id, row_number FROM consent_records "
    records = cur.execute(select + "WHERE (batch_id, row_number) IN (SELECT batch_id, row_number FROM crosswalk "
                          "WHERE oneid = ?)", [oneid]).fetchall()
    for record in cur.execute(select + "WHERE oneid = ?", [oneid]).fetchall():
        placed = record[4:] in rows or (record[4] is not None and cur.execute(
            "SELECT 1 FROM crosswalk WHERE batch_id = ? AND row_number = ?", list(record[4:])).fetchone())
        if not placed:
            records.append(record)
    latest: dict[str, tuple] = {}
    for record in records:
        if record[0] not in latest or record[2:4] > latest[record[0]][2:4]:
            latest[record[0]] = record
    return {purpose: record[1] for purpose, record in latest.items()}


def summary(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """People per purpose and current state."""
    return cur.execute(f"SELECT purpose, state, count(*) AS people FROM {CURRENT_VIEW} GROUP BY ALL "
                       "ORDER BY purpose, state").df()


def summary_by_state(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """People per purpose (rows) and current state (columns); empty when the ledger is."""
    frame = summary(cur)
    if frame.empty:
        return frame
    return frame.pivot_table(index="purpose", columns="state", values="people", fill_value=0).reset_index()


@dataclass(frozen=True)
class LedgerFilter:
    oneid: str | None = None
    purpose: str | None = None
    state: str | None = None

    def where(self) -> tuple[str, list]:
        clauses, params = [], []
        for column, value in (("oneid", self.oneid), ("purpose", self.purpose), ("state", self.state)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def count_current(cur: duckdb.DuckDBPyConnection, flt: LedgerFilter = LedgerFilter()) -> int:
    where, params = flt.where()
    return scalar(cur, f"SELECT count(*) FROM {CURRENT_VIEW}{where}", params)


def current_page(cur: duckdb.DuckDBPyConnection, flt: LedgerFilter = LedgerFilter(), limit: int = 50,
                 offset: int = 0) -> pd.DataFrame:
    """One page of current states, paged in SQL."""
    where, params = flt.where()
    return cur.execute(f"SELECT oneid, purpose, state, recorded_at, channel, method, notice_version, evidence_ref, "
                       f"actor, expires_at FROM {CURRENT_VIEW}{where} ORDER BY oneid, purpose LIMIT ? OFFSET ?",
                       params + [limit, offset]).df()


def history(cur: duckdb.DuckDBPyConnection, oneid: str) -> pd.DataFrame:
    """Every consent record that belongs to a person today, newest first."""
    return cur.execute(
        "SELECT r.id, r.purpose, r.state, r.recorded_at, r.channel, r.method, r.notice_version, r.evidence_ref, "
        "r.actor, r.expires_at FROM consent_records r LEFT JOIN crosswalk c ON c.batch_id = r.batch_id "
        "AND c.row_number = r.row_number WHERE coalesce(c.oneid, r.oneid) = ? ORDER BY r.recorded_at DESC, r.id DESC",
        [oneid]).df()


def mask_evidence(frame: pd.DataFrame, role: str | None = None, policy: masking.Policy | None = None) -> pd.DataFrame:
    """Ledger rows with the evidence references masked for `role` (a reference may name a person)."""
    if frame.empty:
        return frame
    return masking.mask_frame(frame, {"evidence_ref": None}, keep=set(frame.columns) - {"evidence_ref"},
                              role=role, policy=policy)
