"""AppTest for the OneID review page, and the Home page's counts of waiting work on the same resolved store."""
from __future__ import annotations

import pytest

from governance.oneid import review
from helpers import ID_NUMBER, MOBILE, app_test, load_generated, visible_text


@pytest.fixture
def resolved(app_db, tmp_path):
    load_generated(app_db, tmp_path / "d", 500, seed=3)
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


def test_steward_reveal_on_a_pair_is_audited(resolved):
    at = app_test(resolved, "steward").run()
    at.switch_page("pages/review.py").run()
    masked = visible_text(at)
    at.toggle(key="review_reveal").set_value(True).run()
    assert "Enter a reason to show the unmasked data." in visible_text(at)
    with resolved.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'pii.reveal'").fetchone()[0] == 0
    at.text_input(key="review_reveal_reason").input("checking a disputed merge").run()
    assert not at.exception
    assert visible_text(at) != masked
    with resolved.cursor() as cur:
        assert cur.execute("SELECT actor, object_type FROM audit_log WHERE action = 'pii.reveal'").fetchall()[0] == (
            "steward", "pair")


def test_steward_decides_by_keyboard_and_skips_to_the_next_pair(resolved):
    with resolved.cursor() as cur:
        before = review.queue_size(cur)
    at = app_test(resolved, "steward").run()
    at.switch_page("pages/review.py").run()
    shortcuts = {key: at.button(key=key).proto.shortcut for key in ("decide_approve", "decide_reject", "decide_skip")}
    assert shortcuts == {"decide_approve": "y", "decide_reject": "n", "decide_skip": "s"}
    assert "Shortcuts: Y same person · N not a match · S skip" in visible_text(at)
    first = at.selectbox(key="queue_pick").value
    at.button(key="decide_skip").click().run()
    assert not at.exception
    assert at.selectbox(key="queue_pick").value == first + 1
    with resolved.cursor() as cur:
        assert review.queue_size(cur) == before and not cur.execute("SELECT count(*) FROM review_decisions").fetchone()[0]
    shown = at.selectbox(key="queue_pick").format_func(first + 1)
    at.button(key="decide_reject").click().run()
    assert not at.exception
    with resolved.cursor() as cur:
        rec_l, rec_r, decision = cur.execute("SELECT rec_l, rec_r, decision FROM review_decisions").fetchone()
    assert decision == "reject" and shown.startswith(f"{rec_l // 4294967296}:{rec_l % 4294967296} ↔")


def test_zh_page_lists_the_shortcuts(resolved):
    at = app_test(resolved, "steward", lang="zh").run()
    at.switch_page("pages/review.py").run()
    assert not at.exception
    assert "快捷键：Y 同一人 · N 不是同一人 · S 跳过" in visible_text(at)


def test_steward_splits_a_record_out_and_it_shows_at_once(resolved):
    with resolved.cursor() as cur:
        oneid, rec_id = cur.execute("SELECT oneid, max(rec_id) FROM crosswalk GROUP BY oneid HAVING count(*) > 1 "
                                    "ORDER BY oneid LIMIT 1").fetchone()
        label = review.cluster_members(cur, oneid).set_index("rec_id").loc[rec_id, "record"]
    at = app_test(resolved, "steward").run()
    at.switch_page("pages/review.py").run()
    at.text_input(key="cluster_oneid").input(oneid).run()
    at.selectbox(key="split_pick").select(label).run()
    at.button(key="split_button").click().run()
    assert not at.exception
    with resolved.cursor() as cur:
        moved_to = cur.execute("SELECT oneid FROM crosswalk WHERE rec_id = ?", [rec_id]).fetchone()[0]
        rejects = cur.execute("SELECT count(*) FROM review_decisions WHERE decision = 'reject'").fetchone()[0]
    assert moved_to != oneid and rejects >= 1
    assert at.success[0].value == f"Split: the record now belongs to {moved_to}."


