"""The one place where stages are chained. The CLI, the pages and the first start call these.

    load a file ──► standardize (+ keep erased people aside, import consent flags)
                                 ├──► refresh quality: profile and score
                                 └──► resolve (OneIDs) ──► publish golden records ──► tags, scorecard
                                        ▲
    decision, split, merge ─────────────┘ (re-run)      overrides, rules ──► golden records ──► tags

Each step runs in one transaction that the pipeline holds: the stages open their own as usual
and join it (see `store.storage`), so a multi-step operation commits once or not at all. One
exception keeps the store writable for others: `resolve` standardizes stale batches and lets
Splink score before it opens the transaction that writes OneIDs and golden records.

`after_upload` and `apply_decisions` are what runs on by itself as a background job
(governance/jobs): the rest of the pipeline once an upload is stored, and a re-resolve once review
decisions wait. Steps that take `progress` call it as progress(fraction 0..1, stage).
"""
from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from governance import synth
from governance.audiences import library as audience_library
from governance.audiences import push
from governance.events import events
from governance.exports import datasets
from governance.golden import overrides, survivorship
from governance.oneid import (
    calibration,
    review,
    spark,  # works without PySpark: scoring on Spark then fails with one line
)
from governance.oneid import resolve as oneid_resolve
from governance.oneid.model import Engine
from governance.privacy import consent, dsr, retention, suppression
from governance.quality import profile
from governance.sources import ingest
from governance.standardize import engine
from governance.store import tabular
from governance.store.chaos import chaos_point
from governance.store.errors import DuplicateFileError, GovernanceError, log_incident
from governance.store.storage import Database, one, scalar
from governance.tags import compute as tag_compute
from governance.tags import library as tag_library
from governance.tags import scorecard

Progress = Callable[[float, str], None]  # progress(fraction 0..1, stage), as the steps report it

DEMO_CUSTOMERS = 3000
DEMO_SEED = 20261129

_log = logging.getLogger(__name__)


# ---- loading and standardizing -------------------------------------------------------------

def standardize(db: Database, actor: str, batch_ids: list[int] | None = None, progress=None) -> engine.StandardizeResult:
    """Standardize the given batches (default: every stale one), keep the rows of erased people
    aside (tombstones), write their purchase and order events, and import the consent flags of new rows."""
    with db.transaction() as cur:
        result = engine.standardize(db, actor, batch_ids, keep_aside=suppression.apply, progress=progress)
        chaos_point("standardize.written")
        if result.batches:
            events.build(cur, result.batches)
            consent.import_from_sources(db, actor)
    return result


@dataclass
class Loaded:
    ingested: ingest.IngestResult
    standardized: engine.StandardizeResult

    def summary(self) -> dict:
        return self.ingested.summary() | {"standardized": self.standardized.records,
                                          "suppressed": self.standardized.suppressed}


def load_file(db: Database, actor: str, file: Path | ingest.IngestPlan, progress=None, **options) -> Loaded:
    """Ingest a file (a path, or a plan the upload page prepared) as a new batch and standardize it.
    `options` go to ingest (source, channel, mapping, encoding, sheet, force, …). The same file
    again finishes its batch if that was stored but never standardized (an earlier release
    committed the two steps apart, so a crash between them left such a batch); otherwise it is
    refused as a duplicate unless forced."""
    with db.transaction():
        try:
            if isinstance(file, Path):
                result = ingest.ingest_file(db, file, actor=actor, progress=progress, **options)
            else:
                result = ingest.ingest(db, file, actor=actor, progress=progress, **options)
        except DuplicateFileError as exc:
            with db.cursor() as cur:
                if not ingest.never_standardized(cur, exc.batch_id):
                    raise
                result = ingest.stored_batch(cur, exc.batch_id)
        chaos_point("ingest.stored")
        return Loaded(result, standardize(db, actor, [result.batch_id]))


@dataclass
class Refresh:
    standardized: engine.StandardizeResult
    run: profile.ProfileRun
    records: int

    @property
    def score(self) -> float | None:
        return self.run.score


