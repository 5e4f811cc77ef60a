"""Resolution: links -> constraint-aware clusters -> stable OneIDs, a crosswalk and a OneID history.

Links: deterministic rules, the Splink model's auto-accepted pairs and steward decisions
(approve = link, reject = cannot-link). Everything after the model runs in SQL on temp tables of
one transaction (graph.py clusters them); only contested overlaps are matched in Python.

A re-run keeps every existing customer's OneID: each new cluster takes the previous OneID that
most of its records carried (largest overlap, older id on ties), and every merge, split, new and
retired OneID is written to `oneid_history`. A new batch does not churn existing OneIDs: with the same
model, a pair whose comparisons weigh what they weighed in the last model run keeps that run's score,
because the name's term-frequency adjustment, computed from all the data, would otherwise move old
pairs across the thresholds when unrelated records arrive (`_keep_unchanged_scores`).
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from governance.access import audit
from governance.access.events import Event
from governance.oneid import model
from governance.oneid.graph import cluster_records, temp_table
from governance.oneid.links import (
    REC_ID,
    WHOLE_GROUP_RULES,
    enabled_rules,
    household_mobiles_sql,
    kept_apart_sql,
    never_link_sql,
    nickname_cap_crossed_sql,
    order_accounts_sql,
    rec_id_in,
    receiver_accounts_sql,
    rows_of,
    rule_links_sql,
    rule_scope_sql,
    rule_set,
    shipping_contacts_sql,
)
from governance.oneid.review import DECIDED_SQL
from governance.standardize.engine import VALID_SQL
from governance.store import serving
from governance.store.chaos import chaos_point
from governance.store.errors import GovernanceError
from governance.store.storage import Database, arrow_view, one, relation, scalar
from governance.store.util import utcnow

RULE_STRENGTH = {"same_id_card": 100.0, "same_union_id": 90.0, "same_open_id_in_app": 80.0,
                 "same_card_in_source": 74.0, "mobile_and_name": 70.0, "mobile_one_person": 66.0,
                 "mobile_nickname_is_name": 65.0,
                 "masked_mobile_name_city": 64.0, "masked_mobile_surname_sex": 63.0, "masked_mobile_nickname": 62.0,
                 "mobile_and_channel_id": 60.0, "same_buyer_account": 58.0}
REVIEW_STRENGTH = 50.0  # an approved pair: below rules, above any model probability
SUB_ACCOUNTS = ("wechat_open_id", "wechat_app_id", "wechat_union_id", "douyin_id", "ecommerce_buyer_id", "member_card")


def new_oneid_numbers(cur: duckdb.DuckDBPyConnection, n: int) -> int:
    """Take n consecutive OneID numbers from the sequence (inside the resolve transaction, which
    holds the store's write lock); returns the first."""
    first, last, count = one(cur, "SELECT min(v), max(v), count(*) FROM (SELECT nextval('oneid_seq') AS v FROM range(?))",
                                  [n])
    if count and last - first + 1 != count:
        raise RuntimeError("OneID numbers are not consecutive")
    return first or 0


def new_oneids(cur: duckdb.DuckDBPyConnection, n: int) -> list[str]:
    """n fresh OneIDs, in one query."""
    rows = cur.execute("SELECT nextval('oneid_seq') FROM range(?) ORDER BY 1", [n]).fetchall()
    return [f"OID{r[0]:010d}" for r in rows]


def active_decisions(cur: duckdb.DuckDBPyConnection) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(approved pairs, rejected pairs); a later decision on the same pair replaces an earlier one."""
    rows = cur.execute(DECIDED_SQL).fetchall()
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
    mode: str = "full"                # or "incremental"
    full_because: str | None = None   # why a full run (full_run_reason, or "asked")
    area: int | None = None           # records an incremental run clustered again

    def summary(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "timings"} | {
            "timings": {k: round(v, 3) for k, v in self.timings.items()}}


def _assign(cur: duckdb.DuckDBPyConnection, previous: str = "crosswalk") -> tuple[list[tuple], Counter]:
    """Give each cluster of `_clusters` (sizes in `_size`) a OneID in temp table `_oid(cluster, oneid)`, keeping previous
    ones (the crosswalk, or the part of it in the table `previous`) by largest overlap, older id on ties. A cluster and a previous OneID that
    only overlap each other keep it in SQL; the few contested ones (merges, splits) are matched
    greedily in Python. Returns the history events that name other OneIDs (oneid, event, related,
    records) and the count of every event; 'new' events and plain retirements go to `_events`."""
    cur.execute("CREATE OR REPLACE TEMP TABLE _ov AS SELECT c.cluster, p.oneid, count(*) AS n, "
                "count(*) OVER (PARTITION BY c.cluster) AS per_cluster, count(*) OVER (PARTITION BY p.oneid) AS per_oneid "
                f"FROM _clusters c JOIN {previous} p USING (rec_id) GROUP BY c.cluster, p.oneid")
    contested = cur.execute("SELECT cluster, oneid, n FROM _ov WHERE per_cluster > 1 OR per_oneid > 1").fetchall()
    kept: dict[str, int] = {}
    assigned: dict[int, str] = {}
    for cluster_id, oneid, _ in sorted(contested, key=lambda o: (-o[2], o[1], o[0])):
        if oneid not in kept and cluster_id not in assigned:
            kept[oneid] = cluster_id
            assigned[cluster_id] = oneid
    temp_table(cur, "_chosen", pa.table({"cluster": pa.array(list(assigned), pa.int64()),
                                         "oneid": pa.array(list(assigned.values()), pa.string())}))
    cur.execute("CREATE OR REPLACE TEMP TABLE _oid AS SELECT cluster, oneid FROM _ov WHERE per_cluster = 1 AND per_oneid = 1 "
                "UNION ALL SELECT cluster, oneid FROM _chosen")
    fresh = scalar(cur, "SELECT count(*) FROM _size WHERE cluster NOT IN (SELECT cluster FROM _oid)")
    first = new_oneid_numbers(cur, fresh)
    cur.execute("CREATE OR REPLACE TEMP TABLE _fresh AS SELECT cluster, n, 'OID' || lpad((? + row_number() OVER "
                "(ORDER BY cluster) - 1)::VARCHAR, 10, '0') AS oneid FROM _size WHERE cluster NOT IN (SELECT cluster FROM _oid)",
                [first])
    cur.execute("INSERT INTO _oid SELECT cluster, oneid FROM _fresh")
    # events: new clusters (and the OneIDs they came from), then merges and splits among the contested
    cur.execute("CREATE OR REPLACE TEMP TABLE _events AS SELECT f.oneid, 'new' AS event, v.related, f.n AS records "
                "FROM _fresh f LEFT JOIN (SELECT cluster, string_agg(oneid, ',' ORDER BY oneid) AS related FROM _ov "
                "WHERE per_cluster > 1 OR per_oneid > 1 GROUP BY cluster) v USING (cluster)")
    touched = {c for c, _, _ in contested}
    now = dict(cur.execute("SELECT o.cluster, o.oneid FROM _oid o WHERE o.cluster IN "
                           "(SELECT cluster FROM _ov WHERE per_cluster > 1 OR per_oneid > 1)").fetchall()) if touched else {}
    size = dict(cur.execute("SELECT cluster, n FROM _size WHERE cluster IN "
                            "(SELECT cluster FROM _ov WHERE per_cluster > 1 OR per_oneid > 1)").fetchall()) if touched else {}
    came_from: dict[int, set[str]] = {}
    spread: dict[str, set[int]] = {}
    for cluster_id, oneid, _ in contested:
        came_from.setdefault(cluster_id, set()).add(oneid)
        spread.setdefault(oneid, set()).add(cluster_id)
    events: list[tuple] = []
    absorbed_all: set[str] = set()
    for cluster_id in sorted(assigned):
        absorbed = sorted(o for o in came_from[cluster_id] if o != assigned[cluster_id] and o not in kept)
        if absorbed:
            events.append((assigned[cluster_id], "merge", ",".join(absorbed), size[cluster_id]))
            events += [(o, "retire", assigned[cluster_id], 0) for o in absorbed]
            absorbed_all.update(absorbed)
    for oneid in sorted(kept):
        went_to = sorted(now[c] for c in spread[oneid] if c != kept[oneid])
        if went_to:
            events.append((oneid, "split", ",".join(went_to), size[kept[oneid]]))
    temp_table(cur, "_gone", pa.table({"oneid": pa.array(sorted(absorbed_all), pa.string())}))
    cur.execute(f"INSERT INTO _events SELECT DISTINCT oneid, 'retire', NULL, 0 FROM {previous} WHERE oneid NOT IN "
                "(SELECT oneid FROM _oid) AND oneid NOT IN (SELECT oneid FROM _gone)")
    counts = Counter(e[1] for e in events)
    counts["new"] = fresh
    counts["retire"] += scalar(cur, "SELECT count(*) FROM _events WHERE event = 'retire'")
    return events, counts


def _held_sql(columns: list[str]) -> str:
    """The scored pairs (`_pairs`) the model never links by itself, whatever the threshold: a steward
    decides when the names differ, or when a record without a name matches on a mobile alone and
    that mobile is a household phone (records with different names share it): a shared phone
    outweighs everything else in the weights. An order shipped to someone else auto-links only to a
    record of its own buyer account: its receiver's contact is another person's (temp table
    `_shipping`)."""
    others = [c for c in columns if c.startswith("gamma_") and c not in ("gamma_name", "gamma_mobile")]
    guards = []
    if "gamma_name" in columns:
        guards.append("p.gamma_name IS DISTINCT FROM 0")
        others_agree = " OR ".join(f"coalesce(p.{c}, 0) > 0" for c in others) or "false"
        mobile_only = f"p.gamma_name = -1 AND NOT ({others_agree})"
        guards.append(f"NOT ({mobile_only} AND coalesce(p.mobile IN (SELECT mobile FROM _household), false))")
        household = household_mobiles_sql(among=f"SELECT p.mobile FROM _pairs p WHERE {mobile_only}")
    else:
        household = "SELECT NULL::VARCHAR AS mobile WHERE false"
    same_account = "coalesce(p.gamma_account, 0) > 0" if "gamma_account" in columns else "false"
    guards.append(f"({same_account} OR NOT EXISTS (SELECT 1 FROM _shipping x WHERE x.rid IN (p.rec_l, p.rec_r)))")
    return (f"WITH _household AS MATERIALIZED ({household}) "
            f"SELECT p.rec_l, p.rec_r FROM _pairs p WHERE NOT coalesce({' AND '.join(guards)}, false)")


# The pairs the model links by itself: at or above the auto-accept threshold (parameter) and not held
# back (`_held`). Decided pairs never auto-link: approvals link as reviews, rejections keep the records apart.
_AUTO_LINKS = ("SELECT p.rec_l, p.rec_r, p.match_probability FROM _pairs p WHERE p.match_probability >= ? "
               "AND NOT EXISTS (SELECT 1 FROM _decided d WHERE d.rec_l = p.rec_l AND d.rec_r = p.rec_r) "
               "AND NOT EXISTS (SELECT 1 FROM _held h WHERE h.rec_l = p.rec_l AND h.rec_r = p.rec_r)")


def _same_model(a: str | None, b: str) -> bool:
    """Whether two saved models (JSON) hold the same parameters; Splink's linker_uid aside."""
    try:
        left, right = json.loads(a or "null"), json.loads(b)
    except ValueError:
        return False
    if not isinstance(left, dict) or not isinstance(right, dict):
        return False
    return {k: v for k, v in left.items() if k != "linker_uid"} == {k: v for k, v in right.items() if k != "linker_uid"}


def _keep_unchanged_scores(cur: duckdb.DuckDBPyConnection, prediction: model.Prediction, review_low: float) -> int:
    """Give every scored pair (`_pairs`) whose evidence did not change since the last model run the
    score that run gave it, in temp table `_kept(rec_l, rec_r, match_probability, match_weight,
    weights)`; returns how many pairs kept theirs.

    With the same model, a pair's match weight still moves when unrelated records arrive: the
    name's term-frequency adjustment is computed from all the data, so a new batch makes an old
    pair's name rarer or commoner and pushes it across the auto-accept threshold, which merged or
    split existing customers that gained no record. A pair keeps its previous score when the last
    model run used the same model and scored it with the same weight for every comparison (the
    same comparison levels; only the term-frequency adjustment may differ). A retrained model, a
    record whose standardized values changed, and every pair with a new record are scored afresh;
    decisions, the name and household-phone guards and the thresholds apply to every pair as before."""
    cur.execute("CREATE OR REPLACE TEMP TABLE _kept (rec_l BIGINT, rec_r BIGINT, match_probability DOUBLE, "
                "match_weight DOUBLE, weights VARCHAR)")
    last = cur.execute("SELECT model_json FROM oneid_models ORDER BY run_id DESC LIMIT 1").fetchone()
    compared = [c for c in prediction.pairs.column_names if c.startswith("mw_") and not c.startswith("mw_tf_adj_")]
    if last is None or not compared or not _same_model(last[0], prediction.model_json):
        return 0
    same = " AND ".join(f"coalesce(abs(p.{c} - (m.weights ->> '{c[3:]}')::DOUBLE) < 1e-9, "
                        f"p.{c} IS NULL AND (m.weights ->> '{c[3:]}') IS NULL)" for c in compared)
    cur.execute(f"INSERT INTO _kept SELECT p.rec_l, p.rec_r, m.match_probability, m.match_weight, m.weights "
                f"FROM _pairs p JOIN match_pairs m ON m.rec_l = p.rec_l AND m.rec_r = p.rec_r WHERE {same}")
    cur.execute("UPDATE _pairs SET match_probability = k.match_probability, match_weight = k.match_weight FROM _kept k "
                "WHERE _pairs.rec_l = k.rec_l AND _pairs.rec_r = k.rec_r")
    cur.execute("DELETE FROM _pairs WHERE match_probability < ?", [review_low])  # kept below a raised review band
    return scalar(cur, "SELECT count(*) FROM _kept")


def _check_thresholds(auto_accept: float, review_low: float) -> None:
    if not 0 < review_low <= auto_accept <= 1:
        raise GovernanceError(f"The thresholds must satisfy 0 < review band start ({review_low}) <= "
                              f"auto-accept ({auto_accept}) <= 1.")


@dataclass
class RuleLinks:
    """The rule links worked out from the records of the store's `generation` (they hold while it
    stays), with the orders shipped to someone else they were worked out with."""
    links: pa.Table     # rec_l, rec_r, rule_id
    shipping: pa.Table  # rid, account: `_shipping`
    generation: int
    seconds: float


@dataclass
class Scoring(model.Prediction):
    """A prediction, and the rule links worked out beside it from the same records."""
    rules: RuleLinks | None = None


def predict(db: Database, review_low: float = REVIEW_LOW, model_json: str | None = None,
            engine: model.Engine | None = None) -> Scoring:
    """Score the blocked pairs from `review_low` up with the Splink model (trained, or `model_json`
    reused) and, while Splink works (on its own in-memory connection, in a thread), work out the
    rule links of the same records. Holds no write lock: the pipeline runs it before the
    transaction that writes the OneIDs."""
    started = time.perf_counter()
    with db.cursor():  # the store open (opening it moves the generation on), then the generation, then the snapshot:
        generation = db.generation  # a write between the two only makes the rule links look stale
        with db.snapshot() as cur:
            approved_pairs = active_decisions(cur)[0]
            records = model.input_table(cur)
            pool = ThreadPoolExecutor(max_workers=1)
            scored = pool.submit(model.predict, db, review_low, model_json=model_json, labels=approved_pairs,
                                 engine=engine, records=records)
            try:
                t = time.perf_counter()
                cur.execute(f"CREATE OR REPLACE TEMP TABLE _shipping AS {shipping_contacts_sql(cur)}")
                links = relation(cur, rule_links_sql(cur, shipping_ready=True)).to_arrow_table()
                rules = RuleLinks(links, relation(cur, "FROM _shipping").to_arrow_table(), generation,
                                  time.perf_counter() - t)
                prediction = scored.result()
            finally:
                pool.shutdown(wait=False, cancel_futures=True)  # a failure here does not wait for the scoring
    chaos_point("resolve.scored")
    return Scoring(prediction.pairs, prediction.model_json, time.perf_counter() - started, prediction.keys, rules)


def _rule_links(cur: duckdb.DuckDBPyConnection, links_sql: str) -> None:
    """Temp table `_links` (rec_l, rec_r, strength, placed_by) from a SELECT of rule_links_sql."""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _links AS SELECT rec_l, rec_r, ({_STRENGTH})::DOUBLE AS strength, "
                f"rule_id AS placed_by FROM ({links_sql})")


