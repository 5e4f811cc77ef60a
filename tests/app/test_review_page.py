"""AppTest for the OneID review page."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers import ID_NUMBER, MOBILE, app_test, visible_text
from governance import ingest, synth
from governance.oneid import resolve, review
from governance.standardize import engine

MODEL = (Path(__file__).resolve().parents[1] / "fixtures" / "oneid_model.json").read_text(encoding="utf-8")


@pytest.fixture
def resolved(app_db, tmp_path):
    workspace = synth.generate_workspace(500, seed=3)
    for spec, path in zip(workspace.files, synth.write_workspace(workspace, tmp_path / "d")):
        ingest.ingest_file(app_db, path, actor="t", source=spec.source, channel=spec.channel)
    engine.standardize(app_db, "t")
    resolve.resolve(app_db, "t", model_json=MODEL)
    return app_db


def test_analyst_sees_the_queue_masked_and_read_only(resolved):
    at = app_test(resolved, "analyst").run()
    at.switch_page("pages/review.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["OneID review"]
    assert "Analysts see this page read-only" in visible_text(at)
    assert not [b for b in at.button if b.key in ("resolve_run", "bulk_approve", "undo_button")]
    assert not at.get("form")
    text = visible_text(at)
    assert not MOBILE.search(text) and not ID_NUMBER.search(text)


def test_steward_approves_a_pair_and_the_queue_shrinks(resolved):
    with resolved.cursor() as cur:
        before = review.queue_size(cur)
    at = app_test(resolved, "steward").run()
    at.switch_page("pages/review.py").run()
    assert not at.exception
    approve = [b for b in at.button if b.label == "Same person ✓"][0]
    approve.click().run()
    assert not at.exception
    with resolved.cursor() as cur:
        assert review.queue_size(cur) == before - 1
        assert cur.execute("SELECT actor, decision FROM review_decisions").fetchall() == [("steward", "approve")]


def test_steward_reruns_resolution_with_the_saved_model(resolved):
    at = app_test(resolved, "steward").run()
    at.switch_page("pages/review.py").run()
    at.checkbox(key="th_retrain").uncheck()
    at.button(key="resolve_run").click().run()
    assert not at.exception
    assert at.success and at.success[0].value.startswith("Done:")
