"""The steward review queue: uncertain pairs ranked by impact, side-by-side records, why a pair
scored as it did, and decisions that persist (first decision wins; undo is a new event)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import duckdb
import pandas as pd

from governance.access import audit
from governance.access.events import Event
from governance.oneid.links import REC_ID
from governance.standardize import normalizers
from governance.standardize.normalizers import VALID
from governance.store.errors import GovernanceError
from governance.store.schema import FIELD_NAMES, channel_label
from governance.store.storage import Database, one, scalar
from governance.store.util import utcnow

DECISIONS = ("approve", "reject")
_DECISION_EVENTS = {"approve": Event.REVIEW_APPROVE, "reject": Event.REVIEW_REJECT}
_BULK_EVENTS = {"approve": Event.REVIEW_BULK_APPROVE, "reject": Event.REVIEW_BULK_REJECT}
COMPARISONS = {"name": ("姓名", "name"), "mobile": ("手机号", "mobile"), "email": ("邮箱", "email"),
               "dob": ("出生日期", "birth date"), "id_card": ("身份证号", "resident ID"),
               "district": ("区县", "district"), "address": ("门牌与房号", "building and room"), "sex": ("性别", "sex"), "given": ("名", "given name"),
               "family": ("姓", "family name"), "street": ("街道地址", "street"), "locality": ("城市或区域", "suburb or city"),
               "postcode": ("邮编", "postcode"), "other_id": ("其他证件号", "other ID number"),
               "age": ("年龄段与出生日期", "age band and birth date"), "account": ("平台账号", "platform account"),
               "nickname": ("昵称", "nickname")}


def comparison_names(lang: str) -> dict[str, str]:
    """Comparison -> its name in `lang` ("zh" or "en")."""
    return {k: v[0 if lang == "zh" else 1] for k, v in COMPARISONS.items()}


# The comparison levels of the model (Splink's label_for_charts as governance.oneid.model sets them,
# less the comparison's own name), in Chinese and English.
LEVELS = {"exact": ("完全一致", "exact"), "hanzi exact": ("汉字一致", "hanzi exact"),
          "pinyin exact": ("拼音一致", "pinyin exact"), "pinyin reversed": ("拼音姓名顺序颠倒", "pinyin reversed"),
          "pinyin similar": ("拼音相近", "pinyin similar"), "one character differs": ("一个字不同", "one character differs"),
          "initials": ("首字母相同", "initials"), "surname only, compatible": ("只有姓且相容", "surname only, compatible"),
          "last 8 digits": ("后8位相同", "last 8 digits"), "one typo": ("一处录入差异", "one typo"),
          "masked-compatible": ("脱敏号码相容", "masked-compatible"), "same month": ("同年同月", "same month"),
          "birth year within the age band": ("出生年份在年龄段内", "birth year within the age band"),
          "union_id, open_id or card": ("UnionID、OpenID 或会员卡号相同", "union_id, open_id or card"),
          "douyin or buyer id": ("抖音ID或买家ID相同", "Douyin or buyer id"),
          "same building, unit and room": ("楼栋、单元和房号相同", "same building, unit and room"),
          "all other comparisons": ("其他情况", "anything else")}
# How model.py names a comparison inside its level labels, where that is not the English name above.
_LEVEL_PREFIXES = {"id_card": "id", "other_id": "other id", "locality": "suburb or city"}
_SIMILAR = re.compile(r"similar \((0?\.\d+)\)")
_SWAPPED = re.compile(r"swapped with (\w+)")
_EDITS = re.compile(r"(?:damerau-)?levenshtein distance of \S+ <= (\d+)")


def level_name(comparison: str, label: str, lang: str, position: int | None = None) -> str:
    """A comparison level of the model as a chart names it in `lang`: "手机号 · 后8位相同". A level
    this table does not know keeps its label in English and reads "级别 N" in Chinese."""
    side = 0 if lang == "zh" else 1
    names = comparison_names(lang)
    text = label.strip().lower()
    prefix = _LEVEL_PREFIXES.get(comparison, COMPARISONS.get(comparison, ("", comparison))[1].lower())
    if text == f"exact match on {comparison}":
        text = "exact"
    for lead in (f"{prefix}, ", f"{prefix} "):
        if prefix and text.startswith(lead) and text != prefix:
            text = text[len(lead):]
            break
    if text in LEVELS:
        level = LEVELS[text][side]
    elif match := _SIMILAR.fullmatch(text):
        level = (f"相近（≥{match.group(1)}）", f"similar (≥ {match.group(1)})")[side]
    elif (match := _SWAPPED.fullmatch(text)) and match.group(1) in COMPARISONS:
        level = (f"与{names[match.group(1)]}互换", f"swapped with {names[match.group(1)]}")[side]
    elif match := _EDITS.fullmatch(text):
        n = int(match.group(1))
        level = LEVELS["one typo"][side] if n == 1 else (f"相差 {n} 个字符", f"{n} characters differ")[side]
    else:
        level = label if side else f"级别 {position}" if position is not None else "其他级别"
    return f"{names.get(comparison, comparison)} · {level}"


def pair_labels(page: pd.DataFrame, lang: str = "en") -> list[str]:
    """How the queue picker names each pair of a queue page (`queue`): with names (`with_names`,
    masked by the caller) "张* (CRM会员系统) ↔ 张** (天猫旗舰店) · 0.87"; without them, the records
    "1:82 ↔ 5:49 · 0.873". Labels are unique (a picker tells its options apart by label): names
    shared by two pairs of the page get their records added."""
    if "name_l" not in page.columns:
        return [f"{r.record_l} ↔ {r.record_r} · {r.match_probability:.3f}" for r in page.itertuples()]

    def side(name: object, channel: object) -> str:
        who = "—" if name is None or (isinstance(name, float) and name != name) else str(name)
        return f"{who} ({channel_label(str(channel), lang)})" if channel else who

    labels = [f"{side(r.name_l, r.channel_l)} ↔ {side(r.name_r, r.channel_r)} · {r.match_probability:.2f}"
              for r in page.itertuples()]
    shared = {label for label in labels if labels.count(label) > 1}
    return [f"{label} · {r.record_l} ↔ {r.record_r}" if label in shared else label
            for label, r in zip(labels, page.itertuples())]


def _label(column: str) -> str:
    """A record id shown as BATCH:ROW (a raw id can look like a phone number)."""
    return f"(({column}) // 4294967296)::VARCHAR || ':' || (({column}) % 4294967296)::VARCHAR"


# The decision in force on each pair (rec_l < rec_r): the latest one not undone.
DECIDED_SQL = ("SELECT least(rec_l, rec_r) AS rec_l, greatest(rec_l, rec_r) AS rec_r, decision FROM review_decisions "
               "WHERE undone_at IS NULL QUALIFY row_number() OVER "
               "(PARTITION BY least(rec_l, rec_r), greatest(rec_l, rec_r) ORDER BY decision_id DESC) = 1")

# A scored pair the auto-link guards hold back (a pair scored before that was recorded counts as not held).
HELD = "coalesce(p.held, false)"
_UNDECIDED = ("NOT EXISTS (SELECT 1 FROM review_decisions d WHERE d.undone_at IS NULL "
              "AND least(d.rec_l, d.rec_r) = p.rec_l AND greatest(d.rec_l, d.rec_r) = p.rec_r)")


SEARCH_KINDS = ("oneid", "mobile", "name")


def search_kind(text: str) -> str:
    """What a queue search text is: a OneID (OID…), a mobile (it standardizes as one) or a name."""
    q = text.strip()
    if re.fullmatch(r"OID\d+", q, re.IGNORECASE):
        return "oneid"
    if normalizers.normalize_mobile(q).status in VALID:
        return "mobile"
    return "name"


def _search_sql(text: str) -> tuple[str, list[object]]:
    """A condition on a queue row (records `sl`/`sr`, crosswalk `cl`/`cr`) true when either record
    matches `text` on its standardized value, and its parameters. The text is never part of the SQL."""
    q = text.strip()
    kind = search_kind(q)
    if kind == "oneid":
        return "(cl.oneid = upper(?) OR cr.oneid = upper(?))", [q, q]
    if kind == "mobile":
        mobile = normalizers.normalize_mobile(q).value
        return "(sl.mobile = ? OR sr.mobile = ?)", [mobile, mobile]
    result = normalizers.normalize_name(q)  # hanzi (traditional too) or pinyin, in either order
    extra = result.extra or {}
    values = [v for v in dict.fromkeys((result.value or q, extra.get("simplified") or q)) if v]
    pinyin = extra.get("pinyin")
    parts: list[str] = []
    params: list[object] = []
    for s in ("sl", "sr"):
        names = " OR ".join([f"{s}.name = ?", f"{s}.name_simplified = ?"] * len(values))
        parts.append(names)
        params += [v for v in values for _ in (0, 1)]
        if pinyin:
            parts.append(f"{s}.name_pinyin = ? OR {s}.name_pinyin_rev = ?")
            params += [pinyin, pinyin]
    return "(" + " OR ".join(parts) + ")", params


def _queue_where(source: str | None, low: float, high: float, search: str | None) -> tuple[str, list[object]]:
    where = ["p.band = 'review'", _UNDECIDED, "p.match_probability BETWEEN ? AND ?"]
    params: list[object] = [low, high]
    if source:
        where.append("(cl.source = ? OR cr.source = ?)")
        params += [source, source]
    if search and search.strip():
        condition, values = _search_sql(search)
        where.append(condition)
        params += values
    return " AND ".join(where), params


# A queue row's records: their crosswalk rows (source, OneID) and standardized rows (names, mobiles).
_QUEUE_FROM = """FROM match_pairs p
        JOIN crosswalk cl ON cl.rec_id = p.rec_l JOIN crosswalk cr ON cr.rec_id = p.rec_r
        LEFT JOIN std_records sl ON sl.batch_id = cl.batch_id AND sl.row_number = cl.row_number
        LEFT JOIN std_records sr ON sr.batch_id = cr.batch_id AND sr.row_number = cr.row_number"""


def queue(cur: duckdb.DuckDBPyConnection, source: str | None = None, low: float = 0.0, high: float = 1.0,
          limit: int = 50, offset: int = 0, search: str | None = None, with_names: bool = False) -> pd.DataFrame:
    """Undecided pairs in the review band, most impactful first: pairs that would fuse two OneIDs, the
    first of each two OneIDs before the others between them (a decision on it settles the fusion, so
    once one is decided the others wait too), then those nearest the middle of the band (the most
    uncertain).

    source: only pairs with a record of this source. search: only pairs with a record matching a
    name, mobile or OneID (`search_kind`), on standardized values. with_names: add both records'
    names (`name_l`, `name_r`, unmasked: a page masks them) and channels (`channel_l`, `channel_r`).
    """
    where, params = _queue_where(source, low, high, search)
    names = ("sl.name AS name_l, sr.name AS name_r, bl.channel AS channel_l, br.channel AS channel_r, "
             if with_names else "")
    uncertainty = ("abs(p.match_probability - 0.5 * ((SELECT review_low FROM oneid_models ORDER BY run_id DESC LIMIT 1) "
                   "+ (SELECT auto_accept FROM oneid_models ORDER BY run_id DESC LIMIT 1)))")
    return cur.execute(
        f"""
        WITH settled AS (  -- two OneIDs a decision in force is between already
            SELECT DISTINCT least(cl.oneid, cr.oneid) AS a, greatest(cl.oneid, cr.oneid) AS b FROM ({DECIDED_SQL}) d
            JOIN crosswalk cl ON cl.rec_id = d.rec_l JOIN crosswalk cr ON cr.rec_id = d.rec_r WHERE cl.oneid <> cr.oneid)
        SELECT * EXCLUDE (uncertainty, nth, settled) FROM (
            SELECT p.rec_l, p.rec_r, {_label('p.rec_l')} AS record_l, {_label('p.rec_r')} AS record_r, {names}
                   p.match_probability, p.match_weight, cl.source AS source_l, cr.source AS source_r,
                   cl.oneid AS oneid_l, cr.oneid AS oneid_r, cl.oneid <> cr.oneid AS fuses_oneids,
                   {uncertainty} AS uncertainty, row_number() OVER (PARTITION BY least(cl.oneid, cr.oneid),
                   greatest(cl.oneid, cr.oneid) ORDER BY {uncertainty}, p.rec_l, p.rec_r) AS nth,
                   EXISTS (SELECT 1 FROM settled t WHERE t.a = least(cl.oneid, cr.oneid)
                           AND t.b = greatest(cl.oneid, cr.oneid)) AS settled
            {_QUEUE_FROM}
            LEFT JOIN batches bl ON bl.batch_id = cl.batch_id LEFT JOIN batches br ON br.batch_id = cr.batch_id
            WHERE {where})
        ORDER BY fuses_oneids DESC, (fuses_oneids AND nth = 1 AND NOT settled) DESC, uncertainty, rec_l, rec_r
        LIMIT ? OFFSET ?""", params + [limit, offset]).df()


def queue_size(cur: duckdb.DuckDBPyConnection, source: str | None = None, low: float = 0.0, high: float = 1.0,
               search: str | None = None) -> int:
    """How many pairs `queue` holds with these filters (all undecided review pairs by default)."""
    if source is None and search is None and (low, high) == (0.0, 1.0):
        return scalar(cur, f"SELECT count(*) FROM match_pairs p WHERE band = 'review' AND {_UNDECIDED}")
    where, params = _queue_where(source, low, high, search)
    return scalar(cur, f"SELECT count(*) {_QUEUE_FROM} WHERE {where}", params)


def queue_sources(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The sources (with their channel) a queue can be narrowed to."""
    return cur.execute("SELECT source, channel FROM sources ORDER BY source").df()


