"""The governance scorecard: the measures that justify the work, kept after every refresh.

Measures (`measures`, computed now in SQL over the store):
- records: crosswalk rows (standardized source records placed in a OneID);
- oneids: distinct OneIDs in the crosswalk;
- duplicate_rate: (records − oneids) / records, the share of records that are duplicates;
- identification_rate: the share of records whose OneID spans two or more channels (the channels of
  the batches its records came from);
- quality_score: the workspace score of the latest profile run (0–100);
- tag_coverage: the mean over computed tags (library.computed) that have been computed at least once
  (a tag_runs row) of the share of current OneIDs with a value in tag_values; None without such tags;
- consent_coverage: the share of current OneIDs with a current marketing consent state recorded
  (consent_current, purpose 'marketing', any state: granted, withdrawn or expired). A OneID with no
  marketing record at all is not covered.
Rates are fractions 0–1, None when there is nothing to divide by.

This module alone writes `scorecard_history`: `record(cur, trigger)` appends the measures after a
refresh (the pipeline calls it); `history`, `as_json` and the downloads read it.
"""
from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from governance.i18n import DEFAULT_LANG, value_label
from governance.privacy import consent
from governance.quality import profile
from governance.standardize.labels import Labeller
from governance.store import tabular
from governance.store.storage import one
from governance.store.util import utcnow
from governance.tags import library

RATES = ("duplicate_rate", "identification_rate", "tag_coverage", "consent_coverage")
MEASURES = ("records", "oneids", "duplicate_rate", "identification_rate", "quality_score", "tag_coverage",
            "consent_coverage")
COLUMNS = ("recorded_at", "trigger", *MEASURES)
CURRENT = "current"  # the trigger of the downloads' last row: the measures now, not yet recorded

_IDENTITY_SQL = """
WITH per AS (SELECT c.oneid, count(*) AS n, count(DISTINCT b.channel) AS channels
             FROM crosswalk c LEFT JOIN batches b ON b.batch_id = c.batch_id GROUP BY c.oneid)
SELECT coalesce(sum(n), 0), count(*), coalesce(sum(n) FILTER (WHERE channels >= 2), 0) FROM per
"""


def _ratio(part: float | None, whole: float | None) -> float | None:
    return None if not whole or part is None else float(part) / float(whole)


def tag_coverage(cur: duckdb.DuckDBPyConnection) -> float | None:
    """Mean coverage (share of OneIDs with a value) of the computed tags at their latest computation."""
    codes = [t.code for t in library.computed(cur)]
    if not codes:
        return None
    value = one(cur, "SELECT avg(with_value / nullif(oneids, 0)) FROM (SELECT * FROM tag_runs WHERE "
                     "list_contains(?::VARCHAR[], tag_code) QUALIFY row_number() OVER (PARTITION BY tag_code "
                     "ORDER BY run_id DESC) = 1)", [codes])
    return None if value is None or value[0] is None else float(value[0])


def consent_coverage(cur: duckdb.DuckDBPyConnection) -> float | None:
    """Share of current OneIDs with a current marketing consent state (granted, withdrawn or expired)."""
    row = one(cur, f"""
        WITH ids AS (SELECT DISTINCT oneid FROM crosswalk)
        SELECT count(*), count(*) FILTER (WHERE oneid IN
            (SELECT oneid FROM {consent.CURRENT_VIEW} WHERE purpose = 'marketing')) FROM ids""")
    return _ratio(row[1], row[0])


def measures(cur: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The scorecard now: records, oneids and the rates described in the module docstring."""
    records, oneids, identified = (int(v) for v in one(cur, _IDENTITY_SQL))
    run = profile.latest_run(cur)
    score = run["score"] if run else None
    return {"records": records, "oneids": oneids,
            "duplicate_rate": _ratio(records - oneids, records),
            "identification_rate": _ratio(identified, records),
            "quality_score": None if score is None else float(score),
            "tag_coverage": tag_coverage(cur),
            "consent_coverage": consent_coverage(cur)}


def record(cur: duckdb.DuckDBPyConnection, trigger: str) -> dict[str, Any]:
    """Append the measures now to scorecard_history, with what triggered it (a refresh, a batch …);
    returns the row written. Runs inside the caller's transaction."""
    row = {"recorded_at": utcnow(), "trigger": str(trigger), **measures(cur)}
    cur.execute(f"INSERT INTO scorecard_history ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})",
                [row[c] for c in COLUMNS])
    return row


def latest(cur: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The scorecard recorded after the latest refresh (None before the first)."""
    row = cur.execute(f"SELECT {', '.join(COLUMNS)} FROM scorecard_history ORDER BY recorded_at DESC, rowid DESC "
                      "LIMIT 1").fetchone()
    return dict(zip(COLUMNS, row)) if row else None


def history(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every recorded scorecard, oldest refresh first (columns: COLUMNS)."""
    return cur.execute(f"SELECT {', '.join(COLUMNS)} FROM scorecard_history ORDER BY recorded_at, rowid").df()


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ", timespec="seconds") if hasattr(value, "hour") else value.isoformat()
    return value.item() if hasattr(value, "item") else value


def as_json(cur: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The current measures at the top level, `refreshes` (each recorded row), and `history`: per
    measure, its value at each refresh in order ({recorded_at, trigger, value})."""
    now = measures(cur)
    rows = [{c: _plain(v) for c, v in rec.items()} for rec in history(cur).to_dict("records")]
    return {**now, "refreshes": rows,
            "history": {m: [{"recorded_at": r["recorded_at"], "trigger": r["trigger"], "value": r[m]} for r in rows]
                        for m in MEASURES}}


def report_frame(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The history and, last, the measures now (trigger 'current'), rates in percent (0–100, two
    decimals) like the quality score, for people to read."""
    frame = history(cur)
    now = pd.DataFrame([{"recorded_at": utcnow(), "trigger": CURRENT, **measures(cur)}], columns=list(COLUMNS))
    frame = now if frame.empty else pd.concat([frame, now], ignore_index=True)
    for column in RATES:
        frame[column] = (pd.to_numeric(frame[column], errors="coerce") * 100).round(2)
    frame["quality_score"] = pd.to_numeric(frame["quality_score"], errors="coerce").round(2)
    frame["recorded_at"] = pd.to_datetime(frame["recorded_at"]).dt.floor("s")
    return frame


def _labelled(cur: duckdb.DuckDBPyConnection, lang: str) -> tuple[Labeller, pd.DataFrame, pd.DataFrame]:
    labeller = Labeller(lang)
    frame = report_frame(cur)
    shown = labeller.frame(frame.assign(trigger=frame["trigger"].map(lambda v: value_label("trigger", v, lang))))
    return labeller, frame, shown


def to_csv(cur: duckdb.DuckDBPyConnection, lang: str = DEFAULT_LANG) -> bytes:
    """The scorecard (history, then now) as CSV with headers in `lang`."""
    return tabular.to_csv_bytes(_labelled(cur, lang)[2])


def to_xlsx(cur: duckdb.DuckDBPyConnection, lang: str = DEFAULT_LANG) -> bytes:
    """The scorecard as XLSX in `lang`, with a second sheet explaining the columns."""
    labeller, frame, shown = _labelled(cur, lang)
    return tabular.to_xlsx_workbook({labeller.t("files.data"): shown,
                                     labeller.sheet_name: labeller.columns_sheet(frame.columns)})
