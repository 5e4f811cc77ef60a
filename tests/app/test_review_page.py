"""AppTest for the OneID review page, and the Home page's counts of waiting work on the same resolved store."""
from __future__ import annotations

import re

import pytest

from governance.access import auth, masking
from governance.jobs import runner as jobs
from governance.oneid import review
from governance.store.config import secret
from governance.ui.widgets import as_text
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
    assert [s.value for s in at.success] == [  # queued in the background, not run inside the page
        "Started in the background: see Jobs in the sidebar for its progress. You can leave this page."]
    assert at.button(key="resolve_run").disabled                     # no second resolve while one waits
    with resolved.cursor() as cur:
        (job,) = jobs.recent(cur)
    assert (job.kind, job.status, job.started_by) == ("resolve", "queued", "steward")
    jobs.runner(resolved).drain()
    at.run()
    assert not at.button(key="resolve_run").disabled
    assert [c.value for c in at.sidebar.caption if c.value.startswith("Done:")]  # the panel gives the outcome


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
    picker = at.selectbox(key="queue_pick")
    assert picker.format_func(picker.value) == picker.options[0]
    at.button(key="decide_skip").click().run()
    assert not at.exception
    picker = at.selectbox(key="queue_pick")
    shown = picker.format_func(picker.value)
    assert shown == picker.options[1]
    shown_pair = _pair_in(at, shown)
    with resolved.cursor() as cur:
        assert review.queue_size(cur) == before and not cur.execute("SELECT count(*) FROM review_decisions").fetchone()[0]
    at.button(key="decide_reject").click().run()
    assert not at.exception
    with resolved.cursor() as cur:
        rec_l, rec_r, decision = cur.execute("SELECT rec_l, rec_r, decision FROM review_decisions").fetchone()
    assert decision == "reject" and shown_pair == (rec_l, rec_r)


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
    assert at.button(key="calib_apply").disabled      # the decisions' own re-resolve is queued: it goes first
    jobs.runner(resolved).drain()
    at.run()
    at.button(key="calib_apply").click().run()
    assert not at.exception
    jobs.runner(resolved).drain()
    at.run()
    assert [c.value for c in at.sidebar.caption if c.value.startswith("Applied:")]
    with resolved.cursor() as cur:
        saved = review.latest_model(cur)
        assert (saved["auto_accept"], saved["review_low"]) == (0.95, 0.6)
        assert cur.execute("SELECT actor FROM audit_log WHERE action = 'oneid.thresholds_apply'").fetchall() == [
            ("steward",)]


def test_zh_recommendation_is_in_chinese(resolved):
    _label_auto_pairs(resolved, 60)
    with resolved.transaction() as cur:  # rejections in the same band of pairs the guards hold back
        cur.execute("UPDATE match_pairs SET held = true WHERE (rec_l, rec_r) IN (SELECT (rec_l, rec_r) FROM match_pairs "
                    "WHERE match_probability >= 0.95 ORDER BY rec_l DESC, rec_r DESC LIMIT 5)")
        held = cur.execute("INSERT INTO review_decisions SELECT nextval('decision_seq'), rec_l, rec_r, 'reject', "
                           "'steward', now(), NULL, NULL, NULL FROM (SELECT rec_l, rec_r FROM match_pairs WHERE held "
                           "AND match_probability >= 0.95)").fetchone()[0]
    at = app_test(resolved, "steward", lang="zh").run()
    at.switch_page("pages/review.py").run()
    assert not at.exception
    text = visible_text(at)
    assert "推荐：自动合并阈值 0.95（当前 0.99）" in text and "应用后（基于上次评分）" in text
    assert held == 5 and f"另有 {held} 个已审核的对未计入精确率" in text  # they leave the band's 60 of 60 as it was
    assert [b for b in at.button if b.key == "calib_apply"][0].label == "应用推荐阈值并重新识别"


# ---- the pair on screen is the pair decided ---------------------------------------------------------

def _review_page(db, username: str, lang: str = "en"):
    at = app_test(db, username, lang).run()
    at.switch_page("pages/review.py").run()
    assert not at.exception
    return at