def full_run_reason(cur: duckdb.DuckDBPyConnection, model_json: str | None, auto_accept: float,
                    review_low: float) -> str | None:
    """Why the next run must score every pair again, or None when an incremental run gives what a full
    one would: 'first' (no run kept its links yet), 'model' (another model, or none),
    'thresholds', 'removed' (records left the store), 'restandardized' (records already resolved were
    standardized again: their old values may hold links), 'unmarked' (scored pairs kept from before
    their auto-link guards were recorded, `match_pairs.held`), 'rules' (another set of match and never-link
    rules is on: one was turned on or off, added, removed or changed), 'model_input' (a release changed
    how the model's input is computed) or 'many' (more than INCREMENTAL_SHARE of
    the records are new). A full run with the last model and thresholds keeps the outcome of unchanged
    pairs (`carry`) only after 'rules' or 'many': the others change what a pair's outcome depends on."""
    last = cur.execute("SELECT r.ts, r.mode, m.model_json, m.auto_accept, m.review_low, r.rules FROM oneid_runs r "
                       "LEFT JOIN oneid_models m USING (run_id) ORDER BY r.run_id DESC LIMIT 1").fetchone()
    if last is None or last[1] is None:
        return "first"
    if model_json is None or last[2] is None or not _same_model(last[2], model_json):
        return "model"
    if (last[3], last[4]) != (auto_accept, review_low):
        return "thresholds"
    if scalar(cur, f"SELECT count(*) FROM ({_BATCH_COUNTS}) WHERE placed > coalesce(records, 0)"):
        return "removed"
    if scalar(cur, "SELECT count(*) FROM std_batches WHERE standardized_at > ? AND batch_id IN "
                   "(SELECT DISTINCT batch_id FROM crosswalk)", [last[0]]):
        return "restandardized"
    if scalar(cur, "SELECT count(*) FROM (SELECT 1 FROM match_pairs WHERE held IS NULL LIMIT 1)"):
        return "unmarked"
    changed = _rules_changed(cur, last[5])
    if changed:
        return changed
    total, placed = one(cur, "SELECT (SELECT count(*) FROM std_records), (SELECT count(*) FROM crosswalk)")
    if total - placed > INCREMENTAL_SHARE * total:  # every placed record is still there (not 'removed')
        return "many"
    return None