def side_by_side(cur: duckdb.DuckDBPyConnection, rec_l: int, rec_r: int) -> pd.DataFrame:
    """Both records' standardized values, one row per standard field, and whether they differ."""
    rows = cur.execute(f"SELECT {REC_ID} AS rid, source, {', '.join(FIELD_NAMES)} FROM std_records "
                       f"WHERE {REC_ID} IN (?, ?)", [rec_l, rec_r]).fetchall()
    by_id = {r[0]: r for r in rows}
    if rec_l not in by_id or rec_r not in by_id:
        raise GovernanceError("The pair's records are no longer in the store.")
    left, right = by_id[rec_l], by_id[rec_r]
    fields = ["source", *FIELD_NAMES]
    frame = pd.DataFrame({"field": fields, "left": list(left[1:]), "right": list(right[1:])})
    frame["differs"] = [(a is not None and b is not None and a != b) for a, b in zip(frame["left"], frame["right"])]
    keep = frame["left"].notna() | frame["right"].notna()
    return frame[keep].reset_index(drop=True)


def weights(cur: duckdb.DuckDBPyConnection, rec_l: int, rec_r: int) -> tuple[float, dict[str, float]]:
    """The pair's total match weight and the weight of each comparison (for the waterfall)."""
    row = cur.execute("SELECT match_weight, weights FROM match_pairs WHERE rec_l = ? AND rec_r = ?",
                      [min(rec_l, rec_r), max(rec_l, rec_r)]).fetchone()
    if not row:
        return 0.0, {}
    folded: dict[str, float] = {}
    for key, value in (json.loads(row[1]) if row[1] else {}).items():
        if value is not None:  # a term-frequency adjustment belongs to its comparison
            base = key.removeprefix("tf_adj_")
            folded[base] = folded.get(base, 0.0) + float(value)
    return float(row[0] or 0.0), folded