def test_pair_comparison_names_fields_and_shows_sources_unmasked(resolved):
    at = app_test(resolved, "analyst").run()
    at.switch_page("pages/review.py").run()
    compare = [d.value for d in at.dataframe if list(d.value.columns) == ["field", "left", "right", "differs"]][0]
    first = compare.iloc[0]
    assert first["field"] == "Source" and {first["left"], first["right"]} <= {
        "wechat_mp_member", "douyin_orders", "tmall_orders", "pos_sales", "crm_members"}
    assert "Mobile" in compare["field"].tolist() and "mobile" not in compare["field"].tolist()
    assert not MOBILE.search(compare.to_string())                     # personal data stays masked


def test_home_shows_the_work_waiting(resolved):
    from datetime import date, timedelta

    from governance.privacy import dsr
    from governance.quality import profile

    score = profile.run_profile(resolved, "t").score
    dsr.create(resolved, "t", "access", "张三", received_on=date.today() - timedelta(days=60))
    dsr.create(resolved, "t", "deletion", "李四")
    with resolved.cursor() as cur:
        oneids = cur.execute("SELECT count(DISTINCT oneid) FROM crosswalk").fetchone()[0]
        to_review = review.queue_size(cur)
    at = app_test(resolved, "analyst").run()
    metrics = {m.label: m for m in at.metric}
    assert metrics["OneIDs"].value == f"{oneids:,}" and metrics["Pairs to review"].value == f"{to_review:,}"
    assert metrics["Open data-subject requests"].value == "2" and metrics["Open data-subject requests"].delta == "1 overdue"
    assert metrics["Quality score"].value == f"{score:.1f}"


def _label_auto_pairs(db, n: int) -> None:
    """`n` scored pairs of [0.95, 1.0] approved by a steward: enough labels to measure that band."""
    with db.transaction() as cur:
        cur.execute("INSERT INTO review_decisions SELECT nextval('decision_seq'), rec_l, rec_r, 'approve', 'steward', "
                    "now(), NULL, NULL, NULL FROM (SELECT rec_l, rec_r FROM match_pairs WHERE match_probability >= 0.95 "
                    "ORDER BY rec_l, rec_r LIMIT ?)", [n])


def _charts(at) -> list[str]:
    return [element.proto.spec for element in at.get("plotly_chart")]


def test_too_few_labels_recommend_no_thresholds(resolved):
    _label_auto_pairs(resolved, 10)
    at = app_test(resolved, "steward").run()
    at.switch_page("pages/review.py").run()
    assert not at.exception
    assert "Too few labels: 10 decisions so far, and a band needs 50" in visible_text(at)
    assert not [c for c in _charts(at) if "Measured precision per probability band" in c]
    assert not [b for b in at.button if b.key == "calib_apply"]


def test_steward_sees_precision_by_band_and_applies_the_recommendation_after_a_preview(resolved):
    _label_auto_pairs(resolved, 60)
    at = app_test(resolved, "steward").run()
    at.switch_page("pages/review.py").run()
    assert not at.exception
    assert [c for c in _charts(at) if "Measured precision per probability band" in c]
    text = visible_text(at)
    assert "Recommended: auto-accept at 0.95 (today 0.99), review from 0.6 (today 0.6), from 60 labels" in text
    assert "Applying it (on the last scores):" in text and "OneIDs merge into others" in text
    with resolved.cursor() as cur:  # previewed, not applied
        assert not cur.execute("SELECT count(*) FROM audit_log WHERE action = 'oneid.thresholds_apply'").fetchone()[0]
    at.button(key="calib_apply").click().run()
    assert not at.exception
    assert [s.value for s in at.success if s.value.startswith("Applied:")]
    with resolved.cursor() as cur:
        saved = review.latest_model(cur)
        assert (saved["auto_accept"], saved["review_low"]) == (0.95, 0.6)
        assert cur.execute("SELECT actor FROM audit_log WHERE action = 'oneid.thresholds_apply'").fetchall() == [
            ("steward",)]


def test_zh_recommendation_is_in_chinese(resolved):
    _label_auto_pairs(resolved, 60)
    at = app_test(resolved, "steward", lang="zh").run()
    at.switch_page("pages/review.py").run()
    assert not at.exception
    text = visible_text(at)
    assert "推荐：自动合并阈值 0.95（当前 0.99）" in text and "应用后（基于上次评分）" in text
    assert [b for b in at.button if b.key == "calib_apply"][0].label == "应用推荐阈值并重新识别"