def _input_fingerprint() -> str:
    return hashlib.sha256(model.INPUT_SQL.encode()).hexdigest()[:8]


def _rules_changed(cur: duckdb.DuckDBPyConnection, recorded: str | None) -> str | None:
    """'rules' when the rules differ from those `recorded` by the last run, 'model_input' when a
    release changed the model's input (then nothing of the last run is carried), else None."""
    if recorded == _recorded_rules(cur):
        return None
    return "rules" if (recorded or "").endswith(_input_fingerprint()) else "model_input"


def _recorded_rules(cur: duckdb.DuckDBPyConnection) -> str:
    """rule_set, and a fingerprint of the model's input: the blocking keys kept for incremental runs
    and every pair's comparison come from it, so a release that changes it makes the next run a
    full one that scores every pair afresh."""
    return rule_set(cur) + _input_fingerprint()


INCREMENTAL_SHARE = 0.2  # more of the records new or changed than this: scoring everything is as quick


def resolve(db: Database, actor: str, use_model: bool = True, model_json: str | None = None,
            auto_accept: float = AUTO_ACCEPT, review_low: float = REVIEW_LOW,
            prediction: model.Prediction | None = None, engine: model.Engine | None = None,
            full_because: str | None = "asked", afresh: bool = False) -> ResolveResult:
    """Run the rules and the model, honour steward decisions, cluster under constraints and assign
    stable OneIDs. `model_json` reuses a saved model instead of training one; `prediction` is a
    scoring already done by `predict`. Everything after the model runs in SQL inside one
    transaction, on temp tables. `full_because`: why this is a full run (full_run_reason), recorded
    with it. `afresh`: every pair's outcome is worked out again, none carried from the last run
    (the check of incremental runs uses it)."""
    _check_thresholds(auto_accept, review_low)
    if use_model and prediction is None:
        prediction = predict(db, review_low, model_json, engine)
    if not use_model:
        prediction = None
    timings: dict[str, float] = {"model": prediction.seconds} if prediction else {}
    started = time.perf_counter() - timings.get("model", 0.0)  # the total includes the scoring
    with db.transaction() as cur:
        if prediction is not None and prediction.keys is not None and prediction.keys.num_rows != scalar(
                cur, "SELECT count(*) FROM std_records"):  # records came or went since the scoring: score them too
            prediction = predict(db, review_low, prediction.model_json, engine)
        t = time.perf_counter()
        # with the last run's model and thresholds, the pairs of records that did not change keep its outcome
        carry = not afresh and prediction is not None and full_run_reason(
            cur, prediction.model_json, auto_accept, review_low) in (None, "rules", "many")
        # the rule links worked out beside the scoring hold when nothing was written since
        ready = prediction.rules if isinstance(prediction, Scoring) else None
        if ready is not None and ready.generation != db.generation:
            ready = None
        if carry:
            _changes(cur)
        elif ready:
            temp_table(cur, "_shipping", ready.shipping)
        else:
            cur.execute(f"CREATE OR REPLACE TEMP TABLE _shipping AS {shipping_contacts_sql(cur)}")
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _rec AS SELECT {REC_ID} AS rec_id, batch_id, row_number, source "
                    "FROM std_records")
        if ready:
            with arrow_view(cur, "_rule_links_in", ready.links):
                _rule_links(cur, "FROM _rule_links_in")
            timings["rules_beside_model"] = ready.seconds
        else:
            _rule_links(cur, rule_links_sql(cur, shipping_ready=True))
        timings["rules"] = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _decided AS {DECIDED_SQL}")
        if prediction is not None:
            _model_links(cur, prediction, auto_accept, review_low, carry)
        cur.execute("DELETE FROM oneid_links")
        cur.execute("INSERT INTO oneid_links SELECT * FROM _links")
        _write_keys(cur, prediction)
        _add_decisions(cur)
        graph = cluster_records(cur, never_link_sql(cur), kept_apart_sql(cur, every_record=True), WHOLE_GROUP_RULES)
        timings["cluster"] = time.perf_counter() - t
        t = time.perf_counter()
        run_id = scalar(cur, "SELECT nextval('oneid_run_seq')")
        events, counts = _assign(cur)
        serving.drop(cur, "crosswalk")
        cur.execute("DELETE FROM crosswalk")
        _write_crosswalk(cur, run_id)
        if carry:
            _forget_rescored_pairs(cur)
        elif prediction is not None:
            cur.execute("DELETE FROM match_pairs")
        timings["assign"] = time.perf_counter() - t
        return _finish(cur, actor, run_id, prediction, graph, events, counts, timings, started, auto_accept, review_low,
                       full_because)


