"""Resolution: links -> constraint-aware clusters -> stable OneIDs, a crosswalk and a OneID history.

This is the rules-first part of the OneID pipeline: deterministic rule links plus steward
decisions (approve = link, reject = cannot-link). The Splink model adds probabilistic links
through the same `Link` list (see the note on issue 4 for what remains).

A re-run keeps every existing customer's OneID: each new cluster takes the previous OneID that
most of its records carried (largest overlap, older id on ties), and every merge, split, new and
retired OneID is written to `oneid_history`.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from governance import audit
from governance.oneid.cluster import Link, cluster, weak_spots
from governance.oneid.links import REC_ID, household_mobiles, never_link_attributes, rule_links
from governance.storage import Database
from governance.util import utcnow

RULE_STRENGTH = {"same_id_card": 100.0, "same_union_id": 90.0, "same_open_id_in_app": 80.0,
                 "same_card_in_source": 74.0, "mobile_and_name": 70.0,
                 "mobile_and_channel_id": 60.0}
REVIEW_STRENGTH = 50.0  # an approved pair: below rules, above any model probability
SUB_ACCOUNTS = ("wechat_open_id", "wechat_app_id", "wechat_union_id", "douyin_id", "ecommerce_buyer_id", "member_card")


def create_tables(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute("CREATE SEQUENCE oneid_seq START 1")
    cur.execute("CREATE SEQUENCE oneid_run_seq START 1")
    cur.execute("CREATE TABLE oneid_runs (run_id BIGINT PRIMARY KEY, actor VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, "
                "seconds DOUBLE, records BIGINT, links BIGINT, model_pairs BIGINT, auto_links BIGINT, queue BIGINT, "
                "clusters BIGINT, new BIGINT, merged BIGINT, split BIGINT, retired BIGINT, cuts BIGINT, flagged BIGINT)")
    cur.execute("CREATE TABLE crosswalk (rec_id BIGINT NOT NULL, batch_id BIGINT NOT NULL, row_number BIGINT NOT NULL, "
                "source VARCHAR NOT NULL, oneid VARCHAR NOT NULL, placed_by VARCHAR NOT NULL, run_id BIGINT NOT NULL)")
    cur.execute("CREATE TABLE oneid_history (run_id BIGINT NOT NULL, oneid VARCHAR NOT NULL, event VARCHAR NOT NULL, "
                "related VARCHAR, records BIGINT, ts TIMESTAMP NOT NULL)")
    cur.execute("CREATE TABLE cluster_flags (run_id BIGINT NOT NULL, oneid VARCHAR NOT NULL, reason VARCHAR NOT NULL, "
                "rec_l BIGINT, rec_r BIGINT, placed_by VARCHAR)")
    cur.execute("CREATE TABLE match_pairs (run_id BIGINT NOT NULL, rec_l BIGINT NOT NULL, rec_r BIGINT NOT NULL, "
                "match_probability DOUBLE NOT NULL, match_weight DOUBLE, band VARCHAR NOT NULL, weights VARCHAR)")
    cur.execute("CREATE TABLE oneid_models (run_id BIGINT PRIMARY KEY, model_json VARCHAR NOT NULL, "
                "auto_accept DOUBLE NOT NULL, review_low DOUBLE NOT NULL)")
    cur.execute("CREATE TABLE match_rule_settings (rule_id VARCHAR PRIMARY KEY, enabled BOOLEAN NOT NULL, "
                "updated_by VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL)")
    cur.execute("CREATE SEQUENCE decision_seq START 1")
    cur.execute("CREATE TABLE review_decisions (decision_id BIGINT PRIMARY KEY, rec_l BIGINT NOT NULL, rec_r BIGINT NOT NULL, "
                "decision VARCHAR NOT NULL, actor VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, comment VARCHAR, "
                "undone_at TIMESTAMP, undone_by VARCHAR)")


def new_oneids(cur: duckdb.DuckDBPyConnection, n: int) -> list[str]:
    """n fresh OneIDs, in one query."""
    rows = cur.execute("SELECT nextval('oneid_seq') FROM range(?) ORDER BY 1", [n]).fetchall()
    return [f"OID{r[0]:010d}" for r in rows]


def active_decisions(cur: duckdb.DuckDBPyConnection) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(approved pairs, rejected pairs); a later decision on the same pair replaces an earlier one."""
    rows = cur.execute(
        "SELECT least(rec_l, rec_r), greatest(rec_l, rec_r), decision FROM review_decisions WHERE undone_at IS NULL "
        "QUALIFY row_number() OVER (PARTITION BY least(rec_l, rec_r), greatest(rec_l, rec_r) ORDER BY decision_id DESC) = 1"
    ).fetchall()
    return ([(a, b) for a, b, d in rows if d == "approve"], [(a, b) for a, b, d in rows if d == "reject"])


