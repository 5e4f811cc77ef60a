"""The record of processing activities (GB/T 35273 §11.3), generated from the store's metadata,
and a personal-information impact-assessment (PIPIA, PIPL Art. 55–56) stub pre-filled from it.

Volumes are counted in SQL over `std_records` (values that are neither missing nor a placeholder).
Purposes, recipients and retention come from `consent_records`, `export_manifests` and
`retention_policies` when those tables exist; their absence is reported, never an error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pandas as pd

from governance import exporting, masking, mapping
from governance.schema import BY_NAME, pii_fields
from governance.storage import quote_ident
from governance.util import utcnow

NOT_SET = "not set"
PRESENT = "present"
# Candidate column names in the tables other modules own, first match wins.
PURPOSE_COLUMNS = ("purpose", "purpose_code")
STATE_COLUMNS = ("state", "status")
RECIPIENT_COLUMNS = ("recipient", "destination", "target")
ROWS_COLUMNS = ("row_count", "rows", "records")
TIME_COLUMNS = ("created_at", "exported_at", "ts", "generated_at")
SCOPE_COLUMNS = ("source", "scope_value", "scope", "target")
PERIOD_COLUMNS = ("retention_days", "days", "period_days", "retention_period", "period")
SENSITIVE_NOTES = {
    "id_card": "PIPL Art. 28: specific identity (resident ID / permit number)",
    "minors": "PIPL Art. 28, 31: personal information of minors under 14 (from the ID number or birth date)",
}


@dataclass
class Ropa:
    generated_at: datetime
    register: pd.DataFrame      # one row per source × PI category: fields, volume, purposes, recipients, retention
    sources: pd.DataFrame       # one row per source
    sensitive: pd.DataFrame     # sensitive PI held per source
    purposes: pd.DataFrame      # consent records by purpose and state
    recipients: pd.DataFrame    # exports by recipient and purpose
    retention: pd.DataFrame     # the stored retention policies
    missing_tables: list[str] = field(default_factory=list)

    def sheets(self) -> dict[str, pd.DataFrame]:
        return {"register": self.register, "sources": self.sources, "sensitive": self.sensitive,
                "purposes": self.purposes, "recipients": self.recipients, "retention": self.retention}


def table_columns(cur: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Columns of a main-schema table, empty when it does not exist."""
    rows = cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
                       "AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()
    return [r[0] for r in rows]


def _first(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in columns), None)