def refresh_quality(db: Database, actor: str, progress=None) -> Refresh:
    """Standardize what is stale, then profile and score every source."""
    with db.transaction() as cur:
        standardized = standardize(db, actor, progress=(lambda f, s: progress(f * 0.6, s)) if progress else None)
        if progress:
            progress(0.7, "profile")
        run = profile.run_profile(db, actor)
        records = scalar(cur, "SELECT count(*) FROM std_records")
    if progress:
        progress(1.0, "done")
    return Refresh(standardized, run, records)


# ---- OneID and golden records --------------------------------------------------------------

@dataclass
class Resolved:
    oneid: oneid_resolve.ResolveResult
    golden: survivorship.RefreshResult
    tags: tag_compute.ComputeResult | None = None


def resolve(db: Database, actor: str, *, use_model: bool = True, model_json: str | None = None, retrain: bool = False,
            auto_accept: float | None = None, review_low: float | None = None, full: bool = False,
            engine: Engine | None = None, progress: Progress | None = None) -> Resolved:
    """Standardize what is stale, resolve OneIDs (rules, model, steward decisions) and publish the
    golden records. Without `model_json` the latest saved model scores again (a new batch then moves
    no existing OneID it does not join); a model is trained only for the first run or on `retrain`.
    Without thresholds, the last run's (else the defaults).

    With the last run's model and thresholds, only what changed since is resolved (incremental, in
    the writing transaction); otherwise, or when `full`, every pair is scored again, before the
    writing transaction opens, so the store stays writable for others (sign-ins, reveals) while
    Splink trains; inside a transaction the caller holds (a split or merge), it scores there.
    `engine` scores on another engine (Spark). Tags are computed for what changed once that has
    committed. `progress(fraction, stage)` hears the stages standardize, score, link, golden, tags and done."""
    report = progress or _silent
    report(0.0, "standardize")
    standardize(db, actor)  # a step of its own: standardizing stale batches is safe to keep alone
    with db.cursor() as cur:
        saved = review.latest_model(cur)
    if use_model and model_json is None and not retrain:
        model_json = saved["model_json"] if saved else None
    auto_accept = auto_accept if auto_accept is not None else saved["auto_accept"] if saved else oneid_resolve.AUTO_ACCEPT
    review_low = review_low if review_low is not None else saved["review_low"] if saved else oneid_resolve.REVIEW_LOW
    reason: str | None = ("no_model" if not use_model else "asked" if full else None if model_json is not None
                          else "model")
    if reason is None:
        with db.cursor() as cur:
            reason = oneid_resolve.full_run_reason(cur, model_json, auto_accept, review_low)
    report(0.1, "score")
    prediction = oneid_resolve.predict(db, review_low, model_json, engine) if use_model and reason else None
    report(0.7, "link")
    with db.transaction():  # the crosswalk and its golden records land together, or neither does
        if reason is None and model_json is not None:
            result = oneid_resolve.resolve_changed(db, actor, model_json, auto_accept, review_low, engine)
        else:
            result = oneid_resolve.resolve(db, actor, use_model=use_model, auto_accept=auto_accept, review_low=review_low,
                                           prediction=prediction, full_because=reason)
        report(0.85, "golden")
        resolved = Resolved(result, survivorship.refresh_golden(db))
    chaos_point("resolve.committed")
    report(0.95, "tags")
    resolved.tags = refresh_tags(db, actor, trigger="resolve")
    report(1.0, "done")
    return resolved