AUTO_ACCEPT = 0.99   # at or above: the pair links
REVIEW_LOW = 0.60    # between this and AUTO_ACCEPT: the review queue; below: no link


@dataclass
class ResolveResult:
    run_id: int
    records: int
    links: int
    model_pairs: int
    auto_links: int
    queue: int
    clusters: int
    new: int
    merged: int
    split: int
    retired: int
    cuts: int
    flagged: int
    timings: dict[str, float]

    def summary(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "timings"} | {
            "timings": {k: round(v, 3) for k, v in self.timings.items()}}


def _assign(cur, clusters: dict[int, list[int]], previous: dict[int, str]) -> tuple[dict[int, str], list[tuple]]:
    """Give each cluster a OneID, keeping previous ones by largest overlap (older id on ties).
    Returns the assignment and the history events (oneid, event, related oneids, records)."""
    counts: Counter = Counter()
    for root, members in clusters.items():
        for r in members:
            if r in previous:
                counts[(root, previous[r])] += 1
    overlap = [(n, oneid, root) for (root, oneid), n in counts.items()]
    kept: dict[str, int] = {}
    assigned: dict[int, str] = {}
    for n, oneid, root in sorted(overlap, key=lambda o: (-o[0], o[1], o[2])):
        if oneid not in kept and root not in assigned:
            kept[oneid] = root
            assigned[root] = oneid
    events: list[tuple] = []
    fresh = iter(new_oneids(cur, sum(1 for root in clusters if root not in assigned)))
    came_from_of: dict[int, set[str]] = {}
    for root, oneid in counts:
        came_from_of.setdefault(root, set()).add(oneid)
    for root, members in clusters.items():
        came_from = sorted(came_from_of.get(root, ()))
        if root not in assigned:
            assigned[root] = next(fresh)
            events.append((assigned[root], "new", ",".join(came_from) or None, len(members)))
            continue
        absorbed = [o for o in came_from if o != assigned[root] and o not in kept]
        if absorbed:
            events.append((assigned[root], "merge", ",".join(absorbed), len(members)))
            events += [(o, "retire", assigned[root], 0) for o in absorbed]
    now_of = {r: assigned[root] for root, members in clusters.items() for r in members}
    went: dict[str, set[str]] = {}
    for r, o in previous.items():
        if o in kept and r in now_of and now_of[r] != o:
            went.setdefault(o, set()).add(now_of[r])
    for oneid in kept:
        went_to = sorted(went.get(oneid, ()))
        if went_to:
            events.append((oneid, "split", ",".join(went_to), len(clusters[kept[oneid]])))
    retired = {e[0] for e in events if e[1] == "retire"}
    events += [(o, "retire", None, 0) for o in sorted(set(previous.values()) - set(kept) - retired)]
    return assigned, events