def resolve_changed(db: Database, actor: str, model_json: str, auto_accept: float = AUTO_ACCEPT,
                    review_low: float = REVIEW_LOW, engine: model.Engine | None = None) -> ResolveResult:
    """Resolve only what changed since the last run, with its model and thresholds: the new records,
    those whose order is now taken for one shipped to someone else (or no longer), those whose
    nickname or other ID the new records made common, and those of decisions made or undone since.
    Their pairs are scored (against every record they could match), the rule groups they belong to
    are linked again, and only the clusters those links reach are clustered again; every other
    OneID, link and score stays. The result is what a full run gives (full_run_reason says when it
    would not be, and then this runs a full one). Runs in one transaction, scoring included."""
    _check_thresholds(auto_accept, review_low)
    started = time.perf_counter()
    with db.transaction() as cur:
        reason = full_run_reason(cur, model_json, auto_accept, review_low)
        if reason is not None:
            return resolve(db, actor, model_json=model_json, auto_accept=auto_accept, review_low=review_low, engine=engine,
                           full_because=reason)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        last_run, erased = _changes(cur)
        timings["changes"] = time.perf_counter() - t
        t = time.perf_counter()
        scoring = model.changed_scoring(cur, review_low, model_json, engine, _update_keys(cur, model_json))
        timings["model"] = time.perf_counter() - t
        # the model scores on its own connection while the rule links are worked out here; a failure
        # here does not wait for the scoring (its result is dropped)
        pool = ThreadPoolExecutor(max_workers=1)
        scored = pool.submit(scoring)
        try:
            t = time.perf_counter()
            rules = enabled_rules(cur)
            cur.execute(f"CREATE OR REPLACE TEMP TABLE _rscope AS {rule_scope_sql(rules, '_rule_seed')}")
            links_sql = rule_links_sql(cur, rules, True, scope='_rscope', table='_scoped')
            cur.execute(f"CREATE OR REPLACE TEMP TABLE _scoped AS SELECT {_columns_named(cur, links_sql)} FROM std_records "
                        f"WHERE {rows_of(cur, '_rscope', '_scoped_rows')}")
            _rule_links(cur, links_sql)
            timings["rules"] = time.perf_counter() - t
            t = time.perf_counter()
            prediction = scored.result()
            timings["model"] += time.perf_counter() - t
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        t = time.perf_counter()
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _decided AS {DECIDED_SQL}")
        _model_links(cur, prediction, auto_accept, review_low)
        # the links that go: those of the rule groups linked again, the model links of the records scored again
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _gone_links AS SELECT rowid AS row_id, rec_l, rec_r FROM oneid_links l "
                    f"WHERE EXISTS (SELECT 1 FROM _rscope s WHERE s.rule_id = l.placed_by AND s.rid = l.rec_r) "
                    f"OR (starts_with(placed_by, 'model:') AND (rec_l IN (SELECT rid FROM {model.RESCORE}) "
                    f"OR rec_r IN (SELECT rid FROM {model.RESCORE})))")
        cur.execute("DELETE FROM oneid_links WHERE rowid IN (SELECT row_id FROM _gone_links)")
        cur.execute("INSERT INTO oneid_links SELECT * FROM _links")
        # the area clustered again: every record a changed link or decision touches, closed under the
        # link graph and the OneIDs its records had
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _area AS SELECT rid FROM {model.RESCORE} UNION SELECT unnest([rec_l, rec_r]) "
                    "FROM _gone_links UNION SELECT unnest([rec_l, rec_r]) FROM _links")
        cur.execute("CREATE OR REPLACE TEMP TABLE _all_links AS SELECT rec_l, rec_r FROM oneid_links UNION ALL "
                    "SELECT rec_l, rec_r FROM _decided WHERE decision = 'approve'")
        size = scalar(cur, "SELECT count(*) FROM _area")
        while True:
            cur.execute("INSERT INTO _area (SELECT rec_id FROM crosswalk WHERE oneid IN (SELECT oneid FROM crosswalk "
                        "WHERE rec_id IN (SELECT rid FROM _area)) UNION SELECT rec_r FROM _all_links WHERE rec_l IN "
                        "(SELECT rid FROM _area) UNION SELECT rec_l FROM _all_links WHERE rec_r IN (SELECT rid FROM _area)) "
                        "EXCEPT SELECT rid FROM _area")
            size, before = scalar(cur, "SELECT count(*) FROM _area"), size
            if size == before:
                break
        area_rows = rows_of(cur, "_area", "_area_rows")
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _rec AS SELECT {REC_ID} AS rec_id, batch_id, row_number, source "
                    f"FROM std_records WHERE {area_rows}")
        cur.execute("CREATE OR REPLACE TEMP TABLE _links AS SELECT * FROM oneid_links WHERE rec_l IN (SELECT rec_id FROM _rec)")
        _add_decisions(cur)
        apart_sql = kept_apart_sql(cur)
        if apart_sql:  # read from a copy of the area's records (few, spread over the store)
            cur.execute(f"CREATE OR REPLACE TEMP TABLE _area_records AS SELECT {_columns_named(cur, apart_sql)} "
                        f"FROM std_records WHERE {area_rows}")
            apart_sql = apart_sql.replace("FROM std_records", "FROM _area_records")
        graph = cluster_records(cur, never_link_sql(cur), apart_sql, WHOLE_GROUP_RULES)
        timings["cluster"] = time.perf_counter() - t
        t = time.perf_counter()
        run_id = scalar(cur, "SELECT nextval('oneid_run_seq')")
        cur.execute("CREATE OR REPLACE TEMP TABLE _xw AS SELECT * FROM crosswalk WHERE rec_id IN (SELECT rec_id FROM _rec)")
        events, counts = _assign(cur, previous="_xw")
        serving.drop(cur, "crosswalk", size)
        cur.execute("DELETE FROM crosswalk WHERE rec_id IN (SELECT rec_id FROM _rec)")
        _write_crosswalk(cur, run_id)
        # the flags of the clusters left alone stay
        cur.execute("INSERT INTO cluster_flags SELECT ?, oneid, reason, rec_l, rec_r, placed_by FROM cluster_flags "
                    "WHERE run_id = ? AND oneid NOT IN (SELECT oneid FROM _xw)", [run_id, last_run])
        _forget_rescored_pairs(cur)
        # the OneIDs now: the last run's, less those of the area (it holds whole OneIDs), plus its clusters;
        # counted again after an erasure (a OneID may have gone with its records)
        last_oneids = scalar(cur, "SELECT clusters FROM oneid_runs WHERE run_id = ?", [last_run])
        oneids = None if erased or last_oneids is None else (
            last_oneids - scalar(cur, "SELECT count(DISTINCT oneid) FROM _xw") + graph.clusters)
        timings["assign"] = time.perf_counter() - t
        return _finish(cur, actor, run_id, prediction, graph, events, counts, timings, started, auto_accept, review_low,
                       None, area=size, oneids=oneids)