def scoring_engine(name: str = "duckdb", master: str | None = None, conf: list[str] | None = None,
                   scratch: Path | None = None) -> Engine | None:
    """The engine that scores pairs: None for DuckDB (in process), or Spark at `master` (default
    local[*]; spark://… for a cluster) with `conf` items key=value, exchanging Parquet in
    `scratch` (a folder every executor sees at the same path; default a private temporary one)."""
    if name == "duckdb":
        if master or conf or scratch:
            raise GovernanceError("--spark-master, --spark-conf and --spark-scratch apply only with --engine spark.")
        return None
    if name != "spark":
        raise GovernanceError(f"Unknown engine {name!r}: choose duckdb or spark.")
    if (master or "").startswith("sc://"):  # the engine needs a SparkContext: checkpoints, the similarity jar's functions
        raise GovernanceError("Spark Connect (sc://) is not supported: give a spark:// master or local[N].")
    return functools.partial(spark.score, options=spark.SparkOptions(master or "local[*]", spark.parse_conf(conf or []),
                                                                     scratch))


def rerun(db: Database, actor: str, progress: Progress | None = None, train_first: bool = False) -> Resolved:
    """Resolve again after a decision, split, merge or upload: with the saved model and thresholds
    (no training). Before any model run: rules and decisions alone, or with `train_first` a first
    model is trained."""
    with db.cursor() as cur:
        saved = review.latest_model(cur)
    if saved:
        return resolve(db, actor, model_json=saved["model_json"], auto_accept=saved["auto_accept"],
                       review_low=saved["review_low"], progress=progress)
    return resolve(db, actor, use_model=train_first, progress=progress)


# ---- what runs on by itself (background jobs, governance/jobs) ------------------------------

def _silent(fraction: float, stage: str) -> None:
    """A progress callback that reports nowhere."""


def _within(progress: Progress | None, low: float, high: float, stage: str | None = None) -> Progress | None:
    """A step's progress mapped into [low, high] of a longer one; under `stage`, when given,
    instead of the step's own stage names."""
    if progress is None:
        return None
    outer = progress
    return lambda fraction, own: outer(low + (high - low) * fraction, stage or own)


@dataclass
class AfterUpload:
    quality: Refresh
    resolved: Resolved

    def summary(self) -> dict:
        oneid = self.resolved.oneid
        return {"records": self.quality.records, "score": self.quality.score, "oneids": oneid.clusters,
                "auto_links": oneid.auto_links, "queue": oneid.queue, "golden_records": self.resolved.golden.oneids}


def after_upload(db: Database, actor: str, progress: Progress | None = None) -> AfterUpload:
    """What follows an upload, run on by itself: standardize what is stale, profile and score every
    source, resolve OneIDs (with the saved model and thresholds; the first run trains one) and
    publish the golden records. Each step commits on its own, so a failed resolve keeps the
    quality profile. Stages: standardize, profile, score, link, golden, done."""
    report = progress or _silent
    report(0.0, "standardize")
    standardize(db, actor, progress=_within(progress, 0.0, 0.2, "standardize"))
    report(0.2, "profile")
    quality = refresh_quality(db, actor)  # nothing is stale now: this profiles and scores
    scaled = _within(progress, 0.3, 1.0)
    # resolve's own standardize step finds nothing stale now: its time counts as scoring
    within = (lambda fraction, stage: scaled(fraction, "score" if stage == "standardize" else stage)) if scaled else None
    return AfterUpload(quality, rerun(db, actor, progress=within, train_first=True))


# What was decided or undone on the review queue after the last resolve.
_SINCE_LAST_RUN = ("FROM review_decisions WHERE ts > (SELECT max(ts) FROM oneid_runs) "
                   "OR undone_at > (SELECT max(ts) FROM oneid_runs)")


def decisions_waiting(cur: duckdb.DuckDBPyConnection) -> int:
    """Decisions made or undone since the last resolve: they reach the OneIDs at the next one."""
    return scalar(cur, f"SELECT count(*) {_SINCE_LAST_RUN}")


def last_decision_change(cur: duckdb.DuckDBPyConnection):
    """When the latest waiting decision was made or undone (None when none waits)."""
    return scalar(cur, f"SELECT max(greatest(ts, coalesce(undone_at, ts))) {_SINCE_LAST_RUN}")


