"""The jobs the app starts, each a pipeline step run by the process's `Runner`.

    after_upload      standardize → profile → resolve → golden records, once an upload is stored
    apply_decisions   resolve again with the saved model and thresholds, once review decisions wait
    resolve           a resolve with the thresholds a steward chose (the Review page's button)
    apply_thresholds  thresholds learned from the decisions, audited and resolved with (the Review page)
    refresh_quality   standardize what is stale, profile and score (the Quality page's button)
    refresh_tags      compute the published tags for what changed, and record the scorecard (the Tags page)
    export            an export file and its manifest (the Export page); progress is rows written / total
    retention         the erasure a retention scan found, once confirmed (the Retention page)
    dsr_package       a data-subject access package, as a ZIP beside the store (the Requests page)
    audience_export   an audience's activation file, in the activations folder beside the store (the Audiences page)
    audience_push     an audience's activation file sent to a push destination, with its retries (the Audiences page)

Command-line runs record themselves under their command's name (ingest, standardize, profile,
resolve). RESULT_PAGE names the page where a finished job's result is seen.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from governance import pipeline
from governance.access import auth
from governance.audiences import activation, push
from governance.audiences import library as audiences
from governance.exports import datasets
from governance.jobs import runner as jobs
from governance.privacy import dsr
from governance.privacy import retention as retention_policy
from governance.store.errors import PermissionDenied
from governance.store.storage import Database

RESULT_PAGE = {"after_upload": "quality", "apply_decisions": "review", "resolve": "review", "apply_thresholds": "review",
               "refresh_quality": "quality", "refresh_tags": "tags", "ingest": "sources", "standardize": "quality", "profile": "quality",
               "export": "export", "retention": "retention", "dsr_package": "requests",
               "audience_export": "audiences", "audience_push": "audiences"}
# Jobs that apply the review decisions waiting when they run (each resolves).
APPLIES_DECISIONS = ("after_upload", "apply_decisions", "resolve", "apply_thresholds")


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
        return _resolved(pipeline.resolve(db, actor, auto_accept=auto_accept, review_low=review_low, retrain=retrain,
                                          progress=progress))
    return jobs.runner(db).submit("resolve", actor, work)


def apply_thresholds(db: Database, actor: str, auto_accept: float, review_low: float, target: float) -> int:
    """Queue applying learned thresholds (audited with the precision target) and the resolve with them."""
    return jobs.runner(db).submit("apply_thresholds", actor, lambda progress: _resolved(
        pipeline.apply_thresholds(db, actor, auto_accept, review_low, target=target)))


def _resolved(resolved: pipeline.Resolved) -> dict:
    oneid = resolved.oneid
    return {"records": oneid.records, "oneids": oneid.clusters, "auto_links": oneid.auto_links, "queue": oneid.queue}


def refresh_quality(db: Database, actor: str) -> int:
    """Queue a quality refresh: standardize what is stale, profile and score every source."""
    def work(progress: jobs.Progress) -> dict:
        refreshed = pipeline.refresh_quality(db, actor, progress=progress)
        return {"records": refreshed.records, "score": refreshed.score}
    return jobs.runner(db).submit("refresh_quality", actor, work)


def refresh_tags(db: Database, actor: str) -> int:
    """Queue a tag computation: the published tags for the OneIDs that changed, then the scorecard."""
    def work(progress: jobs.Progress) -> dict:
        result = pipeline.refresh_tags(db, actor, progress=lambda fraction, _tag: progress(fraction, "tags"))
        return {"as_of": result.as_of.isoformat(), "mode": result.mode, "tags": result.tags, "oneids": result.oneids,
                "changed": result.changed}
    return jobs.runner(db).submit("refresh_tags", actor, work)


# ---- exports, retention runs and access packages -------------------------------------------

def export(db: Database, request: datasets.ExportRequest) -> int:
    """Queue an export into the export folder; a request it would refuse is refused here, before
    it is queued. Its progress is rows written / total; its result names the file (and its path)
    and holds the manifest."""
    datasets.authorize(request)
    with db.cursor() as cur:
        total = datasets.count_rows(cur, request)

    def work(progress: jobs.Progress) -> dict:
        path, manifest = datasets.export_to_dir(
            db, request, progress=lambda done, of: progress(done / max(of, 1), "export"))
        return {"file": path.name, "path": str(path), "rows": manifest.row_count, "manifest": asdict(manifest)}
    return jobs.runner(db).submit("export", request.actor, work, {"format": request.format, "rows_total": total})


def retention(db: Database, actor: str, scope: str, target: str, confirm_records: int) -> int:
    """Queue the erasure a retention policy's scan found (`confirm_records`, as confirmed); its
    result is the run's summary (run id, counts, what was deleted)."""
    def work(progress: jobs.Progress) -> dict:
        run_id = pipeline.apply_retention(db, actor, scope, target, confirm_records, progress=progress)
        with db.cursor() as cur:
            return retention_policy.run_summary(cur, run_id)
    return jobs.runner(db).submit("retention", actor, work, {"scope": scope, "target": target})


