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
from governance.oneid import links
from governance.oneid.resolve import SUB_ACCOUNTS
from governance.standardize import normalizers
from governance.standardize.engine import VALID_SQL
from governance.standardize.labels import Labeller
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


# ---------------------------------------------------------------------------------------------
# Browse: where to start when nothing is searched yet

BROWSE_LISTS = ("recent", "largest", "flagged")
_SUMMARY = "g.oneid, g.name, g.mobile, g.record_count, g.channels"
# The latest time anything about the OneID changed: a batch bringing one of its records (last_seen),
# a merge or split naming it (not its first appearance: every OneID of a first run is 'new'), a
# steward override set or removed. Ties go to the latest update the sources themselves report.
_CHANGED_AT = """greatest(
    g.last_seen,
    (SELECT max(h.ts) FROM oneid_history h WHERE h.oneid = g.oneid AND h.event IN ('merge', 'split')),
    (SELECT max(greatest(o.created_at, o.removed_at)) FROM golden_overrides o WHERE o.oneid = g.oneid))"""
# Undecided review-band pairs with a record of the OneID on either side.
_PENDING = ("SELECT c.oneid, count(*) AS n FROM match_pairs p JOIN crosswalk c ON c.rec_id IN (p.rec_l, p.rec_r) "
            "WHERE p.band = 'review' AND NOT EXISTS (SELECT 1 FROM review_decisions d WHERE d.undone_at IS NULL "
            "AND least(d.rec_l, d.rec_r) = p.rec_l AND greatest(d.rec_l, d.rec_r) = p.rec_r) GROUP BY c.oneid")
_FLAGS = ("SELECT oneid, count(*) AS n FROM cluster_flags WHERE run_id = (SELECT max(run_id) FROM oneid_runs) "
          "GROUP BY oneid")


def recently_changed(cur: duckdb.DuckDBPyConnection, limit: int = 10) -> pd.DataFrame:
    """The OneIDs changed most recently (source update, resolution event or override), newest first."""
    return cur.execute(
        f"SELECT {_SUMMARY}, {_CHANGED_AT} AS changed_at FROM golden_records g "
        f"ORDER BY changed_at DESC NULLS LAST, TRY_CAST(g.updated_at AS TIMESTAMP) DESC NULLS LAST, g.oneid "
        f"LIMIT ?", [limit]).df()


def largest_oneids(cur: duckdb.DuckDBPyConnection, limit: int = 10) -> pd.DataFrame:
    """The OneIDs holding the most source records (then the most channels)."""
    return cur.execute(
        f"SELECT {_SUMMARY}, g.channel_count FROM golden_records g "
        f"ORDER BY g.record_count DESC, g.channel_count DESC, g.oneid LIMIT ?", [limit]).df()


def flagged_for_review(cur: duckdb.DuckDBPyConnection, limit: int = 10) -> pd.DataFrame:
    """OneIDs a steward should look at: undecided review pairs touching their records (`pending_pairs`)
    and flags the last resolution raised on the cluster (`cluster_flags`), the most first."""
    return cur.execute(
        f"SELECT {_SUMMARY}, coalesce(p.n, 0) AS pending_pairs, coalesce(f.n, 0) AS cluster_flags "
        f"FROM golden_records g LEFT JOIN ({_PENDING}) p USING (oneid) LEFT JOIN ({_FLAGS}) f USING (oneid) "
        f"WHERE p.n > 0 OR f.n > 0 ORDER BY coalesce(p.n, 0) + coalesce(f.n, 0) DESC, g.oneid LIMIT ?",
        [limit]).df()


def browse(cur: duckdb.DuckDBPyConnection, which: str, limit: int = 10) -> pd.DataFrame:
    """One of the BROWSE_LISTS (unmasked: the page masks it for the role)."""
    lists = {"recent": recently_changed, "largest": largest_oneids, "flagged": flagged_for_review}
    if which not in lists:
        raise ValueError(f"unknown list {which!r}")
    return lists[which](cur, limit)


def golden_record(cur: duckdb.DuckDBPyConnection, oneid: str) -> dict | None:
    frame = cur.execute("SELECT * FROM golden_records WHERE oneid = ?", [oneid]).df()
    return None if frame.empty else frame.iloc[0].to_dict()


def golden_row(cur: duckdb.DuckDBPyConnection, oneid: str) -> dict | None:
    """One person's golden record as golden_records has it, without the consent status (the view
    resolves everyone's consent to give it): a point read of golden_wide."""
    cur.execute(f"SELECT oneid, {', '.join(FIELD_NAMES)}, {', '.join(survivorship.ATTRIBUTES)}, "
                f"{survivorship.COMPLETENESS_SQL} AS completeness FROM golden_wide WHERE oneid = ?", [oneid])
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))


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


def purchases(cur: duckdb.DuckDBPyConnection, oneid: str, limit: int = 50) -> pd.DataFrame:
    """The OneID's purchases and orders (customer_events), newest first; `spend` is 0 for refunded
    and cancelled orders."""
    return cur.execute(
        "SELECT event_time, channel, source, type AS event_type, order_id, product_name, product_category, quantity, "
        "amount, spend, order_status, points, member_level FROM customer_events WHERE oneid = ? "
        "ORDER BY event_time DESC NULLS LAST, batch_id DESC, row_number DESC LIMIT ?", [oneid, int(limit)]).df()


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
                policy: masking.Policy | None = None, lang: str | None = None) -> bytes:
    """The OneID's source records as a CSV masked by the role's policy (UTF-8 with BOM, formulas
    neutralized); audited. With `lang`, headers and coded values (what placed each record, gender)
    read as labels in that language, after the masks; without it, field names and codes."""
    with db.cursor() as cur:
        frame = source_records(cur, oneid).drop(columns=["rec_id"])
    if frame.empty:
        raise GovernanceError(f"No OneID {oneid}.")
    frame.insert(0, "oneid", oneid)
    masked = masking.mask_frame(frame, {f: f for f in FIELD_NAMES}, keep={"oneid", "record", "source", "placed_by"},
                                role=role, policy=policy)
    audit.log(db, actor, Event.CUSTOMER_DOWNLOAD, "oneid", oneid, {"rows": len(frame), "masked": True})
    if lang:
        masked = Labeller(lang, {"placed_by": links.rule_names(lang)}).frame(masked)
    return tabular.to_csv_bytes(masked)