def _auto_pairs(pairs: pa.Table, auto_accept: float, household: set[str]) -> list[tuple[int, int, float]]:
    """Pairs the model links by itself: at or above `auto_accept`, but a steward decides when the
    names differ, or when a record without a name matches on a mobile alone and that mobile is a
    household phone (records with different names share it): a shared phone outweighs everything
    else in the weights."""
    columns = pairs.column_names
    n = pairs.num_rows

    def col(name: str) -> list:
        return pairs.column(name).to_pylist() if name in columns else [None] * n

    name_level, mobiles = col("gamma_name"), col("mobile")
    others = [col(c) for c in columns if c.startswith("gamma_") and c not in ("gamma_name", "gamma_mobile")]
    out = []
    for i, (a, b, p) in enumerate(zip(col("rec_l"), col("rec_r"), col("match_probability"))):
        if p < auto_accept or name_level[i] == 0:
            continue
        mobile_only = name_level[i] == -1 and not any((o[i] or 0) > 0 for o in others)
        if mobile_only and mobiles[i] in household:
            continue
        out.append((a, b, p))
    return out


def resolve(db: Database, actor: str, use_model: bool = True, model_json: str | None = None,
            auto_accept: float = AUTO_ACCEPT, review_low: float = REVIEW_LOW) -> ResolveResult:
    """Run the rules and the model, honour steward decisions, cluster under constraints and assign
    stable OneIDs. `model_json` reuses a saved model instead of training one."""
    if not 0 < review_low <= auto_accept <= 1:
        raise ValueError("thresholds must satisfy 0 < review_low <= auto_accept <= 1")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with db.cursor() as cur:
        records = cur.sql(f"SELECT {REC_ID} AS rid FROM std_records ORDER BY 1").to_arrow_table().column(0).to_pylist()
        links = [Link(RULE_STRENGTH.get(rule, 40.0), a, b, rule) for a, b, rule in rule_links(cur)]
    timings["rules"] = time.perf_counter() - started
    prediction = None
    if use_model:
        from governance.oneid import model

        t = time.perf_counter()
        with db.cursor() as cur:
            approved_pairs = active_decisions(cur)[0]
        prediction = model.predict(db, review_low, model_json=model_json, labels=approved_pairs)
        timings["model"] = time.perf_counter() - t
        with db.cursor() as cur:
            household = household_mobiles(cur)
        auto_pairs = _auto_pairs(prediction.pairs, auto_accept, household)
        links += [Link(p, a, b, f"model:{p:.4f}") for a, b, p in auto_pairs]
    with db.cursor() as cur:
        approved, rejected = active_decisions(cur)
        links += [Link(REVIEW_STRENGTH, a, b, "review") for a, b in approved]
        exclusive = never_link_attributes(cur)
        previous = dict(cur.execute("SELECT rec_id, oneid FROM crosswalk").fetchall())
    t = time.perf_counter()
    result = cluster(records, links, cannot_link=rejected, exclusive=exclusive)
    clusters = result.members()
    spots = weak_spots(result, links)
    timings["cluster"] = time.perf_counter() - t
    t = time.perf_counter()
    with db.transaction() as cur:
        run_id = cur.execute("SELECT nextval('oneid_run_seq')").fetchone()[0]
        assigned, events = _assign(cur, clusters, previous)
        rows = pa.table({  # noqa: F841 (read by DuckDB below)
            "rec_id": pa.array(records, pa.int64()),
            "oneid": pa.array([assigned[result.cluster_of[r]] for r in records], pa.string()),
            "placed_by": pa.array([result.placed_by.get(r, "singleton") for r in records], pa.string()),
        })
        cur.execute("DELETE FROM crosswalk")
        cur.execute(f"INSERT INTO crosswalk SELECT r.rec_id, s.batch_id, s.row_number, s.source, r.oneid, r.placed_by, "
                    f"{run_id} FROM rows r JOIN (SELECT {REC_ID} AS rec_id, batch_id, row_number, source "
                    f"FROM std_records) s USING (rec_id)")
        now = utcnow()
        if events:
            history = pa.table({  # noqa: F841 (read by DuckDB below)
                "oneid": pa.array([e[0] for e in events], pa.string()), "event": pa.array([e[1] for e in events], pa.string()),
                "related": pa.array([e[2] for e in events], pa.string()), "records": pa.array([e[3] for e in events], pa.int64())})
            cur.execute("INSERT INTO oneid_history SELECT ?, oneid, event, related, records, ? FROM history", [run_id, now])
        flag_rows = [[run_id, assigned[result.cluster_of[link.left]], reason, link.left, link.right, link.placed_by]
                     for link, reason in result.cuts]
        flag_rows += [[run_id, assigned[root], reason, link.left if link else None, link.right if link else None,
                       link.placed_by if link else None] for root, reason, link in spots]
        if flag_rows:
            cur.executemany("INSERT INTO cluster_flags VALUES (?, ?, ?, ?, ?, ?)", flag_rows)
        n_pairs = n_auto = n_queue = 0
        if prediction is not None:
            pairs = prediction.pairs  # noqa: F841 (read by DuckDB below)
            weight_cols = [c for c in prediction.pairs.column_names if c.startswith("mw_")]
            weights = ("to_json({" + ", ".join(f"'{c[3:]}': {c}" for c in weight_cols) + "})") if weight_cols else "NULL"
            cur.execute("DELETE FROM match_pairs")
            auto_keys = pa.table({"rec_l": [a for a, _, _ in auto_pairs], "rec_r": [b for _, b, _ in auto_pairs]},  # noqa: F841
                                 schema=pa.schema([("rec_l", pa.int64()), ("rec_r", pa.int64())]))
            cur.execute(f"INSERT INTO match_pairs SELECT ?, p.rec_l, p.rec_r, match_probability, match_weight, "
                        f"CASE WHEN k.rec_l IS NOT NULL THEN 'auto' ELSE 'review' END, {weights} FROM pairs p "
                        f"LEFT JOIN auto_keys k ON k.rec_l = p.rec_l AND k.rec_r = p.rec_r", [run_id])
            cur.execute("INSERT INTO oneid_models VALUES (?, ?, ?, ?)", [run_id, prediction.model_json, auto_accept, review_low])
            n_pairs, n_auto = cur.execute("SELECT count(*), count(*) FILTER (WHERE band = 'auto') FROM match_pairs").fetchone()
            n_queue = review_queue_size(cur)
        counts = Counter(e[1] for e in events)
        timings["assign"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - started
        res = ResolveResult(run_id, len(records), len(links), n_pairs, n_auto, n_queue, len(clusters), counts["new"],
                            counts["merge"], counts["split"], counts["retire"], len(result.cuts),
                            len(result.flagged | {root for root, _, _ in spots}), timings)
        cur.execute("INSERT INTO oneid_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, actor, now, timings["total"], res.records, res.links, res.model_pairs, res.auto_links,
                     res.queue, res.clusters, res.new, res.merged, res.split, res.retired, res.cuts, res.flagged])
        audit.record(cur, actor, "oneid.resolve", "oneid_run", run_id, res.summary())
    return res


def review_queue_size(cur: duckdb.DuckDBPyConnection) -> int:
    """Pairs in the review band that no steward has decided yet."""
    return cur.execute(
        "SELECT count(*) FROM match_pairs p WHERE band = 'review' AND NOT EXISTS (SELECT 1 FROM review_decisions d "
        "WHERE d.undone_at IS NULL AND least(d.rec_l, d.rec_r) = p.rec_l AND greatest(d.rec_l, d.rec_r) = p.rec_r)"
    ).fetchone()[0]


def crosswalk_frame(cur: duckdb.DuckDBPyConnection):
    """One row per ingested source row: source, row_number, oneid, what placed it, and the sub-account keys."""
    keys = ", ".join(f"s.{k}" for k in SUB_ACCOUNTS)
    return cur.execute(f"SELECT c.source, c.row_number, c.oneid, c.placed_by, {keys} FROM crosswalk c "
                       "JOIN std_records s USING (batch_id, row_number) ORDER BY c.source, c.row_number").df()
