"""AppTest: an upload queues the rest of the pipeline as a background job and the sidebar panel
shows it; a review decision shows "decisions waiting to apply" until the job it queued has run."""
from __future__ import annotations

from governance import pipeline
from governance.jobs import runner as jobs
from helpers import app_test, load_generated, visible_text


def sidebar_text(at) -> str:
    side = at.sidebar
    parts = [e.value for kind in ("markdown", "caption", "error") for e in getattr(side, kind)]
    parts += [str(p.proto.text) for p in side.get("progress")]
    return "\n".join(str(p) for p in parts).replace("**", "")


def test_an_upload_queues_the_pipeline_and_the_panel_shows_it(app_db):
    at = app_test(app_db, "steward").run()
    assert "Jobs" not in sidebar_text(at)  # nothing ran yet
    at.switch_page("pages/upload.py").run()
    at.text_input(key="upload_new_source").input("门店POS")
    at.selectbox(key="upload_channel").set_value("pos")
    data = "会员卡号,姓名,手机\nP1,王芳,13512345678\nP2,李娜,13612345678\nP3,王芳,135 1234 5678\n".encode()
    at.file_uploader(key="upload_file").set_value(("pos.csv", data, "text/csv")).run()
    at.button(key="upload_confirm").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Loaded batch 1: 3 rows")
    assert "The rest of the pipeline has started in the background" in visible_text(at)
    assert "upload_confirm" not in [b.key for b in at.button]  # loaded: not offered again as a duplicate
    with app_db.cursor() as cur:
        (job,) = jobs.recent(cur)
    assert (job.kind, job.status, job.started_by) == ("after_upload", "queued", "steward")
    side = sidebar_text(at)
    assert "Jobs" in side and "After upload (standardize → profile → resolve → golden records) · queued" in side
    assert "waiting to start" in side and "Started by steward" in side

    jobs.runner(app_db).drain()  # the worker's turn
    at.switch_page("pages/home.py").run()  # the panel shows the job done, on any page
    side = sidebar_text(at)
    assert "· done" in side and "waiting to start" not in side
    assert [link.proto.label for link in at.sidebar.get("page_link") if link.proto.label == "See the result"]
    with app_db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM profile_runs").fetchone()[0] == 1
        assert cur.execute("SELECT count(*) FROM crosswalk").fetchone()[0] == 3


def test_a_failed_job_shows_its_one_line_in_the_panel_in_the_ui_language(app_db):
    runner = jobs.runner(app_db)
    runner.submit("resolve", "steward", lambda progress: (_ for _ in ()).throw(
        pipeline.GovernanceError("The saved OneID model cannot be used: bad JSON")))
    runner.drain()
    at = app_test(app_db, "analyst", lang="zh").run()
    side = sidebar_text(at)
    assert "后台任务" in side and "OneID 识别 · 失败" in side
    assert "出错了：已保存的 OneID 模型无法使用：bad JSON" in side  # the library's message in Chinese


def test_decisions_wait_to_apply_until_the_queued_job_has_run(app_db, tmp_path):
    load_generated(app_db, tmp_path / "d", 300, seed=5)
    at = app_test(app_db, "steward").run()
    at.switch_page("pages/review.py").run()
    assert "waiting to apply" not in visible_text(at)
    at.button(key="decide_approve").click().run()
    assert not at.exception
    text = visible_text(at)
    assert "1 decision waiting to apply to the OneIDs. Applying them is queued" in text
    assert [m.value for m in at.success] == ["Recorded: Same person ✓."]  # survives the page's extra run
    with app_db.cursor() as cur:
        (job,) = jobs.recent(cur)
    assert (job.kind, job.status) == ("apply_decisions", "queued")
    assert "Apply review decisions · queued" in sidebar_text(at)
    assert at.button(key="apply_decisions").disabled

    jobs.runner(app_db).drain()
    at.run()
    assert "waiting to apply" not in visible_text(at)
    with app_db.cursor() as cur:
        assert pipeline.decisions_waiting(cur) == 0
        assert [(j.kind, j.status) for j in jobs.recent(cur)] == [("apply_decisions", "done")]


def test_apply_now_queues_the_job_again_after_a_failure(app_db, tmp_path, monkeypatch):
    load_generated(app_db, tmp_path / "d", 300, seed=5)
    at = app_test(app_db, "steward").run()
    at.switch_page("pages/review.py").run()
    at.button(key="decide_reject").click().run()
    monkeypatch.setattr(pipeline, "rerun", lambda *a, **k: (_ for _ in ()).throw(pipeline.GovernanceError("planted")))
    jobs.runner(app_db).drain()
    at.run()
    assert "1 decision waiting to apply to the OneIDs." in visible_text(at)  # a failed job is not retried by itself
    with app_db.cursor() as cur:
        assert [j.status for j in jobs.recent(cur)] == ["failed"]
    monkeypatch.undo()
    at.button(key="apply_decisions").click().run()
    jobs.runner(app_db).drain()
    at.run()
    assert "waiting to apply" not in visible_text(at)