def _columns_named(cur: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The columns of std_records that `sql` names, quoted, and the record's key: a copy of a few rows
    needs no more (a third of the table's width for the rules; the key alone with every rule off)."""
    words = set(re.findall(r"\w+", sql)) | {"batch_id", "row_number"}
    return ", ".join(f'"{c}"' for (c,) in cur.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = 'std_records' "
        "ORDER BY column_index").fetchall() if c in words)


# Per batch, its records and those placed in the crosswalk. A run places every record, and records
# enter a batch only when it is standardized again ('restandardized'): a batch that holds fewer
# records than it has placed lost some ('removed'), one that holds more has new ones.
_BATCH_COUNTS = ("SELECT batch_id, s.n AS records, c.n AS placed FROM (SELECT batch_id, count(*) AS n FROM std_records "
                 "GROUP BY ALL) s FULL JOIN (SELECT batch_id, count(*) AS n FROM crosswalk GROUP BY ALL) c USING (batch_id)")
_UNPLACED_BATCHES = f"SELECT batch_id FROM ({_BATCH_COUNTS}) WHERE records IS DISTINCT FROM placed"


def _changes(cur: duckdb.DuckDBPyConnection) -> tuple[int, bool]:
    """What changed since the last run (returned, with whether records were erased since): temp
    tables `_shipping` (now), `_seed` (new records, records an erasure touched (`note_erasure`), and
    orders taken, or no longer, for ones shipped to someone else), `_rule_seed` (those, and the
    records whose nickname the new ones made common for a rule), `_rekey` (the new and touched
    records, and those whose nickname or other ID stopped being rare because of the new ones: their
    model input changed) and `_rescore`: those, every record on the
    seeds' mobiles (whether a phone is a household's decides model links) and the records of
    decisions made or undone since."""
    last_run, last_ts, last_records = one(cur, "SELECT run_id, ts, records FROM oneid_runs ORDER BY run_id DESC LIMIT 1")
    # only the batches with records not placed (their counts differ: no placed record was removed) are read
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _unplaced AS {_UNPLACED_BATCHES}")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _new AS SELECT {REC_ID} AS rid FROM std_records "
                f"WHERE batch_id IN (SELECT batch_id FROM _unplaced) AND {REC_ID} NOT IN "
                "(SELECT rec_id FROM crosswalk WHERE batch_id IN (SELECT batch_id FROM _unplaced))")
    # New records can only take an order for one shipped to someone else in an account they add orders
    # to or whose receiver they show to hold another account, and can only give one back (a record now
    # carries the payer's name) in an account that had one.
    # A record erased since (retention, a deletion request; every record is placed at the end of a run)
    # can change any account's: then every account is worked out again.
    erased = last_records is None or scalar(cur, "SELECT count(*) FROM crosswalk") < last_records
    accounts = None
    if not erased:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _accounts AS SELECT account FROM oneid_shipping "
                    f"UNION {order_accounts_sql(rec_id_in('_new'))} UNION {receiver_accounts_sql(rec_id_in('_new'))}")
        accounts = "SELECT account FROM _accounts"
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _shipping AS {shipping_contacts_sql(cur, accounts)}")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _seed AS SELECT rid FROM _new UNION {_TOUCHED} "
                "UNION (SELECT rid FROM _shipping EXCEPT SELECT rec_id FROM oneid_shipping) "
                "UNION (SELECT rec_id FROM oneid_shipping EXCEPT SELECT rid FROM _shipping)")
    # the rules link again also the records whose nickname the new ones made common (the model's
    # input of those did not change: they are not scored again for it)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _rule_seed AS SELECT rid FROM _seed "
                f"UNION {nickname_cap_crossed_sql('_new')}")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _rekey AS SELECT rid FROM _new UNION {_TOUCHED} "
                f"UNION {model.no_longer_rare_sql('_new')}")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {model.RESCORE} AS SELECT rid FROM _seed UNION SELECT rid FROM _rekey "
                f"UNION SELECT {REC_ID} FROM std_records WHERE mobile_status IN {VALID_SQL} AND mobile IN "
                f"(SELECT mobile FROM std_records WHERE mobile_status IN {VALID_SQL} AND {rec_id_in('_seed')}) "
                "UNION SELECT unnest([rec_l, rec_r]) FROM review_decisions WHERE ts > ? OR undone_at > ?", [last_ts, last_ts])
    return last_run, erased