def explain(parts: dict[str, float], probability: float, lang: str) -> str:
    """One plain sentence: what pulls the pair together and what pushes it apart."""
    ranked = sorted(parts.items(), key=lambda kv: kv[1], reverse=True)
    pro = [COMPARISONS.get(k, (k, k))[0 if lang == "zh" else 1] for k, v in ranked if v > 1][:3]
    con = [COMPARISONS.get(k, (k, k))[0 if lang == "zh" else 1] for k, v in reversed(ranked) if v < -1][:2]
    if lang == "zh":
        text = f"匹配概率 {probability:.0%}"
        text += f"：{'、'.join(pro)}一致" if pro else "：没有强一致项"
        text += f"，但{'、'.join(con)}不同。" if con else "。"
        return text
    text = f"Match probability {probability:.0%}: "
    text += f"{', '.join(pro)} agree" if pro else "nothing agrees strongly"
    text += f", but {', '.join(con)} differ." if con else "."
    return text


@dataclass(frozen=True)
class Decision:
    decision_id: int
    decision: str
    actor: str


class AlreadyDecided(GovernanceError):
    """Someone decided this pair first; `decision` is the one in force."""

    def __init__(self, decision: Decision):
        super().__init__(f"{decision.actor} already decided this pair ({decision.decision}).")
        self.decision = decision


