"""The jobs the app starts, each a pipeline step run by the process's `Runner`.

    after_upload      standardize → profile → resolve → golden records, once an upload is stored
    apply_decisions   resolve again with the saved model and thresholds, once review decisions wait
    resolve           a resolve with the thresholds a steward chose (the Review page's button)
    refresh_quality   standardize what is stale, profile and score (the Quality page's button)

Command-line runs record themselves under their command's name (ingest, standardize, profile,
resolve). RESULT_PAGE names the page where a finished job's result is seen.
"""
from __future__ import annotations

from governance import pipeline
from governance.jobs import runner as jobs
from governance.store.storage import Database

RESULT_PAGE = {"after_upload": "quality", "apply_decisions": "review", "resolve": "review",
               "refresh_quality": "quality", "ingest": "sources", "standardize": "quality", "profile": "quality"}
# Jobs that apply the review decisions waiting when they run (each resolves).
APPLIES_DECISIONS = ("after_upload", "apply_decisions", "resolve")


def after_upload(db: Database, actor: str) -> int:
    """Queue what follows an upload: standardize, profile, resolve, golden records."""
    return jobs.runner(db).submit("after_upload", actor,
                                  lambda progress: pipeline.after_upload(db, actor, progress).summary())


def apply_decisions(db: Database, actor: str) -> int | None:
    """Queue a re-resolve that applies the waiting decisions, unless a job that would apply them
    is already queued (then None)."""
    with db.cursor() as cur:
        if jobs.latest(cur, APPLIES_DECISIONS, ("queued",)):
            return None
    return jobs.runner(db).submit("apply_decisions", actor,
                                  lambda progress: pipeline.apply_decisions(db, actor, progress))


def decisions_unqueued(db: Database) -> bool:
    """Were decisions made (or undone) after the last resolve and after the last job that would
    apply them was queued? Then a decision has not queued its job yet."""
    with db.cursor() as cur:
        changed = pipeline.last_decision_change(cur)
        if changed is None:
            return False
        last = jobs.latest(cur, APPLIES_DECISIONS)
    return last is None or last.queued_at < changed


def resolve(db: Database, actor: str, auto_accept: float, review_low: float, retrain: bool = False) -> int:
    """Queue a resolve with these thresholds (the saved model, or a new one on `retrain`)."""
    def work(progress: jobs.Progress) -> dict:
        resolved = pipeline.resolve(db, actor, auto_accept=auto_accept, review_low=review_low, retrain=retrain,
                                    progress=progress)
        return {"oneids": resolved.oneid.clusters, "auto_links": resolved.oneid.auto_links, "queue": resolved.oneid.queue}
    return jobs.runner(db).submit("resolve", actor, work)


def refresh_quality(db: Database, actor: str) -> int:
    """Queue a quality refresh: standardize what is stale, profile and score every source."""
    def work(progress: jobs.Progress) -> dict:
        refreshed = pipeline.refresh_quality(db, actor, progress=progress)
        return {"records": refreshed.records, "score": refreshed.score}
    return jobs.runner(db).submit("refresh_quality", actor, work)