def apply_decisions(db: Database, actor: str, progress: Progress | None = None) -> dict:
    """Apply the waiting review decisions: resolve again with the saved model and thresholds (a
    full re-resolve; there is no incremental one). Nothing waiting, nothing runs."""
    with db.cursor() as cur:
        waiting = decisions_waiting(cur)
    if not waiting:
        return {"decisions": 0}
    resolved = rerun(db, actor, progress=progress)
    return {"decisions": waiting, "oneids": resolved.oneid.clusters, "queue": resolved.oneid.queue}


def apply_thresholds(db: Database, actor: str, auto_accept: float, review_low: float,
                     target: float | None = None) -> Resolved:
    """Apply new thresholds (a recommendation learned from steward decisions, `calibration`):
    audited with the old and new thresholds, the precision target and the preview, then resolved
    again with the saved model, in one transaction (a refused threshold keeps nothing)."""
    with db.transaction() as cur:
        calibration.record_apply(cur, actor, auto_accept, review_low, target)
        return resolve(db, actor, auto_accept=auto_accept, review_low=review_low)


def _oneid_of(cur: duckdb.DuckDBPyConnection, rec_id: int) -> str:
    return scalar(cur, "SELECT oneid FROM crosswalk WHERE rec_id = ?", [rec_id])


def split_record(db: Database, actor: str, oneid: str, rec_id: int, comment: str | None = None) -> str:
    """Split a record out of its OneID (reject decisions against every other member, binding every
    later run) and re-run at once. Returns the record's OneID afterwards (the larger part keeps
    the old OneID; on a tie the record may keep it and the others get a new one)."""
    with db.transaction() as cur:
        if not cur.execute("SELECT 1 FROM crosswalk WHERE oneid = ? AND rec_id = ?", [oneid, rec_id]).fetchone():
            raise GovernanceError(f"The record is not part of {oneid}.")
        if not review.split_out(db, actor, oneid, rec_id, comment):
            raise GovernanceError(f"{oneid} has no other record to split from.")
        rerun(db, actor)
        return _oneid_of(cur, rec_id)


def merge_oneids(db: Database, actor: str, oneid: str, other: str, comment: str | None = None) -> str:
    """Merge two OneIDs: an approve decision between a record of each (as the review queue would
    record it), then a re-run. Returns the OneID both now carry; when a constraint (a rejection,
    two different resident IDs) keeps them apart, nothing is kept and it raises."""
    if oneid == other:
        raise GovernanceError("Pick two different OneIDs.")
    with db.transaction() as cur:
        reps = dict(cur.execute("SELECT oneid, min(rec_id) FROM crosswalk WHERE oneid IN (?, ?) GROUP BY oneid",
                                [oneid, other]).fetchall())
        if len(reps) != 2:
            raise GovernanceError(f"No OneID {other if oneid in reps else oneid}.")
        review.decide(db, actor, reps[oneid], reps[other], "approve", comment or f"merge {other} into {oneid}",
                      allow_override=True)
        rerun(db, actor)
        after = _oneid_of(cur, reps[oneid])
        if after != _oneid_of(cur, reps[other]):
            raise GovernanceError("A constraint keeps these customers apart (a rejected pair or two different "
                                  "resident IDs); the merge was not applied.")
        return after


# ---- tags and the scorecard ---------------------------------------------------------------

def refresh_tags(db: Database, actor: str, as_of=None, full: bool = False, progress: Progress | None = None,
                 trigger: str = "tags", codes: list[str] | None = None) -> tag_compute.ComputeResult:
    """Compute the published tags as of `as_of` (default: today in China time, or the latest date
    they were computed for if that is later) for the OneIDs whose golden record changed, or in full;
    then record the governance scorecard under `trigger`. The built-in tags are installed first.
    `codes` computes only those tags (in full). Once the tags have committed, the dynamic audiences
    are refreshed in a transaction of their own (`_audiences_after_tags`); inside a caller's
    transaction (the tags commit with it) they are refreshed in that transaction, as part of its step."""
    nested = db.in_transaction
    with db.transaction() as cur:
        tag_library.ensure_builtins(cur)
        result = tag_compute.compute(db, actor, as_of=as_of, full=full, progress=progress, codes=codes)
        scorecard.record(cur, trigger)
        if nested:  # no commit of the tags comes before the caller's, so the step stays one unit
            refresh_audiences(db, actor)
    if not nested:
        _audiences_after_tags(db, actor)
    return result