def _pair_in(at, label: str) -> tuple[int, int]:
    """The pair a picker label ("张* (CRM) ↔ 张** (Tmall store) · 0.87") names in the page's last run.
    Labels show masked names, so the run's own labels tell: the picker's format_func is the
    `{pair: label}` dict's lookup."""
    labels = at.selectbox(key="queue_pick").format_func.__self__
    [pair] = [pair for pair, text in labels.items() if text == label]
    return pair


def _picker_shows(at, before: tuple[int, int] | None = None) -> tuple[int, int]:
    """The pair a browser's picker shows after this run. Streamlit sends a selectbox's value only
    when the server changed it (`set_value`); otherwise the browser keeps what it showed
    (`before`), or shows the default option when the picker is new."""
    proto = at.selectbox(key="queue_pick").proto
    if proto.set_value:
        return _pair_in(at, proto.raw_value)
    return before or _pair_in(at, proto.options[proto.default])


def _compared(at, db) -> tuple[int, int]:
    """The pair of the queue whose side-by-side records (masked for a steward) the page's comparison shows."""
    shown = [d.value for d in at.dataframe if list(d.value.columns) == ["field", "left", "right", "differs"]][0]
    with db.cursor() as cur:
        policy = masking.load_policy(cur, secret("hmac_key"))
        pairs = [(int(a), int(b)) for a, b in review.queue(cur, limit=50)[["rec_l", "rec_r"]].values]
        for pair in pairs:
            frame = masking.mask_by_row(review.side_by_side(cur, *pair), "field", ("left", "right"), {"source"},
                                        role="steward", policy=policy)
            if frame[["left", "right"]].map(as_text).values.tolist() == shown[["left", "right"]].values.tolist():
                return pair
    raise AssertionError("the comparison shows no pair of the queue")


def _decisions(db) -> list[tuple]:
    with db.cursor() as cur:
        return cur.execute("SELECT least(rec_l, rec_r), greatest(rec_l, rec_r), decision, actor FROM review_decisions "
                           "WHERE undone_at IS NULL ORDER BY decision_id").fetchall()


def test_after_each_decision_the_picker_the_comparison_and_the_buttons_show_one_pair(resolved):
    at = _review_page(resolved, "steward")
    shown = _picker_shows(at)
    assert _compared(at, resolved) == shown
    at.button(key="decide_skip").click().run()                  # away from the top of the queue
    decided = []
    for decision in ("approve", "reject", "approve"):
        shown = _picker_shows(at, shown)
        assert _compared(at, resolved) == shown
        at.button(key=f"decide_{decision}").click().run()
        assert not at.exception
        decided.append((*shown, decision, "steward"))
        assert _decisions(resolved) == decided                  # the click decided the pair on screen
        assert _picker_shows(at, shown) != shown                # and the page moved on
    assert [s.value for s in at.success] == ["Recorded: Same person ✓."]


@pytest.mark.parametrize("lang, message", [
    ("en", "steward2 already decided this pair (approved); here is the next one."),
    ("zh", "steward2 已经审核过这对记录（同一人）；这是下一对。")])
def test_a_pair_decided_in_another_session_is_not_decided_again(resolved, lang, message):
    auth.create_user(resolved, "test", "steward2", "steward2-pass-123", "steward")
    mine, theirs = _review_page(resolved, "steward", lang), _review_page(resolved, "steward2")
    pair = _picker_shows(mine)
    assert _picker_shows(theirs) == pair
    theirs.button(key="decide_approve").click().run()
    mine.button(key="decide_reject").click().run()               # on the pair it still shows
    assert not mine.exception
    assert _decisions(resolved) == [(*pair, "approve", "steward2")]
    assert [w.value for w in mine.warning] == [message]
    following = _picker_shows(mine, pair)
    assert following != pair and _compared(mine, resolved) == following
    mine.button(key="decide_reject").click().run()
    assert _decisions(resolved) == [(*pair, "approve", "steward2"), (*following, "reject", "steward")]