def dsr_package(db: Database, actor: str, request_id: int) -> int:
    """Queue the access package of a verified access request; the ZIP is kept beside the store
    (`dsr.save_package`) until the request is closed."""
    def work(progress: jobs.Progress) -> dict:
        progress(0.0, "package")
        files = dsr.access_package(db, actor, request_id)
        progress(0.9, "package_zip")
        path = dsr.save_package(db, request_id, files)
        return {"file": path.name, "path": str(path), "files": len(files)}
    return jobs.runner(db).submit("dsr_package", actor, work, {"request_id": int(request_id)})


def package_job(db: Database, request_id: int, user: str) -> jobs.Job | None:
    """The newest access-package job `user` started for this request."""
    with db.cursor() as cur:
        mine = jobs.started(cur, ("dsr_package",), user)
    return next((j for j in mine if j.result.get("request_id") == int(request_id)), None)


# An activation file holds plain identifiers (mobiles, open_ids): only the user who wrote it gets it.
OWNER_ONLY = ("audience_export",)


def result_file(db: Database, job: jobs.Job | None, user: str, role: str | None) -> Path | None:
    """The file a finished export, access-package or activation job wrote, for the user who started
    it or an admin (an activation file: that user only); None for anyone else, or when the file is
    gone. Only the plain file name is taken from the job's result, and only inside that kind's
    folder, so nothing a client sends picks the path."""
    folders = {"export": datasets.export_dir, "dsr_package": dsr.package_dir, "audience_export": push.spool_dir}
    if job is None or job.status != "done" or job.kind not in folders:
        return None
    if job.started_by != user and (role != "admin" or job.kind in OWNER_ONLY):
        return None
    name = str(job.result.get("file") or "")
    if not name or name.startswith(".") or Path(name).name != name:
        return None
    path = folders[job.kind](db) / name
    return path if path.is_file() else None


def latest_of(db: Database, kind: str, user: str, active: bool = False) -> jobs.Job | None:
    """The newest job of `kind` that `user` started (only a queued or running one, when `active`)."""
    with db.cursor() as cur:
        return jobs.latest(cur, (kind,), jobs.ACTIVE if active else jobs.STATUSES, started_by=user)


# ---- audience activation files and pushes ----------------------------------------------------

def activation_path(db: Database, name: str, channel: str) -> Path:
    """A new file in the activations folder beside the store (private to the server's user)."""
    folder = push.spool_dir(db)
    push.sweep_spool(folder)
    first = activation.file_name(name, channel)
    out, n = folder / first, 1
    while out.exists():
        n += 1
        out = folder / f"{Path(first).stem}-{n}.{activation.EXTENSIONS[channel]}"
    return out


def audience_export(db: Database, actor: str, role: str | None, name: str, channel: str, purpose: str | None,
                    app_id: str | None = None, hash: str = "sha256", masked: bool = True,
                    fields: tuple[str, ...] | list[str] = ()) -> int:
    """Queue an audience's activation file for `channel` and `purpose` into the activations folder; a
    request it would refuse (the permission, the channel, the purpose, an unknown audience) is refused
    here, before it is queued. Its result names the file and holds the activation id, rows and checksum."""
    activation.check_request(role, channel, purpose, hash, masked)
    with db.cursor() as cur:
        audiences.get(cur, name)  # AudienceError when there is none

    def work(progress: jobs.Progress) -> dict:
        progress(0.0, "audience_export")
        out = activation_path(db, name, channel)
        written = activation.export(db, actor, role, name, channel, purpose, out, app_id=app_id, hash=hash,
                                    masked=masked, fields=tuple(fields))
        return {"file": written.path.name, "rows": written.rows, "checksum": written.checksum,
                "activation_id": written.activation_id}
    return jobs.runner(db).submit("audience_export", actor, work,
                                  {"audience": name, "channel": channel, "purpose": purpose})


def audience_push(db: Database, actor: str, role: str | None, name: str, destination: str,
                  channel: str | None = None, purpose: str | None = None, app_id: str | None = None,
                  hash: str = "sha256") -> int:
    """Queue a push of the audience's activation file to `destination` (its retries wait in the job,
    not in a page); refused before it is queued without the permission or for an unknown audience.
    Its result is the outcome: delivered or not, attempts, the last HTTP status, rows, checksum."""
    if not auth.can(role, "audiences.push"):
        raise PermissionDenied("Pushing an audience needs the permission 'audiences.push' (stewards and admins).")
    with db.cursor() as cur:
        audience = audiences.get(cur, name)  # AudienceError when there is none
    activation.check_request(role, channel or audience.channel, purpose or audience.purpose, hash)

    def work(progress: jobs.Progress) -> dict:
        progress(0.0, "audience_push")
        outcome = push.push(db, actor, role, name, destination, channel=channel, purpose=purpose, app_id=app_id,
                            hash=hash)
        return {"activation_id": outcome.activation_id, "destination": outcome.destination, "kind": outcome.kind,
                "ok": outcome.ok, "attempts": outcome.attempts, "status_code": outcome.status_code,
                "rows": outcome.rows, "checksum": outcome.checksum, "pushed_file": outcome.path.name}
    return jobs.runner(db).submit("audience_push", actor, work,
                                  {"audience": name, "destination": destination, "channel": channel or audience.channel})