# records an erasure touched (note_erasure), resolved again by the next run; a later erasure of one
# removes its row here too (it has a rec_id)
TOUCHED = "oneid_touched"
_TOUCHED = f"SELECT rec_id FROM {TOUCHED}"


def note_erasure(cur: duckdb.DuckDBPyConnection, erased: str) -> None:
    """Before the records of temp table `erased(rec_id)` are erased, note the records whose resolution
    they bear on, for the next run (`_changes`): those of their OneIDs, of their links, of their rule
    groups, on their phones (a household's phone may be one no more), and those whose nickname or
    other ID is common only with them."""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _erased AS SELECT DISTINCT rec_id AS rid FROM {erased}")
    cur.execute(
        f"INSERT INTO {TOUCHED} SELECT rec_id FROM crosswalk WHERE oneid IN "
        "(SELECT oneid FROM crosswalk WHERE rec_id IN (SELECT rid FROM _erased)) "
        "UNION SELECT unnest([rec_l, rec_r]) FROM oneid_links WHERE rec_l IN (SELECT rid FROM _erased) "
        "OR rec_r IN (SELECT rid FROM _erased) "
        f"UNION SELECT rid FROM ({rule_scope_sql(enabled_rules(cur), '_erased')}) "
        f"UNION SELECT {REC_ID} FROM std_records WHERE mobile_status IN {VALID_SQL} AND mobile IN "
        f"(SELECT mobile FROM std_records WHERE mobile_status IN {VALID_SQL} AND {rec_id_in('_erased')}) "
        f"UNION {model.no_longer_rare_sql('_erased')} UNION {nickname_cap_crossed_sql('_erased')} "
        "EXCEPT SELECT rid FROM _erased")
    cur.execute("DROP TABLE _erased")


