"""AppTest: the Export, Retention and Requests pages queue their long step as a background job
instead of running it in the page, follow its progress, and offer its outcome (the file to
download, the run's summary) once it has run, to the user who started it."""
from __future__ import annotations

import pytest

from governance.exports import datasets
from governance.golden import survivorship
from governance.jobs import runner as jobs
from governance.privacy import dsr, retention
from helpers import app_test, load_generated


@pytest.fixture
def golden(app_db, tmp_path):
    load_generated(app_db, tmp_path / "d", 200, seed=11)
    survivorship.build_golden(app_db)
    return app_db


def page_progress(at) -> list[str]:
    return [str(p.proto.text) for p in at.main.get("progress")]


def only_job(db) -> jobs.Job:
    with db.cursor() as cur:
        (job,) = jobs.recent(cur)
    return job


def test_the_export_page_queues_a_job_and_offers_its_file_once_done_also_after_navigation(golden):
    at = app_test(golden, "steward").run()
    at.switch_page("pages/export.py").run()
    at.button(key="export_prepare").click().run()
    assert not at.exception
    job = only_job(golden)
    assert (job.kind, job.status, job.started_by) == ("export", "queued", "steward")
    assert not list(datasets.export_dir(golden).glob("steward-*"))  # the page wrote nothing itself
    assert page_progress(at) == ["waiting to start"] and not at.get("download_button")
    assert at.button(key="export_prepare").disabled  # one export at a time
    assert "Export · queued" in "\n".join(m.value for m in at.sidebar.markdown).replace("**", "")

    jobs.runner(golden).drain()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/export.py").run()  # away and back: the finished file is still offered
    assert not at.exception and not page_progress(at)
    job = only_job(golden)
    assert job.status == "done"
    assert [m.value for m in at.success] == [f"Ready: {job.result['file']} (its manifest is saved next to it)"]
    assert at.download_button(key="export_download")
    assert f'"sha256": "{job.result["manifest"]["sha256"]}"' in at.get("code")[0].value
    assert not at.button(key="export_prepare").disabled


def test_an_export_is_offered_to_the_user_who_made_it_in_a_new_session_too_and_to_no_one_else(golden):
    first = app_test(golden, "steward").run()
    first.switch_page("pages/export.py").run()
    first.button(key="export_prepare").click().run()
    jobs.runner(golden).drain()
    admin = app_test(golden, "admin").run()
    admin.switch_page("pages/export.py").run()
    assert not admin.exception and not admin.get("download_button")
    assert not [m for m in admin.success if m.value.startswith("Ready:")]
    again = app_test(golden, "steward").run()  # the browser reloaded: a new session, found from the job's row
    again.switch_page("pages/export.py").run()
    assert again.download_button(key="export_download")


def test_a_failed_export_job_shows_its_one_line_on_the_page_in_the_ui_language(golden, monkeypatch):
    at = app_test(golden, "steward", lang="zh").run()
    at.switch_page("pages/export.py").run()
    at.selectbox(key="export_format").set_value("xlsx").run()
    at.button(key="export_prepare").click().run()
    monkeypatch.setattr(datasets, "XLSX_MAX_ROWS", 10)
    jobs.runner(golden).drain()
    at.run()
    assert not at.exception and not at.get("download_button")
    job = only_job(golden)
    assert job.status == "failed"
    (line,) = [e.value for e in at.main.error]  # the page's own, beside the panel's
    assert line.startswith(f"出错了：{job.result['rows_total']} 行") and "XLSX" in line and "\n" not in line
    assert "do not fit" not in line  # in the UI language


def test_the_retention_page_queues_the_erasure_and_shows_its_summary_when_done(golden):
    with golden.cursor() as cur:
        source, batch = cur.execute("SELECT source, batch_id FROM batches WHERE channel = 'douyin'").fetchone()
        cur.execute("UPDATE batches SET uploaded_at = uploaded_at - INTERVAL 800 DAY WHERE batch_id = ?", [batch])
        rows = cur.execute("SELECT count(*) FROM std_records WHERE batch_id = ?", [batch]).fetchone()[0]
    retention.set_policy(golden, "steward", "source", source, 365)
    at = app_test(golden, "steward").run()
    at.switch_page("pages/retention.py").run()
    at.checkbox(key="ret_confirm").check().run()
    at.button(key="ret_apply").click().run()
    assert not at.exception
    job = only_job(golden)
    assert (job.kind, job.status) == ("retention", "queued")
    with golden.cursor() as cur:
        assert retention.scan(cur, "source", source).records == rows  # nothing erased in the page's run
    assert page_progress(at) == ["waiting to start"]
    assert not [b for b in at.button if b.key == "ret_apply"]  # not offered again while it waits

    jobs.runner(golden).drain()
    at.run()
    assert not at.exception and not page_progress(at)
    assert f"Run #1: {rows} records erased." in [m.value for m in at.success]
    with golden.cursor() as cur:
        assert retention.scan(cur, "source", source).records == 0
    assert only_job(golden).result["records"] == rows


def test_the_requests_page_builds_the_access_package_as_a_job_and_offers_it_when_done(golden):
    with golden.cursor() as cur:
        oneid = cur.execute("SELECT oneid FROM golden_records ORDER BY oneid LIMIT 1").fetchone()[0]
    request_id = dsr.create(golden, "steward", "access", "申请人", oneids=[oneid])
    dsr.verify(golden, "steward", request_id, "checked")
    at = app_test(golden, "steward").run()
    at.switch_page("pages/requests.py").run()
    at.button(key="dsr_access").click().run()
    assert not at.exception
    job = only_job(golden)
    assert (job.kind, job.status, job.result) == ("dsr_package", "queued", {"request_id": request_id})
    assert not at.get("download_button") and page_progress(at) == ["waiting to start"]
    assert at.button(key="dsr_access").disabled
    with golden.cursor() as cur:
        assert dsr.get(cur, request_id).status == "verified"  # the package is not built in the page's run

    jobs.runner(golden).drain()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/requests.py").run()
    assert not at.exception and not page_progress(at)
    assert at.download_button(key="dsr_download")
    with golden.cursor() as cur:
        assert dsr.get(cur, request_id).status == "in_progress"
    admin = app_test(golden, "admin").run()
    admin.switch_page("pages/requests.py").run()
    assert not admin.exception and not admin.get("download_button")  # the steward's package, not the admin's