def test_my_decision_sent_twice_is_recorded_once_and_reads_as_recorded(resolved):
    """A double click, or a click the browser sends again, finds the pair decided by me the same way."""
    at = _review_page(resolved, "steward")
    pair = _picker_shows(at)
    review.decide(resolved, "steward", *pair, "approve")         # the first of the two submissions
    at.button(key="decide_approve").click().run()
    assert not at.exception and not at.warning
    assert [s.value for s in at.success] == ["Recorded: Same person ✓."]
    assert _decisions(resolved) == [(*pair, "approve", "steward")]
    assert _picker_shows(at, pair) != pair                      # and the page moved on


def test_undo_my_last_decision_undoes_my_own_latest_and_the_history_shows_masked_names(resolved):
    with resolved.cursor() as cur:
        first, second, third = [(int(a), int(b)) for a, b in review.queue(cur, limit=3)[["rec_l", "rec_r"]].values]
        names = dict(cur.execute("SELECT batch_id * 4294967296 + row_number, name FROM std_records").fetchall())
        policy = masking.load_policy(cur, secret("hmac_key"))
    first_id = review.decide(resolved, "steward", *first, "reject")
    second_id = review.decide(resolved, "steward", *second, "approve")
    review.decide(resolved, "admin", *third, "approve")          # someone else's, later
    masked = {rid: masking.mask_value("name", names[rid], role="steward", policy=policy) for rid in (*first, *second, *third)}
    raw = {names[rid] for rid in masked if masked[rid] != names[rid]}
    assert raw                                                   # names the steward sees masked

    def pair_text(pair: tuple[int, int]) -> str:
        return " ↔ ".join(masked[rid] or "—" for rid in pair)

    at = _review_page(resolved, "steward")
    assert f"Undoes #{second_id}: {pair_text(second)} (approved)." in visible_text(at)
    history = [d.value for d in at.dataframe if {"name_l", "decision"} <= set(d.value.columns)][0]
    assert history[["name_l", "name_r"]].values.tolist() == [[masked[r] or "—" for r in p] for p in (third, second, first)]
    assert not raw & set(history.astype(str).values.ravel())
    assert at.selectbox(key="undo_pick").value is None           # no default decision to undo

    at.button(key="undo_mine").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        f"Undone #{second_id}: {pair_text(second)}; the pair is back in the queue."]
    assert _decisions(resolved) == [(*first, "reject", "steward"), (*third, "approve", "admin")]
    assert _picker_shows(at) == second and _compared(at, resolved) == second   # the undone pair, to decide again
    assert f"Undoes #{first_id}: {pair_text(first)} (rejected)." in visible_text(at)


# ---- queue navigation: filters, search, masked labels, links to Customer 360 ----------------------

def _queue_table(at):
    return [d.value for d in at.dataframe if {"name_l", "channel_l", "oneid_l"} <= set(d.value.columns)][0]


def _names(db) -> dict[int, str]:
    with db.cursor() as cur:
        return dict(cur.execute("SELECT batch_id * 4294967296 + row_number, name FROM std_records "
                                "WHERE name IS NOT NULL").fetchall())


@pytest.mark.parametrize("role", ["analyst", "steward"])
def test_the_picker_names_pairs_by_masked_name_and_channel(resolved, role):
    at = _review_page(resolved, role, "zh")
    options = at.selectbox(key="queue_pick").options
    assert options and not [o for o in options if re.match(r"^\d+:\d+ ↔", o)]      # not "2:382 ↔ 5:487"
    assert len(set(options)) == len(options)
    channels = {"微信小程序", "抖音小店", "天猫旗舰店", "门店POS", "CRM会员系统"}
    label = re.compile(r"^(.+) \((.+)\) ↔ (.+) \((.+)\) · (0\.\d\d|1\.00)( · \d+:\d+ ↔ \d+:\d+)?$")
    for option in options:
        match = label.match(option)
        assert match and {match.group(2), match.group(4)} <= channels, option
    raw = set(_names(resolved).values())
    with resolved.cursor() as cur:
        policy = masking.load_policy(cur, secret("hmac_key"))
    shown = {n for o in options for n in (label.match(o).group(1), label.match(o).group(3))} - {"—"}
    assert shown and not shown & {n for n in raw if masking.mask_value("name", n, role=role, policy=policy) != n}
    table = _queue_table(at)
    assert not MOBILE.search(table.to_string()) and not set(table["name_l"].dropna()) & raw - shown