_STRENGTH = "CASE rule_id " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in RULE_STRENGTH.items()) + " ELSE 40.0 END"


def _model_links(cur: duckdb.DuckDBPyConnection, prediction: model.Prediction, auto_accept: float,
                 review_low: float, carry: bool = False) -> None:
    """The scored pairs (`_pairs`, old scores kept where the evidence did not change) and the ones
    the model links by itself (`_auto`), added to `_links`. `carry`: the pairs of two records outside
    `_rescore` keep the last run's outcome (score and band, or below the band), as an incremental
    run leaves them."""
    temp_table(cur, "_pairs", prediction.pairs)
    _keep_unchanged_scores(cur, prediction, review_low)
    if carry:
        cur.execute(f"DELETE FROM _pairs WHERE rec_l NOT IN (SELECT rid FROM {model.RESCORE}) "
                    f"AND rec_r NOT IN (SELECT rid FROM {model.RESCORE})")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _held AS {_held_sql(prediction.pairs.column_names)}")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _auto AS {_AUTO_LINKS}", [auto_accept])
    if carry:
        cur.execute(f"INSERT INTO _auto SELECT rec_l, rec_r, match_probability FROM match_pairs WHERE band = 'auto' "
                    f"AND rec_l NOT IN (SELECT rid FROM {model.RESCORE}) AND rec_r NOT IN (SELECT rid FROM {model.RESCORE})")
    cur.execute("INSERT INTO _links SELECT rec_l, rec_r, match_probability, 'model:' || printf('%.4f', match_probability) "
                "FROM _auto")


KEYS = "oneid_keys"  # the blocking keys of every record (model.keys_sql), for incremental runs; built at run time


def _write_keys(cur: duckdb.DuckDBPyConnection, prediction: model.Prediction | None) -> None:
    if prediction is None or prediction.keys is None:
        cur.execute(f"DROP TABLE IF EXISTS {KEYS}")
        return
    with arrow_view(cur, "_keys_in", prediction.keys):  # rec_id: erasure finds the table by it
        cur.execute(f"CREATE OR REPLACE TABLE {KEYS} AS SELECT unique_id AS rec_id, * EXCLUDE (unique_id) FROM _keys_in")


def _update_keys(cur: duckdb.DuckDBPyConnection, model_json: str) -> str | None:
    """Bring the kept keys up to date for the records of `_rekey`; returns the table, or None when it
    is missing or lacks a key column of the model."""
    saved = json.loads(model_json)
    have = {c for (c,) in cur.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' "
                                      "AND table_name = ?", [KEYS]).fetchall()}
    if not have or not set(model.key_columns(saved)) <= have:
        return None
    cur.execute(f"DELETE FROM {KEYS} WHERE rec_id IN (SELECT rid FROM _rekey)")
    cur.execute(f"INSERT INTO {KEYS} BY NAME SELECT unique_id AS rec_id, * EXCLUDE (unique_id) "
                f"FROM ({model.keys_sql(saved, rec_id_in('_rekey'))})")
    return KEYS


