"""Customer 360: find a customer by OneID, mobile, email, name (hanzi or pinyin) or a channel id,
and show everything known about that OneID: the golden record with its lineage, the competing
values, the source records and sub-accounts, the OneID history and the review decisions.
Split and merge are pipeline steps (review decisions, then a re-run with the saved model)."""
from __future__ import annotations

import re

import duckdb
import pandas as pd

from governance.access import audit, masking
from governance.access.events import Event
from governance.golden import survivorship
from governance.oneid.resolve import SUB_ACCOUNTS
from governance.standardize import normalizers
from governance.standardize.engine import VALID_SQL
from governance.standardize.normalizers import VALID
from governance.store import tabular
from governance.store.errors import GovernanceError
from governance.store.schema import FIELD_NAMES
from governance.store.storage import Database, scalar

KINDS = ("auto", "oneid", "mobile", "email", "name", "channel_id")
CHANNEL_IDS = ("wechat_open_id", "wechat_union_id", "douyin_id", "member_card", "ecommerce_buyer_id")
_HAN = re.compile(r"[\u3400-\u9fff]")
_LABEL = "(c.rec_id // 4294967296)::VARCHAR || ':' || (c.rec_id % 4294967296)::VARCHAR"  # BATCH:ROW


def detect_kind(query: str) -> str:
    """The most likely key type of a search text."""
    q = query.strip()
    if re.fullmatch(r"OID\d+", q, re.IGNORECASE):
        return "oneid"
    if "@" in q:
        return "email"
    if normalizers.normalize_mobile(q).status in VALID:
        return "mobile"
    if _HAN.search(q) or re.fullmatch(r"[A-Za-z][A-Za-z .'-]*", q):
        return "name"
    return "channel_id"


def _hits_sql(kind: str, query: str) -> tuple[str, list]:
    """SQL giving (oneid, rank) for every record that matches, and its parameters."""
    q = query.strip()
    base = "SELECT c.oneid, {rank} AS rank FROM crosswalk c JOIN std_records s USING (batch_id, row_number) WHERE "
    if kind == "oneid":
        return "SELECT DISTINCT oneid, 0 AS rank FROM crosswalk WHERE oneid = upper(?)", [q]
    if kind == "mobile":
        value = normalizers.normalize_mobile(q).value or q
        return base.format(rank="0") + "s.mobile = ?", [value]
    if kind == "email":
        value = normalizers.normalize_email(q).value or q.lower()
        return base.format(rank="0") + "lower(s.email) = lower(?)", [value]
    if kind == "name":
        result = normalizers.normalize_name(q)
        extra = result.extra or {}
        name, simplified, pinyin = result.value or q, extra.get("simplified") or q, extra.get("pinyin")
        rank = "CASE WHEN s.name = ? OR s.name_simplified = ? THEN 0 ELSE 1 END"
        where = "(s.name = ? OR s.name_simplified = ?"
        params = [name, simplified, name, simplified]
        if pinyin:  # hanzi or pinyin, in either order
            where += " OR s.name_pinyin = ? OR s.name_pinyin_rev = ?"
            params += [pinyin, pinyin]
        return base.format(rank=rank) + where + ")", params
    if kind == "channel_id":
        return base.format(rank="0") + "? IN (" + ", ".join(f"s.{k}" for k in CHANNEL_IDS) + ")", [q]
    raise ValueError(f"unknown search kind {kind!r}")


def search(cur: duckdb.DuckDBPyConnection, query: str, kind: str = "auto", limit: int = 20,
           offset: int = 0) -> tuple[pd.DataFrame, int]:
    """One page of matching OneIDs (best matches first) with a summary of each, and the total."""
    if not query or not query.strip():
        return pd.DataFrame(columns=["oneid"]), 0
    kind = detect_kind(query) if kind == "auto" else kind
    hits, params = _hits_sql(kind, query)
    grouped = f"SELECT oneid, min(rank) AS rank FROM ({hits}) GROUP BY oneid"
    total = scalar(cur, f"SELECT count(*) FROM ({grouped})", params)
    page = cur.execute(
        f"SELECT h.oneid, g.name, g.mobile, g.email, g.record_count, g.channels, g.consent_status, g.completeness "
        f"FROM ({grouped}) h LEFT JOIN golden_records g USING (oneid) ORDER BY h.rank, h.oneid LIMIT ? OFFSET ?",
        params + [limit, offset]).df()
    return page, total


def golden_record(cur: duckdb.DuckDBPyConnection, oneid: str) -> dict | None:
    frame = cur.execute("SELECT * FROM golden_records WHERE oneid = ?", [oneid]).df()
    return None if frame.empty else frame.iloc[0].to_dict()