def test_the_queue_filters_by_source_and_band(resolved):
    at = _review_page(resolved, "steward")
    with resolved.cursor() as cur:
        source = review.queue(cur, limit=50)["source_r"].iloc[0]
        expected = review.queue_size(cur, source=source)
    at.selectbox(key="queue_source").set_value(source).run()
    assert not at.exception
    table, options = _queue_table(at), at.selectbox(key="queue_pick").options
    assert len(table) == len(options) == expected
    with resolved.cursor() as cur:
        page = review.queue(cur, source=source, limit=50)
    assert ((page["source_l"] == source) | (page["source_r"] == source)).all()
    assert {_pair_in(at, o) for o in options} == {(int(a), int(b)) for a, b in page[["rec_l", "rec_r"]].values}
    at.slider(key="queue_band").set_value((0.9, 1.0)).run()
    assert not at.exception
    with resolved.cursor() as cur:
        matching = review.queue_size(cur, source, 0.9, 1.0)
    assert f"{matching} pairs match" in visible_text(at)
    if matching:
        assert (_queue_table(at)["match_probability"] >= 0.9).all()
    else:  # no table: the grid would write "empty"
        assert "No rows yet." in visible_text(at)


def _searched(at, text: str) -> set[tuple[int, int]]:
    at.text_input(key="queue_search").input(text).run()
    assert not at.exception
    picker = [s for s in at.selectbox if s.key == "queue_pick"]
    return {_pair_in(at, o) for o in picker[0].options} if picker else set()


def test_search_finds_pairs_by_name_mobile_or_oneid_and_shows_them_masked(resolved):
    with resolved.cursor() as cur:
        page = review.queue(cur, limit=50, with_names=True)
        people = dict(cur.execute("SELECT batch_id * 4294967296 + row_number, (name, mobile) FROM std_records "
                                  "WHERE name IS NOT NULL AND mobile IS NOT NULL").fetchall())
    row = next(r for r in page.itertuples() if int(r.rec_r) in people)
    name, mobile = people[int(row.rec_r)]
    pair = (int(row.rec_l), int(row.rec_r))
    at = _review_page(resolved, "analyst")
    assert pair in _searched(at, row.oneid_r.lower())             # OneID, any case
    assert pair in _searched(at, name)
    assert not MOBILE.search(visible_text(at)) and name not in _queue_table(at)["name_r"].tolist()
    spaced = f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}"      # as typed: matched on the standardized mobile
    found = _searched(at, spaced)
    assert pair in found and mobile not in visible_text(at)
    with resolved.cursor() as cur:
        assert len(found) == review.queue_size(cur, search=mobile)
    assert _searched(at, "无此人") == set()
    assert "No pair waiting for review matches." in visible_text(at)
    assert _searched(at, "' OR 1=1 --") == set()                  # a parameter, never SQL


def test_links_open_either_customer_in_customer_360(resolved):
    at = _review_page(resolved, "analyst")
    pair = _picker_shows(at)
    with resolved.cursor() as cur:
        row = review.queue(cur, limit=50).set_index(["rec_l", "rec_r"]).loc[pair]
    links = {link.proto.label: link.proto for link in at.get("page_link") if link.proto.label.startswith("Open ")}
    assert set(links) == {f"Open A in Customer 360: {row.oneid_l}", f"Open B in Customer 360: {row.oneid_r}"}
    for proto, oneid in zip(links.values(), (row.oneid_l, row.oneid_r)):
        assert proto.page.endswith("customer360") and proto.query_string == f"oneid={oneid}"
    from governance.golden import survivorship
    survivorship.refresh_golden(resolved)
    opened = app_test(resolved, "analyst").run()                  # following the link
    opened.query_params["oneid"] = row.oneid_r
    opened.switch_page("pages/customer360.py").run()
    assert not opened.exception
    assert row.oneid_r in [h.value for h in opened.subheader]
    assert not MOBILE.search(visible_text(opened))