def _volumes(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per source: records, minors, and for each PII field the records holding a value."""
    counts = ", ".join(
        f"count(*) FILTER (WHERE {quote_ident(f + '_status')} NOT IN ('missing', 'placeholder')) AS {quote_ident(f)}"
        for f in pii_fields())
    return cur.execute(f"SELECT source, count(*) AS records, count(*) FILTER (WHERE is_minor) AS minors, {counts} "
                       "FROM std_records GROUP BY source ORDER BY source").df()


def _purposes(cur: duckdb.DuckDBPyConnection, missing: list[str]) -> pd.DataFrame:
    columns = table_columns(cur, "consent_records")
    purpose = _first(columns, PURPOSE_COLUMNS)
    if purpose is None:
        missing.append("consent_records")
        return pd.DataFrame(columns=["purpose", "state", "records"])
    state = _first(columns, STATE_COLUMNS)
    state_sql = quote_ident(state) if state else "NULL"
    return cur.execute(f"SELECT {quote_ident(purpose)}::VARCHAR AS purpose, {state_sql}::VARCHAR AS state, "
                       "count(*) AS records FROM consent_records GROUP BY ALL ORDER BY 1, 2").df()


def _recipients(cur: duckdb.DuckDBPyConnection, missing: list[str]) -> pd.DataFrame:
    columns = table_columns(cur, "export_manifests")
    if not columns:
        missing.append("export_manifests")
        return pd.DataFrame(columns=["recipient", "purpose", "exports", "rows", "last_export"])
    pick = {name: _first(columns, candidates) for name, candidates in
            (("recipient", RECIPIENT_COLUMNS), ("purpose", PURPOSE_COLUMNS), ("rows", ROWS_COLUMNS),
             ("last_export", TIME_COLUMNS))}
    recipient = f"{quote_ident(pick['recipient'])}::VARCHAR" if pick["recipient"] else "'(unnamed)'"
    purpose = f"{quote_ident(pick['purpose'])}::VARCHAR" if pick["purpose"] else "NULL::VARCHAR"
    rows = f"sum({quote_ident(pick['rows'])})" if pick["rows"] else "NULL"
    last = f"max({quote_ident(pick['last_export'])})" if pick["last_export"] else "NULL"
    return cur.execute(f"SELECT {recipient} AS recipient, {purpose} AS purpose, count(*) AS exports, "
                       f"{rows} AS rows, {last} AS last_export FROM export_manifests GROUP BY ALL ORDER BY 1, 2").df()


def _retention(cur: duckdb.DuckDBPyConnection, missing: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """The stored policies (small table) and the retention per source they name."""
    columns = table_columns(cur, "retention_policies")
    if not columns:
        missing.append("retention_policies")
        return pd.DataFrame(), {}
    policies = cur.execute("SELECT * FROM retention_policies").df()
    period = _first(columns, PERIOD_COLUMNS)
    by_source: dict[str, str] = {}
    for row in policies.to_dict("records"):
        for scope in (c for c in SCOPE_COLUMNS if c in columns):
            if isinstance(row.get(scope), str) and period and row.get(period) is not None:
                by_source.setdefault(row[scope], f"{row[period]} ({period})")
    return policies, by_source


def build(cur: duckdb.DuckDBPyConnection) -> Ropa:
    """The record of processing as it stands in the store now."""
    missing: list[str] = []
    volumes = _volumes(cur).set_index("source")
    catalogue = cur.execute(
        "SELECT s.source, s.channel, s.steward, count(b.batch_id) AS batches, coalesce(sum(b.row_count), 0)::BIGINT AS rows, "
        "min(b.uploaded_at) AS first_load, max(b.uploaded_at) AS last_load "
        "FROM sources s LEFT JOIN batches b USING (source) GROUP BY ALL ORDER BY s.source").df()
    purposes = _purposes(cur, missing)
    recipients = _recipients(cur, missing)
    retention, retention_by_source = _retention(cur, missing)
    purpose_text = ", ".join(sorted({str(p) for p in purposes["purpose"].dropna()})) or NOT_SET
    recipient_text = ", ".join(sorted({str(r) for r in recipients["recipient"].dropna()})) or "none"

    register, summary, sensitive = [], [], []
    for src in catalogue.to_dict("records"):
        source = src["source"]
        mapped: dict[str, list[str]] = {}
        for header, f in mapping.load(cur, source).items():
            if f:
                mapped.setdefault(f, []).append(header)
        held = volumes.loc[source] if source in volumes.index else None
        records = int(held["records"]) if held is not None else 0
        retention_text = retention_by_source.get(source, NOT_SET)
        categories = []
        for cls, class_fields in masking.CLASS_FIELDS.items():
            fields = [f for f in class_fields if f in mapped or (held is not None and held[f] > 0)]
            if not fields:
                continue
            with_value = max(int(held[f]) if held is not None else 0 for f in fields)
            is_sensitive = any(BY_NAME[f].sensitive for f in fields)
            categories.append(cls)
            register.append({
                "source": source, "channel": src["channel"], "category": cls, "fields": ", ".join(fields),
                "columns": ", ".join(h for f in fields for h in mapped.get(f, [])), "sensitive": is_sensitive,
                "records_with_value": with_value, "records": records, "purposes": purpose_text,
                "recipients": recipient_text, "retention": retention_text})
            if is_sensitive:
                sensitive.append({"source": source, "category": cls, "fields": ", ".join(fields),
                                  "records_with_value": with_value, "basis": SENSITIVE_NOTES["id_card"]})
        minors = int(held["minors"]) if held is not None else 0
        if minors:
            sensitive.append({"source": source, "category": "minors", "fields": "id_card, birth_date",
                              "records_with_value": minors, "basis": SENSITIVE_NOTES["minors"]})
        summary.append({**src, "standardized_records": records, "pi_categories": ", ".join(categories),
                        "sensitive_categories": ", ".join(r["category"] for r in sensitive if r["source"] == source),
                        "minors": minors, "retention": retention_text})
    return Ropa(
        generated_at=utcnow(),
        register=pd.DataFrame(register, columns=["source", "channel", "category", "fields", "columns", "sensitive",
                                                 "records_with_value", "records", "purposes", "recipients",
                                                 "retention"]),
        sources=pd.DataFrame(summary, columns=[*catalogue.columns, "standardized_records", "pi_categories",
                                               "sensitive_categories", "minors", "retention"]),
        sensitive=pd.DataFrame(sensitive, columns=["source", "category", "fields", "records_with_value", "basis"]),
        purposes=purposes, recipients=recipients, retention=retention, missing_tables=missing)


# ---- exports --------------------------------------------------------------------------------------

def to_csv(ropa: Ropa) -> bytes:
    """The register (one row per source × category) as CSV, formulas neutralized."""
    return exporting.to_csv_bytes(ropa.register)


def to_xlsx(ropa: Ropa) -> bytes:
    """Every table of the record on its own sheet, formulas neutralized."""
    return exporting.to_xlsx_workbook(ropa.sheets())


def _md_cell(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(frame: pd.DataFrame, empty: str) -> str:
    if frame.empty:
        return f"_{empty}_\n"
    lines = ["| " + " | ".join(map(_md_cell, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def pipia_markdown(ropa: Ropa, policy: pd.DataFrame | None = None) -> str:
    """A PIPIA stub (PIPL Art. 55–56, GB/T 39335-2020) pre-filled from the record; the assessor
    completes the sections marked TODO."""
    triggers = [
        ("Sensitive personal information (Art. 55(1))", not ropa.sensitive.empty),
        ("Automated decision-making: OneID matching (Art. 55(2))", True),
        ("Provision to other processors / exports (Art. 55(3))", not ropa.recipients.empty),
    ]
    volumes = ropa.register[["source", "category", "fields", "sensitive", "records_with_value", "records"]]
    out = [
        "# Personal information protection impact assessment (PIPIA) — stub",
        "",
        f"Generated by Steward from the record of processing on {ropa.generated_at:%Y-%m-%d %H:%M} UTC. "
        "Keep the completed report and the processing record for at least three years (PIPL Art. 56).",
        "",
        "## 1. Controller and assessor",
        "",
        "- Controller: TODO", "- Personal-information protection officer (Art. 52): TODO",
        "- Assessor and date: TODO",
        "",
        "## 2. Why an assessment is required (Art. 55)",
        "",
        *[f"- [{'x' if hit else ' '}] {label}" for label, hit in triggers],
        "",
        "## 3. Processing described",
        "",
        f"{len(ropa.sources)} sources, {int(ropa.sources['standardized_records'].sum()) if not ropa.sources.empty else 0} "
        "standardized records.",
        "",
        _md_table(ropa.sources[["source", "channel", "steward", "batches", "rows", "pi_categories", "retention"]],
                  "No sources."),
        "### Personal-information categories and volumes",
        "",
        _md_table(volumes, "No personal information held."),
        "## 4. Sensitive personal information and minors (Art. 28–31)",
        "",
        _md_table(ropa.sensitive, "No sensitive personal information found."),
        "Separate consent and necessity for each sensitive category: TODO",
        "",
        "## 5. Purposes and legal basis (Art. 13–17)",
        "",
        _md_table(ropa.purposes, "No consent records."),
        "Necessity and proportionality of each purpose: TODO",
        "",
        "## 6. Recipients (Art. 21–23)",
        "",
        _md_table(ropa.recipients, "No exports recorded."),
        "## 7. Retention (Art. 19, 47)",
        "",
        _md_table(ropa.retention, "No retention policies set."),
        "## 8. Protection measures in place (Art. 51)",
        "",
        "- Role-based access (admin, steward, analyst); every page guarded.",
        "- Display masking by sensitivity class and role; reveals need a reason and are audited.",
        "- Pseudonymous keys: HMAC-SHA256 with a secret kept apart from the data.",
        "- Append-only audit log with a hash chain (`python -m governance audit verify`).",
        "",
    ]
    if policy is not None:
        out += ["### Masking policy", "", _md_table(policy[["sensitivity_class", "role", "method", "keep_start",
                                                            "keep_end"]], "No policy.")]
    out += [
        "## 9. Risks to individuals and their likelihood",
        "", "TODO", "",
        "## 10. Conclusion and sign-off",
        "", "TODO", "",
    ]
    if ropa.missing_tables:
        out += [f"_Not yet recorded in this store: {', '.join(ropa.missing_tables)}._", ""]
    return "\n".join(out)