def golden_fields(cur: duckdb.DuckDBPyConnection, oneid: str) -> pd.DataFrame:
    """One row per filled golden field: value, a lineage marker (source BATCH:ROW · rule, or the
    override with who and why) and how many values competed."""
    frame = survivorship.lineage(cur, oneid)
    if frame.empty:
        return pd.DataFrame(columns=["field", "value", "lineage", "competing"])

    def marker(r) -> str:
        if r.rule == "override":
            return f"override #{r.override_id} · {r.override_by}: {r.override_reason}"
        if r.rule == "aggregate":
            return "aggregate"
        return f"{r.source} {r.batch_id}:{r.row_number} · {r.rule}"

    order = {f: i for i, f in enumerate(FIELD_NAMES)}
    out = pd.DataFrame({"field": frame["field"], "value": frame["value"],
                        "lineage": [marker(r) for r in frame.itertuples()],
                        "competing": [0 if c is None or (isinstance(c, float)) else len(c) for c in frame["competing"]]})
    return out.sort_values("field", key=lambda s: s.map(order)).reset_index(drop=True)


def masked_fields(fields: pd.DataFrame, role: str | None = None, policy: masking.Policy | None = None) -> pd.DataFrame:
    """Golden fields (`golden_fields`) as `role` sees them unrevealed: values masked, and each
    override's reason left out of its lineage marker (a reason may name the person)."""
    out = masking.mask_by_row(fields, "field", ("value",), role=role, policy=policy)
    out["lineage"] = [v if not v.startswith("override") else v.split(":")[0] for v in fields["lineage"]]
    return out


def competing_values(cur: duckdb.DuckDBPyConnection, oneid: str, field: str) -> pd.DataFrame:
    """Every usable value of `field` in the OneID's records, with its record, golden one first."""
    if field not in FIELD_NAMES:
        raise ValueError(field)
    return survivorship.candidates(cur, oneid, field)


def source_records(cur: duckdb.DuckDBPyConnection, oneid: str) -> pd.DataFrame:
    """The OneID's source records: BATCH:ROW, source, what placed it, and the standardized fields."""
    return cur.execute(
        f"SELECT c.rec_id, {_LABEL} AS record, c.source, c.placed_by, {', '.join('s.' + f for f in FIELD_NAMES)} "
        f"FROM crosswalk c JOIN std_records s USING (batch_id, row_number) WHERE c.oneid = ? ORDER BY c.rec_id",
        [oneid]).df()


def sub_accounts(cur: duckdb.DuckDBPyConnection, oneid: str) -> pd.DataFrame:
    """Distinct channel accounts of the OneID (open_id with its app id, union_id, Douyin, buyer id, card)."""
    keys = [k for k in SUB_ACCOUNTS if k != "wechat_app_id"]
    union = " UNION ALL ".join(
        f"SELECT '{k}' AS account, s.{k} AS value, {'s.wechat_app_id' if k == 'wechat_open_id' else 'NULL'} AS app_id, "
        f"c.source FROM crosswalk c JOIN std_records s USING (batch_id, row_number) "
        f"WHERE c.oneid = $oneid AND s.{k} IS NOT NULL AND s.{k}_status IN {VALID_SQL}" for k in keys)
    return cur.execute(f"SELECT account, value, app_id, string_agg(DISTINCT source, ', ' ORDER BY source) AS sources "
                       f"FROM ({union}) GROUP BY ALL ORDER BY account, value", {"oneid": oneid}).df()


def history(cur: duckdb.DuckDBPyConnection, oneid: str) -> pd.DataFrame:
    """OneID history events of this OneID or naming it (merges into it, splits from it)."""
    return cur.execute(
        "SELECT h.run_id, h.ts, h.oneid, h.event, h.related, h.records FROM oneid_history h "
        "WHERE h.oneid = ? OR list_contains(string_split(coalesce(h.related, ''), ','), ?) ORDER BY h.run_id, h.oneid",
        [oneid, oneid]).df()


def decisions(cur: duckdb.DuckDBPyConnection, oneid: str) -> pd.DataFrame:
    """Review decisions on pairs involving any record of the OneID."""
    label = "(({c}) // 4294967296)::VARCHAR || ':' || (({c}) % 4294967296)::VARCHAR"
    return cur.execute(
        f"SELECT d.decision_id, {label.format(c='d.rec_l')} AS record_l, {label.format(c='d.rec_r')} AS record_r, "
        f"d.decision, d.actor, d.ts, d.comment, d.undone_at FROM review_decisions d "
        f"WHERE d.rec_l IN (SELECT rec_id FROM crosswalk WHERE oneid = $oneid) "
        f"OR d.rec_r IN (SELECT rec_id FROM crosswalk WHERE oneid = $oneid) ORDER BY d.decision_id DESC",
        {"oneid": oneid}).df()


# ---------------------------------------------------------------------------------------------
# Download

def records_csv(db: Database, actor: str, oneid: str, role: str | None = None,
                policy: masking.Policy | None = None) -> bytes:
    """The OneID's source records as a CSV masked by the role's policy (UTF-8 with BOM, formulas
    neutralized); audited."""
    with db.cursor() as cur:
        frame = source_records(cur, oneid).drop(columns=["rec_id"])
    if frame.empty:
        raise GovernanceError(f"No OneID {oneid}.")
    frame.insert(0, "oneid", oneid)
    masked = masking.mask_frame(frame, {f: f for f in FIELD_NAMES}, keep={"oneid", "record", "source", "placed_by"},
                                role=role, policy=policy)
    audit.log(db, actor, Event.CUSTOMER_DOWNLOAD, "oneid", oneid, {"rows": len(frame), "masked": True})
    return tabular.to_csv_bytes(masked)