def _forget_rescored_pairs(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(f"DELETE FROM match_pairs WHERE rec_l IN (SELECT rid FROM {model.RESCORE}) "
                f"OR rec_r IN (SELECT rid FROM {model.RESCORE})")


def _add_decisions(cur: duckdb.DuckDBPyConnection) -> None:
    """Approvals between records of `_rec` join `_links`; rejections go to `_cannot`."""
    cur.execute(f"INSERT INTO _links SELECT rec_l, rec_r, {REVIEW_STRENGTH}, 'review' FROM _decided WHERE decision = "
                "'approve' AND rec_l <> rec_r AND rec_l IN (SELECT rec_id FROM _rec) AND rec_r IN (SELECT rec_id FROM _rec)")
    cur.execute("CREATE OR REPLACE TEMP TABLE _cannot AS SELECT rec_l, rec_r, 'cannot_link' AS reason FROM _decided "
                "WHERE decision = 'reject'")


def _write_crosswalk(cur: duckdb.DuckDBPyConnection, run_id: int) -> None:
    cur.execute(f"INSERT INTO crosswalk SELECT c.rec_id, c.batch_id, c.row_number, c.source, o.oneid, c.placed_by, "
                f"{run_id} FROM _clusters c JOIN _oid o USING (cluster) ORDER BY c.rec_id")  # reads by record skip row groups
    chaos_point("resolve.crosswalk_written")


def _finish(cur: duckdb.DuckDBPyConnection, actor: str, run_id: int, prediction: model.Prediction | None,
            graph, events: list[tuple], counts: Counter, timings: dict[str, float], started: float, auto_accept: float,
            review_low: float, full_because: str | None, area: int | None = None,
            oneids: int | None = None) -> ResolveResult:
    """What every run writes once the crosswalk is: history, flags, the scored pairs, the model, the
    shipped orders, the run and its audit row; then the temp tables go. An incremental run passes the
    size of its `area` and the OneIDs it leaves when it knows them."""
    t = time.perf_counter()
    now = utcnow()
    temp_table(cur, "_history", pa.table({
        "oneid": pa.array([e[0] for e in events], pa.string()), "event": pa.array([e[1] for e in events], pa.string()),
        "related": pa.array([e[2] for e in events], pa.string()), "records": pa.array([e[3] for e in events], pa.int64())}))
    cur.execute("INSERT INTO oneid_history SELECT ?, oneid, event, related, records, ? FROM "
                "(FROM _events UNION ALL FROM _history)", [run_id, now])
    flags: list[tuple[int, str, int | None, int | None, str | None]] = [
        (c, reason, link.left, link.right, link.placed_by) for link, reason, c in graph.cuts]
    flags += [(c, reason, link.left if link else None, link.right if link else None, link.placed_by if link else None)
              for c, reason, link in graph.spots]
    if flags:
        temp_table(cur, "_flags", pa.table({
            "cluster": pa.array([f[0] for f in flags], pa.int64()), "reason": pa.array([f[1] for f in flags], pa.string()),
            "rec_l": pa.array([f[2] for f in flags], pa.int64()), "rec_r": pa.array([f[3] for f in flags], pa.int64()),
            "placed_by": pa.array([f[4] for f in flags], pa.string())}))
        cur.execute("INSERT INTO cluster_flags SELECT ?, o.oneid, f.reason, f.rec_l, f.rec_r, f.placed_by "
                    "FROM _flags f JOIN _oid o USING (cluster)", [run_id])
    n_pairs = n_auto = n_queue = 0
    if prediction is not None:
        weight_cols = [c for c in prediction.pairs.column_names if c.startswith("mw_")]
        weights = ("to_json({" + ", ".join(f"'{c[3:]}': {c}" for c in weight_cols) + "})") if weight_cols else "NULL"
        cur.execute(f"INSERT INTO match_pairs SELECT ?, p.rec_l, p.rec_r, p.match_probability, p.match_weight, "
                    f"CASE WHEN EXISTS (SELECT 1 FROM _auto k WHERE k.rec_l = p.rec_l AND k.rec_r = p.rec_r) "
                    f"THEN 'auto' ELSE 'review' END, coalesce(kept.weights, {weights}), "
                    f"EXISTS (SELECT 1 FROM _held h WHERE h.rec_l = p.rec_l AND h.rec_r = p.rec_r) FROM _pairs p "
                    f"LEFT JOIN _kept kept ON kept.rec_l = p.rec_l AND kept.rec_r = p.rec_r", [run_id])
        cur.execute("INSERT INTO oneid_models VALUES (?, ?, ?, ?)", [run_id, prediction.model_json, auto_accept, review_low])
        n_pairs, n_auto = one(cur, "SELECT count(*), count(*) FILTER (WHERE band = 'auto') FROM match_pairs")
        n_queue = review_queue_size(cur)
    cur.execute("DELETE FROM oneid_shipping")
    cur.execute("INSERT INTO oneid_shipping SELECT rid, account FROM _shipping")
    cur.execute(f"DELETE FROM {TOUCHED}")
    n_records = scalar(cur, "SELECT count(*) FROM std_records")
    n_links = scalar(cur, "SELECT count(*) FROM oneid_links") + scalar(
        cur, "SELECT count(*) FROM _decided WHERE decision = 'approve' AND rec_l <> rec_r")
    clusters, cuts, flagged = graph.clusters, len(graph.cuts), len(graph.flagged | {c for c, _, _ in graph.spots})
    if area is not None:  # the clusters left alone keep their flags: count this run's, carried ones included
        clusters = oneids if oneids is not None else scalar(cur, "SELECT count(DISTINCT oneid) FROM crosswalk")
        cuts, flagged = one(cur, "SELECT count(*) FILTER (WHERE reason NOT IN ('large', 'weak_bridge')), count(DISTINCT oneid) "
                                 "FROM cluster_flags WHERE run_id = ?", [run_id])
    for table in ("_rec", "_links", "_decided", "_pairs", "_held", "_auto", "_cannot", "_clusters", "_ov", "_size", "_oid",
                  "_fresh", "_events", "_chosen", "_gone", "_history", "_flags", "_kept", "_shipping", "_seed", "_rule_seed", "_scoped", "_scoped_rows", "_accounts", "_new",
                  "_unplaced", "_rekey", model.RESCORE, "_rscope", "_gone_links", "_area", "_area_rows", "_area_records", "_all_links", "_xw"):
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    timings["assign"] = time.perf_counter() - t + timings.pop("assign", 0.0)
    timings["total"] = time.perf_counter() - started
    mode = "full" if area is None else "incremental"
    res = ResolveResult(run_id, n_records, n_links, n_pairs, n_auto, n_queue, clusters, counts["new"],
                        counts["merge"], counts["split"], counts["retire"], cuts, flagged, timings, mode, full_because, area)
    cur.execute("INSERT INTO oneid_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, actor, now, timings["total"], res.records, res.links, res.model_pairs, res.auto_links,
                 res.queue, res.clusters, res.new, res.merged, res.split, res.retired, res.cuts, res.flagged, mode, _recorded_rules(cur)])
    audit.record(cur, actor, Event.ONEID_RESOLVE, "oneid_run", run_id, res.summary())
    return res


def run_model(cur: duckdb.DuckDBPyConnection, run_id: int) -> str | None:
    """The model JSON a run scored with (None for a run on rules and decisions only)."""
    row = cur.execute("SELECT model_json FROM oneid_models WHERE run_id = ?", [run_id]).fetchone()
    return row[0] if row else None


def review_queue_size(cur: duckdb.DuckDBPyConnection) -> int:
    """Pairs in the review band that no steward has decided yet."""
    return scalar(cur,
        "SELECT count(*) FROM match_pairs p WHERE band = 'review' AND NOT EXISTS (SELECT 1 FROM review_decisions d "
        "WHERE d.undone_at IS NULL AND least(d.rec_l, d.rec_r) = p.rec_l AND greatest(d.rec_l, d.rec_r) = p.rec_r)"
    )


def crosswalk_frame(cur: duckdb.DuckDBPyConnection):
    """One row per ingested source row: source, row_number, oneid, what placed it, and the sub-account keys."""
    keys = ", ".join(f"s.{k}" for k in SUB_ACCOUNTS)
    return cur.execute(f"SELECT c.source, c.row_number, c.oneid, c.placed_by, {keys} FROM crosswalk c "
                       "JOIN std_records s USING (batch_id, row_number) ORDER BY c.source, c.row_number").df()