def _audiences_after_tags(db: Database, actor: str) -> str | None:
    """Refresh the dynamic audiences after the tags committed. A failure (say a DuckDB error) rolls
    back only this refresh: the tags stay, the audiences keep their previous members, the traceback
    goes to the incident log and one line to the log; returns that line (None when it worked)."""
    try:
        refresh_audiences(db, actor)
    except Exception as exc:  # anything: the committed tags must not depend on it
        incident, path = log_incident(exc, db.path.parent)
        line = (f"The tags are saved but the audiences were not refreshed ({type(exc).__name__}); they keep "
                f"their members until the next refresh. Incident {incident}, details in {path}.")
        _log.warning(line)
        return line
    return None


def refresh_audiences(db: Database, actor: str, names: list[str] | None = None) -> dict[str, int]:
    """Recompute the members of the dynamic audiences (or `names`), recording who joined and left;
    runs after every tag refresh. Returns members per audience."""
    with db.transaction() as cur:
        return audience_library.refresh(cur, actor, names)


def retire_tag(db: Database, actor: str, code: str, comment: str | None = None) -> int:
    """Retire a tag and remove its values (its history stays), in one transaction; returns the version."""
    with db.transaction() as cur:
        version = tag_library.retire(db, actor, code, comment)
        tag_compute.drop_values(cur, code)
        return version


def refresh_golden(db: Database, actor: str, trigger: str, oneids: list[str] | None = None,
                   full: bool = False) -> survivorship.RefreshResult:
    """Bring the golden records up to date, then the tags computed from them."""
    with db.transaction():
        golden = survivorship.refresh_golden(db, oneids=oneids, full=full)
        refresh_tags(db, actor, trigger=trigger)
        return golden


def set_survivorship_rule(db: Database, actor: str, field_name: str, kind: str,
                          priority: list[str] | None = None, comment: str | None = None) -> tuple[int, survivorship.RefreshResult]:
    """Store a new version of a field's survivorship rule and rebuild the golden records."""
    with db.transaction():
        version = survivorship.set_rule(db, actor, field_name, kind, priority, comment)
        return version, refresh_golden(db, actor, "survivorship")


def set_override(db: Database, actor: str, oneid: str, field_name: str, value: str, reason: str) -> int:
    """Set a golden field by hand (with a reason) and refresh that golden record."""
    with db.transaction():
        override_id = overrides.set_override(db, actor, oneid, field_name, value, reason)
        refresh_golden(db, actor, "override", oneids=[oneid])
        return override_id


def remove_override(db: Database, actor: str, override_id: int, reason: str) -> None:
    with db.transaction():
        oneid = overrides.remove_override(db, actor, override_id, reason)
        refresh_golden(db, actor, "override", oneids=[oneid])


# ---- data-subject requests and retention ---------------------------------------------------

def delete_person(db: Database, actor: str, request_id: int) -> dsr.DeletionResult:
    """Erase the people of a verified deletion request, after standardizing stale batches so every
    row of theirs is found; one transaction. Then the files beside the store that may hold them go
    too (`_after_erasure`)."""
    started = time.time()
    with db.transaction():
        standardize(db, actor)
        result = dsr.execute_deletion(db, actor, request_id)
    _after_erasure(db, started, result.oneids)
    return result


def correct(db: Database, actor: str, request_id: int, field_name: str, value: str, reason: str,
            oneid: str | None = None) -> int:
    """Apply a correction request as an override and refresh that golden record; returns the override id."""
    with db.transaction():
        target, override_id = dsr.correct(db, actor, request_id, field_name, value, reason, oneid=oneid)
        refresh_golden(db, actor, "correction", oneids=[target])
        return override_id


