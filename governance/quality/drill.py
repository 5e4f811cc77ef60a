"""Drilling into failing records: the records of one field that did not standardize cleanly,
optionally of one reason and one source; a page of them, masked for a role, or all of them as a
CSV or XLSX file. A download of revealed values is audited with the reason given for the reveal."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from governance.access import audit, masking
from governance.access.events import Event
from governance.i18n import DEFAULT_LANG
from governance.standardize import engine
from governance.standardize.labels import Labeller
from governance.standardize.normalizers import REASONS
from governance.store import tabular
from governance.store.storage import Database

KEEP = frozenset({"source", "batch_id", "row_number", "status", "reason"})  # never personal data


def reason_names(lang: str) -> dict[str, str]:
    """Reason code -> its description in `lang` ("zh" or "en")."""
    return {code: (zh if lang == "zh" else en) for code, (zh, en) in REASONS.items()}


@dataclass(frozen=True)
class Drill:
    """Which failing records: a field, and optionally a reason code and a source."""
    field: str
    reason: str | None = None
    source: str | None = None

    def detail(self) -> dict:
        """How an audit event names this selection."""
        return {"field": self.field, "reason": self.reason, "source": self.source}


def count(cur: duckdb.DuckDBPyConnection, drill: Drill) -> int:
    return engine.count_failing(cur, drill.field, reason=drill.reason, source=drill.source)


def records(cur: duckdb.DuckDBPyConnection, drill: Drill, limit: int | None = 50, offset: int = 0) -> pd.DataFrame:
    """One page of the failing records (limit=None: all of them), unmasked."""
    return engine.failing_records(cur, drill.field, reason=drill.reason, source=drill.source, limit=limit, offset=offset)


def mask(frame: pd.DataFrame, drill: Drill, role: str | None = None, policy: masking.Policy | None = None) -> pd.DataFrame:
    """Failing records with their raw and standardized values masked as values of the drill's field."""
    return masking.mask_frame(frame, {"raw_value": drill.field, "standardized_value": drill.field}, keep=KEEP,
                              role=role, policy=policy)


def download(db: Database, actor: str, drill: Drill, kind: str, *, role: str | None = None,
             policy: masking.Policy | None = None, revealed: str | None = None, lang: str | None = None) -> bytes:
    """Every failing record of `drill` as a CSV or XLSX file (`kind`): masked for `role`, or, when
    `revealed` holds the reason of a reveal, unmasked and audited as a reveal with that reason. With
    `lang`, headers, statuses and reasons read as labels in that language (after the masks), and an
    XLSX file gets a second sheet explaining the columns; without it they stay codes."""
    with db.cursor() as cur:
        frame = records(cur, drill, limit=None)
    if revealed:
        audit.log(db, actor, Event.PII_REVEAL, "failing_records", drill.field,
                  {**drill.detail(), "download": kind, "rows": len(frame), "reason": revealed})
    else:
        frame = mask(frame, drill, role, policy)
    labeller = Labeller(lang or DEFAULT_LANG)
    shown = labeller.frame(frame) if lang else frame
    if kind == "csv":
        return tabular.to_csv_bytes(shown)
    return tabular.to_xlsx_workbook({labeller.t("files.data") if lang else "data": shown,
                                     labeller.sheet_name: labeller.columns_sheet(frame.columns)})
