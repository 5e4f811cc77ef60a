"""The record of processing activities (GB/T 35273 §11.3), generated from the store's metadata,
and a personal-information impact-assessment (PIPIA, PIPL Art. 55–56) stub pre-filled from it.

Volumes are counted in SQL over `std_records` (values that are neither missing nor a placeholder).
Purposes come from the consent ledger, recipients from the export manifests and retention from the
retention policies.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from governance.access import masking
from governance.i18n import TEXTS
from governance.sources import mapping
from governance.store import tabular
from governance.store.schema import BY_NAME, pii_fields
from governance.store.storage import quote_ident
from governance.store.util import utcnow

NOT_SET = TEXTS["ropa.value.not set"][1]
NO_RECIPIENTS = TEXTS["ropa.value.none"][1]
NO_PURPOSE = TEXTS["ropa.value.(none stated)"][1]
MINORS = TEXTS["ropa.value.minors"][1]
SENSITIVE_NOTES = {"id_card": TEXTS["ropa.basis.id_card"][1], "other_id": TEXTS["ropa.basis.other_id"][1],
                   "minors": TEXTS["ropa.basis.minors"][1]}


@dataclass
class Ropa:
    generated_at: datetime
    register: pd.DataFrame      # one row per source × PI category: fields, volume, purposes, recipients, retention
    sources: pd.DataFrame       # one row per source
    sensitive: pd.DataFrame     # sensitive PI held per source
    purposes: pd.DataFrame      # consent records by purpose and state
    recipients: pd.DataFrame    # exports by recipient and purpose
    retention: pd.DataFrame     # the stored retention policies

    def sheets(self) -> dict[str, pd.DataFrame]:
        return {"register": self.register, "sources": self.sources, "sensitive": self.sensitive,
                "purposes": self.purposes, "recipients": self.recipients, "retention": self.retention}


def _volumes(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per source: records, minors, and for each PII field the records holding a value."""
    counts = ", ".join(
        f"count(*) FILTER (WHERE {quote_ident(f + '_status')} NOT IN ('missing', 'placeholder')) AS {quote_ident(f)}"
        for f in pii_fields())
    return cur.execute(f"SELECT source, count(*) AS records, count(*) FILTER (WHERE is_minor) AS minors, {counts} "
                       "FROM std_records GROUP BY source ORDER BY source").df()


def _purposes(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """People per consent purpose and current state (governance.privacy.consent)."""
    return cur.execute("SELECT purpose, state, count(*) AS people FROM consent_current GROUP BY ALL ORDER BY 1, 2").df()


def _recipients(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Exports (governance.exports.datasets) by the user who received the file and the stated purpose."""
    return cur.execute("SELECT actor AS recipient, coalesce(purpose, ?) AS purpose, count(*) AS exports, "
                       "count(*) FILTER (WHERE NOT masked) AS unmasked_exports, sum(row_count) AS rows, "
                       "max(created_at) AS last_export FROM export_manifests GROUP BY ALL ORDER BY 1, 2", [NO_PURPOSE]).df()


def _retention(cur: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, dict[str, str]]:
    """The stored policies (governance.privacy.retention) and the period of each source that has one."""
    policies = cur.execute("SELECT scope, target, days, basis, updated_by, updated_at FROM retention_policies "
                           "ORDER BY scope, target").df()
    by_source = {row.target: f"{row.days} days" for row in policies.itertuples() if row.scope == "source"}
    return policies, by_source


def build(cur: duckdb.DuckDBPyConnection) -> Ropa:
    """The record of processing as it stands in the store now."""
    volumes = _volumes(cur).set_index("source")
    catalogue = cur.execute(
        "SELECT s.source, s.channel, s.steward, count(b.batch_id) AS batches, coalesce(sum(b.row_count), 0)::BIGINT AS rows, "
        "min(b.uploaded_at) AS first_load, max(b.uploaded_at) AS last_load "
        "FROM sources s LEFT JOIN batches b USING (source) GROUP BY ALL ORDER BY s.source").df()
    purposes = _purposes(cur)
    recipients = _recipients(cur)
    retention, retention_by_source = _retention(cur)
    purpose_text = ", ".join(sorted({str(p) for p in purposes["purpose"].dropna()})) or NOT_SET
    recipient_text = ", ".join(sorted({str(r) for r in recipients["recipient"].dropna()})) or NO_RECIPIENTS

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
                                  "records_with_value": with_value,
                                  "basis": SENSITIVE_NOTES.get(cls, SENSITIVE_NOTES["id_card"])})
        minors = int(held["minors"]) if held is not None else 0
        if minors:
            sensitive.append({"source": source, "category": MINORS, "fields": "id_card, birth_date",
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
        purposes=purposes, recipients=recipients, retention=retention)


# ---- exports --------------------------------------------------------------------------------------

def to_csv(ropa: Ropa) -> bytes:
    """The register (one row per source × category) as CSV, formulas neutralized."""
    return tabular.to_csv_bytes(ropa.register)


def to_xlsx(ropa: Ropa) -> bytes:
    """Every table of the record on its own sheet, formulas neutralized."""
    return tabular.to_xlsx_workbook(ropa.sheets())


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
    return "\n".join(out)