def current_decision(cur: duckdb.DuckDBPyConnection, rec_l: int, rec_r: int) -> Decision | None:
    row = cur.execute(
        "SELECT decision_id, decision, actor FROM review_decisions WHERE undone_at IS NULL "
        "AND least(rec_l, rec_r) = ? AND greatest(rec_l, rec_r) = ? ORDER BY decision_id DESC LIMIT 1",
        [min(rec_l, rec_r), max(rec_l, rec_r)]).fetchone()
    return Decision(*row) if row else None


def decide(db: Database, actor: str, rec_l: int, rec_r: int, decision: str, comment: str | None = None,
           allow_override: bool = False) -> int:
    """Record a decision on a pair. The first decision wins: a second one on a decided pair raises
    AlreadyDecided (naming who decided it and how) unless it deliberately overrides (split/merge
    from the cluster view). Checked and written in one transaction. Audited."""
    if decision not in DECISIONS:
        raise ValueError(decision)
    if rec_l == rec_r:
        raise GovernanceError("A record cannot be paired with itself.")
    with db.transaction() as cur:  # one lock: two stewards cannot both see the pair undecided
        found = {r for (r,) in cur.execute(f"SELECT {REC_ID} FROM std_records WHERE {REC_ID} IN (?, ?)",
                                           [rec_l, rec_r]).fetchall()}
        for rec in (rec_l, rec_r):
            if rec not in found:
                raise GovernanceError(f"There is no record {rec // 4294967296}:{rec % 4294967296}.")
        existing = current_decision(cur, rec_l, rec_r)
        if existing and not allow_override:
            raise AlreadyDecided(existing)
        decision_id = scalar(cur, "SELECT nextval('decision_seq')")
        cur.execute("INSERT INTO review_decisions VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                    [decision_id, rec_l, rec_r, decision, actor, utcnow(), comment])
        audit.record(cur, actor, _DECISION_EVENTS[decision], "pair", f"{rec_l}-{rec_r}",
                     {"decision_id": decision_id, "comment": comment})
    return decision_id


def undo(db: Database, actor: str, decision_id: int) -> None:
    with db.transaction() as cur:
        found = cur.execute("SELECT rec_l, rec_r FROM review_decisions WHERE decision_id = ? AND undone_at IS NULL",
                            [decision_id]).fetchone()
        if not found:
            raise GovernanceError(f"No active decision {decision_id}.")
        cur.execute("UPDATE review_decisions SET undone_at = ?, undone_by = ? WHERE decision_id = ?",
                    [utcnow(), actor, decision_id])
        audit.record(cur, actor, Event.REVIEW_UNDO, "pair", f"{found[0]}-{found[1]}", {"decision_id": decision_id})


def bulk_preview(cur: duckdb.DuckDBPyConnection, low: float, high: float) -> dict:
    """How many undecided review pairs a bulk decision on [low, high] touches, and how many OneIDs."""
    pairs, oneids = one(cur,
        f"SELECT count(*), count(DISTINCT cl.oneid) + count(DISTINCT cr.oneid) FROM match_pairs p "
        f"JOIN crosswalk cl ON cl.rec_id = p.rec_l JOIN crosswalk cr ON cr.rec_id = p.rec_r "
        f"WHERE p.band = 'review' AND {_UNDECIDED} AND p.match_probability BETWEEN ? AND ?", [low, high])
    return {"pairs": pairs, "oneids": oneids}


def bulk_decide(db: Database, actor: str, low: float, high: float, decision: str, comment: str | None = None) -> int:
    """Decide every undecided review pair with a probability in [low, high]; returns how many."""
    if decision not in DECISIONS:
        raise ValueError(decision)
    with db.transaction() as cur:
        n = scalar(cur, f"SELECT count(*) FROM match_pairs p WHERE band = 'review' AND {_UNDECIDED} "
                        "AND match_probability BETWEEN ? AND ?", [low, high])
        cur.execute(
            f"INSERT INTO review_decisions SELECT nextval('decision_seq'), rec_l, rec_r, ?, ?, ?, ?, NULL, NULL "
            f"FROM match_pairs p WHERE band = 'review' AND {_UNDECIDED} AND match_probability BETWEEN ? AND ?",
            [decision, actor, utcnow(), comment, low, high])
        audit.record(cur, actor, _BULK_EVENTS[decision], "band", f"{low:.3f}-{high:.3f}",
                     {"pairs": n, "comment": comment})
    return n


def threshold_preview(cur: duckdb.DuckDBPyConnection, auto_accept: float, review_low: float) -> dict:
    """What a threshold setting would produce from the last run's scored pairs: `auto_pairs` (the
    model would link them: at or above `auto_accept`, undecided and not held back by the auto-link
    guards) and `review_pairs` (the queue: the other undecided pairs from `review_low` up); against
    the last run's bands, the pairs that move `to_auto` (review -> auto), `to_review` (auto ->
    review) and `dropped` (below the new review-low: no link, not queued); and `merging_oneids`, how
    many OneIDs the pairs moving to auto fold into others."""
    would = f"(p.match_probability >= ? AND NOT {HELD} AND {_UNDECIDED})"
    auto, review, to_auto, to_review, dropped = one(cur,
        f"SELECT count(*) FILTER (WHERE {would}), "
        f"count(*) FILTER (WHERE match_probability >= ? AND {_UNDECIDED} AND NOT {would}), "
        f"count(*) FILTER (WHERE band <> 'auto' AND {would}), "
        "count(*) FILTER (WHERE band = 'auto' AND match_probability < ? AND match_probability >= ?), "
        "count(*) FILTER (WHERE match_probability < ?) FROM match_pairs p",
        [auto_accept, review_low, auto_accept, auto_accept, auto_accept, review_low, review_low])
    joined = cur.execute(
        f"SELECT DISTINCT least(cl.oneid, cr.oneid), greatest(cl.oneid, cr.oneid) FROM match_pairs p "
        f"JOIN crosswalk cl ON cl.rec_id = p.rec_l JOIN crosswalk cr ON cr.rec_id = p.rec_r "
        f"WHERE p.band <> 'auto' AND {would} AND cl.oneid <> cr.oneid", [auto_accept]).fetchall()
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in joined:
        parent[root(a)] = root(b)
    merging = len(parent) - len({root(x) for x in list(parent)})
    return {"auto_pairs": auto, "review_pairs": review, "to_auto": to_auto, "to_review": to_review,
            "dropped": dropped, "merging_oneids": merging}


def accuracy_from_reviews(cur: duckdb.DuckDBPyConnection, auto_accept: float) -> dict:
    """Precision and recall of the model's own links at the `auto_accept` threshold, estimated from
    steward decisions (labels): a labelled pair counts as linked when it is at or above the
    threshold and not held back by the auto-link guards (those go to a steward at any threshold)."""
    linked = f"(p.match_probability >= ? AND NOT {HELD})"
    labels, tp, fp, fn = one(cur,
        f"SELECT count(*), count(*) FILTER (WHERE d.decision = 'approve' AND {linked}), "
        f"count(*) FILTER (WHERE d.decision = 'reject' AND {linked}), "
        f"count(*) FILTER (WHERE d.decision = 'approve' AND NOT {linked}) "
        f"FROM ({DECIDED_SQL}) d JOIN match_pairs p USING (rec_l, rec_r)", [auto_accept] * 3)
    return {"labels": labels, "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None}


def recent_decisions(cur: duckdb.DuckDBPyConnection, limit: int = 20, actor: str | None = None,
                     with_names: bool = False) -> pd.DataFrame:
    """The latest decisions in force, newest first (only `actor`'s, if given). `with_names` adds
    both records' ids (`rec_l`, `rec_r`), names and sources, for a page to show masked."""
    columns, joins = "", ""
    if with_names:
        columns = "d.rec_l, d.rec_r, sl.name AS name_l, sl.source AS source_l, sr.name AS name_r, sr.source AS source_r, "
        joins = " ".join(f"LEFT JOIN std_records {s} ON {s}.batch_id = d.{rec} // 4294967296 "
                         f"AND {s}.row_number = d.{rec} % 4294967296" for s, rec in (("sl", "rec_l"), ("sr", "rec_r")))
    mine = "" if actor is None else "AND d.actor = ? "
    return cur.execute(
        f"SELECT d.decision_id, {_label('d.rec_l')} AS record_l, {_label('d.rec_r')} AS record_r, {columns}"
        f"d.decision, d.actor, d.ts, d.comment FROM review_decisions d {joins} "
        f"WHERE d.undone_at IS NULL {mine}ORDER BY d.decision_id DESC LIMIT ?",
        [*([] if actor is None else [actor]), limit]).df()


def cluster_members(cur: duckdb.DuckDBPyConnection, oneid: str) -> pd.DataFrame:
    """The records of one OneID with what placed them, and their key fields."""
    return cur.execute(
        f"SELECT c.rec_id, {_label('c.rec_id')} AS record, c.source, c.row_number, c.placed_by, s.name, s.mobile, s.email, s.id_card, "
        f"s.wechat_union_id, s.douyin_id, s.member_card FROM crosswalk c JOIN std_records s USING (batch_id, row_number) "
        f"WHERE c.oneid = ? ORDER BY c.rec_id", [oneid]).df()


def split_out(db: Database, actor: str, oneid: str, rec_id: int, comment: str | None = None) -> int:
    """Unmerge one record from its OneID: a reject decision against every other member, binding
    later runs. Returns how many decisions were written."""
    with db.cursor() as cur:
        others = [r[0] for r in cur.execute("SELECT rec_id FROM crosswalk WHERE oneid = ? AND rec_id <> ?",
                                            [oneid, rec_id]).fetchall()]
    for other in others:
        decide(db, actor, rec_id, other, "reject", comment or f"split from {oneid}", allow_override=True)
    return len(others)


def latest_model(cur: duckdb.DuckDBPyConnection) -> dict | None:
    row = cur.execute("SELECT run_id, model_json, auto_accept, review_low FROM oneid_models ORDER BY run_id DESC "
                      "LIMIT 1").fetchone()
    return None if row is None else {"run_id": row[0], "model": json.loads(row[1]), "model_json": row[1],
                                     "auto_accept": row[2], "review_low": row[3]}


def latest_run(cur: duckdb.DuckDBPyConnection) -> dict | None:
    frame = cur.execute("SELECT * FROM oneid_runs ORDER BY run_id DESC LIMIT 1").df()
    return None if frame.empty else frame.iloc[0].to_dict()


def overridden_decisions(cur: duckdb.DuckDBPyConnection) -> int:
    """Approvals the last run could not honour because a constraint kept the records apart."""
    return scalar(cur, "SELECT count(*) FROM cluster_flags WHERE placed_by = 'review' AND run_id = "
                       "(SELECT max(run_id) FROM oneid_runs)")


def flagged_clusters(cur: duckdb.DuckDBPyConnection, limit: int = 200) -> pd.DataFrame:
    """Clusters of the last run a steward should look at, and why (cut links, weak bridges, size)."""
    return cur.execute(
        f"SELECT oneid, reason, {_label('rec_l')} AS record_l, {_label('rec_r')} AS record_r, placed_by "
        "FROM cluster_flags WHERE run_id = (SELECT max(run_id) FROM oneid_runs) ORDER BY reason, oneid LIMIT ?",
        [limit]).df()
