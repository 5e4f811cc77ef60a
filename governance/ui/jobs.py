"""Background jobs in the UI: the job panel of the sidebar, and the job parts of the pages (the
pipeline an upload starts, the review decisions waiting to apply).

The panel lists the running and recent jobs of the store (the app's and command-line runs), each
with its stage in the UI language, a progress bar, who started it, and a failed one's one line. It
is a fragment that refreshes itself every POLL_SECONDS only while a job is queued or running, so the
page does not rerun; when the last one ends, the page runs once more to show the results.
"""
from __future__ import annotations

import os
from collections.abc import Callable

import streamlit as st

from governance import pipeline
from governance.access import auth
from governance.access.auth import User
from governance.i18n import code_text
from governance.jobs import kinds
from governance.jobs import runner as jobs
from governance.store.storage import Database, read_holder
from governance.ui.actions import run_step
from governance.ui.error_texts import translate
from governance.ui.guard import PageContext
from governance.ui.session import lang, task_label, tr

POLL_SECONDS = 2.0
RECENT = 5
_FULL_RUN = "_jobs_full_run"  # set by the app's run, absent in the fragment's own reruns
_WATCHING = "_jobs_watching"  # a job was active at the panel's last look
_LOADED = "_upload_loaded"  # the upload just loaded (its file and counts), for the page's next run
# Where a finished job's result is seen: url path -> (page file, permission)
PAGES = {"quality": ("pages/quality.py", "quality.view"), "review": ("pages/review.py", "review.view"),
         "sources": ("pages/sources.py", "sources.view"), "export": ("pages/export.py", "export.run"),
         "retention": ("pages/retention.py", "retention.manage"), "requests": ("pages/requests.py", "dsr.manage"),
         "tags": ("pages/tags.py", "tags.view"), "audiences": ("pages/audiences.py", "audiences.export")}


def _text(prefix: str, code: str | None) -> str:
    return code_text(prefix, code or "", lang())


def _look(db: Database) -> tuple[list[jobs.Job], str | None]:
    """The recent jobs; or, while another process (a command-line run) holds the store, what it
    does (the panel does not wait for the store)."""
    holder = read_holder(db.path)
    if holder is not None and holder.pid != os.getpid():
        return [], tr("jobs.holder", task=task_label(holder.activity), started=f"{holder.started:%H:%M}")
    with db.cursor() as cur:
        return jobs.recent(cur, RECENT), None


def panel(db: Database, user: User) -> None:
    """The job panel, in the sidebar of every page for a signed-in user."""
    found, held = _look(db)
    active = held is not None or any(j.active for j in found)
    st.session_state[_FULL_RUN] = True
    with st.sidebar:
        st.fragment(_panel, run_every=POLL_SECONDS if active else None)(db, user.role)


def _panel(db: Database, role: str) -> None:
    full = st.session_state.pop(_FULL_RUN, False)
    found, held = _look(db)
    active = held is not None or any(j.active for j in found)
    was_active = st.session_state.get(_WATCHING, False)
    st.session_state[_WATCHING] = active
    if was_active and not active and not full:
        st.rerun(scope="app")  # the last job ended: show its results on the page, stop polling
    if not found and held is None:
        return
    st.caption(tr("jobs.title"))
    if held is not None:
        st.caption(held)
    for job in found:
        _job(job, role)


def _job(job: jobs.Job, role: str) -> None:
    name = _text("jobs.kind.", job.kind) + (tr("jobs.cli") if job.origin == "cli" else "")
    st.markdown(f"**{name}** · {_text('jobs.status.', job.status)}")
    if job.active:
        st.progress(float(job.progress), text=_text("jobs.stage.", job.stage))
    st.caption(tr("jobs.by", who=job.started_by, at=f"{job.queued_at:%H:%M}"))
    if job.status == "failed":
        st.error(failure_line(job))
    elif job.status == "done":
        summary = _summary(job)
        if summary:
            st.caption(summary)
        page = PAGES.get(kinds.RESULT_PAGE.get(job.kind, ""))
        if page and auth.can(role, page[1]):
            st.page_link(page[0], label=tr("jobs.result"), icon=":material/arrow_forward:")


def _count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else "—"


def _summary(job: jobs.Job) -> str | None:
    """A finished job's outcome in a line, for the kinds whose result has one."""
    r = job.result
    if job.kind == "refresh_quality" and "records" in r:
        score = r.get("score")
        return tr("quality.done", records=_count(r["records"]), score="—" if score is None else f"{score:.1f}")
    if job.kind in ("resolve", "apply_thresholds") and "oneids" in r:
        return tr("review.done" if job.kind == "resolve" else "review.calib_done", records=_count(r.get("records")),
                  oneids=_count(r["oneids"]), auto=_count(r.get("auto_links")), queue=_count(r.get("queue")))
    if job.kind == "export" and "rows" in r:
        return tr("export.done", rows=_count(r["rows"]))
    if job.kind == "refresh_tags" and "tags" in r:
        return tr("tags.compute_done", tags=_count(r["tags"]), oneids=_count(r.get("oneids")), as_of=r.get("as_of"),
                  changed=_count(r.get("changed")))
    if job.kind == "retention" and "run_id" in r:
        return tr("retention.applied", run=r["run_id"], records=_count(r.get("records")))
    if job.kind == "audience_export" and "rows" in r:
        return tr("jobs.summary.audience_export", audience=r.get("audience") or "—",
                  channel=_text("audiences.channel.", r.get("channel")), rows=_count(r["rows"]))
    if job.kind == "audience_push" and "ok" in r:
        return tr("jobs.summary.audience_pushed" if r["ok"] else "jobs.summary.audience_not_pushed",
                  audience=r.get("audience") or "—", destination=r.get("destination") or "—",
                  rows=_count(r.get("rows")), attempts=_count(r.get("attempts")))
    return None