def lift_tombstone(db: Database, actor: str, tombstone_id: int, reason: str) -> int:
    """Lift a tombstone and standardize its released rows again (they join the next resolve).
    Returns the rows released."""
    with db.transaction():
        released, batches = suppression.lift(db, actor, tombstone_id, reason)
        if batches:
            standardize(db, actor, batches)
        return released


def apply_retention(db: Database, actor: str, scope: str, target: str, confirm_records: int,
                    progress: Progress | None = None) -> int:
    """Erase what a retention policy's scan found; people who keep other records get their golden
    record back, and the access packages kept for people erased as a whole go. Returns the run id.
    Stages: erase, golden, done."""
    report = progress or _silent
    started = time.time()
    with db.transaction():
        report(0.0, "erase")
        run_id, people = retention.apply(db, actor, scope, target, confirm_records)
        if scope == "source" and confirm_records:
            report(0.6, "golden")
            refresh_golden(db, actor, "retention")
    if scope == "source" and confirm_records:
        _after_erasure(db, started, people)
    report(1.0, "done")
    return run_id


def _after_erasure(db: Database, started: float, people: list[str]) -> None:
    """Files beside the store that may hold what an erasure removed: the access packages kept for
    the people erased as a whole, and every export and activation file written before it (which
    rows they hold is not looked up; a file can be written again)."""
    dsr.discard_packages_of(db, people)
    for folder in (datasets.export_dir(db), push.spool_dir(db)):
        tabular.remove_older(folder, started)


def sweep_server_files(db: Database) -> int:
    """At every start: remove the export files older than `export_keep_days` and the activation
    files older than their day; returns how many."""
    return datasets.sweep_exports(db) + push.sweep_spool(push.spool_dir(db))


# ---- the demo workspace and the overview ---------------------------------------------------

def load_demo(db: Database, directory: Path | None = None, n_customers: int = DEMO_CUSTOMERS,
              seed: int = DEMO_SEED) -> list[ingest.IngestResult]:
    """Load the generated demo workspace when the store holds no batch yet, then standardize,
    profile and resolve it, so every page has something to show."""
    with db.cursor() as cur:
        if scalar(cur, "SELECT count(*) FROM batches"):
            return []
    directory = directory or db.path.parent / "demo"
    workspace = synth.generate_workspace(n_customers, seed)
    paths = synth.write_workspace(workspace, directory)
    with db.transaction():
        results = [ingest.ingest_file(db, path, actor="system", source=spec.source, channel=spec.channel)
                   for spec, path in zip(workspace.files, paths)]
        refresh_quality(db, "system")
        resolve(db, "system")
    return results


def overview(cur: duckdb.DuckDBPyConnection) -> dict:
    """Workspace at a glance: counts, rows per channel, the latest batches, and the work waiting:
    the latest quality score, OneIDs, pairs to review, open data-subject requests (and overdue)."""
    n_sources, n_batches, n_rows = one(cur,
        "SELECT (SELECT count(*) FROM sources), count(*), coalesce(sum(row_count), 0) FROM batches")
    n_users = scalar(cur, "SELECT count(*) FROM users WHERE NOT disabled")
    by_channel = cur.execute(
        "SELECT channel, count(DISTINCT source) AS sources, sum(row_count) AS rows FROM batches "
        "GROUP BY channel ORDER BY rows DESC").df()
    recent = cur.execute(
        "SELECT batch_id, source, file_name, row_count, uploaded_by, uploaded_at FROM batches "
        "ORDER BY batch_id DESC LIMIT 10").df()
    score, oneids = one(cur, "SELECT (SELECT score FROM profile_runs ORDER BY run_id DESC LIMIT 1), "
                             "(SELECT count(DISTINCT oneid) FROM crosswalk)")
    open_requests, overdue = dsr.open_counts(cur)
    return {"sources": n_sources, "batches": n_batches, "rows": int(n_rows), "users": n_users,
            "by_channel": by_channel, "recent": recent, "score": score, "oneids": oneids,
            "to_review": review.queue_size(cur), "open_requests": open_requests, "overdue_requests": overdue}