def start(ctx: PageContext, submit, *args: object) -> None:
    """A page button's job: queue `submit(ctx.db, user, *args)` and run the page again; the panel
    shows its progress and, once done, its outcome. A refusal shows its one line instead."""
    run_step(submit, ctx.db, ctx.user.username, *args, success=tr("jobs.queued"), rerun=True, flash=True)


def running(ctx: PageContext, *kind: str) -> bool:
    """Is a job of these kinds queued or running (its button then waits)?"""
    with ctx.db.cursor() as cur:
        return jobs.latest(cur, kind, jobs.ACTIVE) is not None


# ---- the pages' parts ----------------------------------------------------------------------

def start_after_upload(ctx: PageContext, file_id: str, batch: int, rows: int, columns: int, mapped: int,
                       suppressed: int) -> None:
    """Queue the pipeline after an upload, and run the page again: the panel shows the job, and the
    page says what was loaded and that the pipeline goes on (`upload_started`)."""
    kinds.after_upload(ctx.db, ctx.user.username)
    st.session_state[_LOADED] = {"file_id": file_id, "batch": batch, "rows": rows, "columns": columns,
                                 "mapped": mapped, "suppressed": suppressed}
    st.rerun()


def upload_started(file_id: str) -> bool:
    """After `start_after_upload`, for the same file: what was loaded, and that the pipeline goes on
    in the background. True when shown (the page then stops)."""
    loaded = st.session_state.get(_LOADED)
    if not loaded or loaded["file_id"] != file_id:
        return False
    st.success(tr("upload.done", batch=loaded["batch"], rows=f"{loaded['rows']:,}", columns=loaded["columns"],
                  mapped=loaded["mapped"]))
    if loaded["suppressed"]:
        st.warning(tr("upload.suppressed", n=loaded["suppressed"]))
    st.info(tr("jobs.upload_started"))
    return True


def decisions_waiting(ctx: PageContext) -> None:
    """"N decisions waiting to apply" until a resolve has applied them. A steward's decision queues
    the job that applies them (once per decision; a failed one is not retried by itself), and
    "apply now" queues it by hand."""
    with ctx.db.cursor() as cur:
        waiting = pipeline.decisions_waiting(cur)
    if not waiting:
        return
    can = ctx.can("review.decide")
    if can and kinds.decisions_unqueued(ctx.db) and kinds.apply_decisions(ctx.db, ctx.user.username) is not None:
        st.rerun()  # the panel, drawn before the page, shows the job from the next run on
    with ctx.db.cursor() as cur:
        pending = jobs.latest(cur, kinds.APPLIES_DECISIONS, jobs.ACTIVE)
    c1, c2 = st.columns([4, 1])
    c1.info(tr("jobs.waiting_one" if waiting == 1 else "jobs.waiting", n=waiting)
            + (" " + tr("jobs.waiting_queued") if pending else ""))
    if can and c2.button(tr("jobs.apply_now"), key="apply_decisions", disabled=pending is not None):
        kinds.apply_decisions(ctx.db, ctx.user.username)
        st.rerun()


# ---- a page's own job: an export, a retention run, an access package -----------------------

def failure_line(job: jobs.Job) -> str:
    """A failed job's one line in the UI language: its incident, "interrupted", or its error."""
    if job.result.get("incident"):
        return tr("common.incident", incident=job.result["incident"])
    if job.message == jobs.INTERRUPTED:
        return tr("jobs.interrupted")
    return tr("common.error", message=translate(job.message or "", lang()))


def follow(find: Callable[[], jobs.Job | None], text: Callable[[jobs.Job], str] | None = None) -> jobs.Job | None:
    """The page's own job (`find()`: e.g. the user's latest export): while it is queued or running,
    its progress bar (`text(job)`, default its stage), redrawn every POLL_SECONDS by a fragment that
    runs the page again when the job ends; a failed one's one line. Returns the job once it is done."""
    job = find()
    if job is None:
        return None
    if job.active:
        st.fragment(_follow, run_every=POLL_SECONDS)(find, text)
    elif job.status == "failed":
        st.error(failure_line(job))
    return job if job.status == "done" else None


def _follow(find: Callable[[], jobs.Job | None], text: Callable[[jobs.Job], str] | None) -> None:
    job = find()
    if job is None or not job.active:
        st.rerun(scope="app")  # it ended: the page shows its result
        return
    label = text(job) if text else _text("jobs.stage.", job.stage)
    st.progress(float(job.progress), text=label)
