"""AppTest for the Requests and Retention pages: roles, masking, and a request from inbox to done."""
from __future__ import annotations

import pytest

from governance.golden import survivorship
from governance.jobs import runner as jobs
from governance.privacy import dsr, retention
from helpers import ID_NUMBER, MOBILE, app_test, load_generated, visible_text

PAGES = {"requests": "pages/requests.py", "retention": "pages/retention.py"}


@pytest.fixture
def resolved(app_db, tmp_path):
    load_generated(app_db, tmp_path / "d", 200, seed=11)
    survivorship.build_golden(app_db)
    return app_db


def _person(db) -> tuple[str, str]:
    with db.cursor() as cur:
        return cur.execute("SELECT c.oneid, s.mobile FROM crosswalk c JOIN std_records s USING (batch_id, row_number) "
                           "WHERE s.mobile_status = 'valid' ORDER BY c.oneid LIMIT 1").fetchone()


def test_analyst_reaching_the_script_directly_is_stopped(app_db, cold_server):
    for page in PAGES.values():
        at = app_test(app_db, "analyst")
        at.switch_page(page).run()
        assert [e.value for e in at.error] == ["Your role does not have access to this page."]
        assert not at.title


def test_steward_logs_verifies_and_erases_a_person(resolved):
    oneid, mobile = _person(resolved)
    at = app_test(resolved, "steward").run()
    at.switch_page(PAGES["requests"]).run()
    assert "No requests yet." in visible_text(at)
    at.selectbox(key="dsr_new_type").set_value("deletion")
    at.text_input(key="dsr_new_requester").input("申请人")
    at.text_input(key="dsr_new_mobile").input(mobile)
    [b for b in at.button if b.label == "Log request"][0].click().run()
    assert not at.exception
    assert "Logged request #1" in visible_text(at)
    text = visible_text(at)
    assert not MOBILE.search(text) and not ID_NUMBER.search(text) and "申请人" not in text  # masked: 申**
    at.text_input(key="dsr_identity").input("ID card seen at the counter")
    at.button(key="dsr_verify").click().run()
    assert not at.exception
    assert at.button(key="dsr_delete").disabled
    at.checkbox(key="dsr_delete_confirm").check().run()
    at.button(key="dsr_delete").click().run()
    assert not at.exception
    assert "Erased" in visible_text(at)
    with resolved.cursor() as cur:
        req = dsr.get(cur, 1)
        assert req.status == "done" and req.oneids == [oneid]
        assert cur.execute("SELECT count(*) FROM crosswalk WHERE oneid = ?", [oneid]).fetchone()[0] == 0
    assert not MOBILE.search(visible_text(at))


def test_access_package_download(resolved):
    oneid, _ = _person(resolved)
    request_id = dsr.create(resolved, "steward", "access", "申请人", oneids=[oneid])
    dsr.verify(resolved, "steward", request_id, "checked")
    at = app_test(resolved, "admin").run()
    at.switch_page(PAGES["requests"]).run()
    at.button(key="dsr_access").click().run()
    assert not at.exception
    jobs.runner(resolved).drain()  # the package is built by a background job
    at.run()
    assert at.get("download_button")
    with resolved.cursor() as cur:
        assert dsr.get(cur, request_id).status == "in_progress"
    at.text_area(key="dsr_response").input("Package sent by post.")
    [b for b in at.button if b.label == "Close as done"][0].click().run()
    with resolved.cursor() as cur:
        assert dsr.get(cur, request_id).status == "done"


def test_retention_page_sets_scans_and_applies(resolved):
    with resolved.cursor() as cur:
        source, batch = cur.execute("SELECT source, batch_id FROM batches WHERE channel = 'douyin'").fetchone()
        cur.execute("UPDATE batches SET uploaded_at = uploaded_at - INTERVAL 800 DAY WHERE batch_id = ?", [batch])
        rows = cur.execute("SELECT count(*) FROM std_records WHERE batch_id = ?", [batch]).fetchone()[0]
    at = app_test(resolved, "steward").run()
    at.switch_page(PAGES["retention"]).run()
    assert "No retention periods yet." in visible_text(at)
    at.selectbox(key="ret_source").set_value(source)
    [b for b in at.button if b.label == "Save"][0].click().run()
    assert not at.exception
    with resolved.cursor() as cur:
        assert retention.scan(cur, "source", source).records == rows
    assert f"{rows} records" in visible_text(at)
    assert not MOBILE.search(visible_text(at))
    at.checkbox(key="ret_confirm").check().run()
    at.button(key="ret_apply").click().run()
    assert not at.exception
    jobs.runner(resolved).drain()  # the erasure runs as a background job
    at.run()
    assert f"{rows} records erased" in visible_text(at)
    with resolved.cursor() as cur:
        assert cur.execute("SELECT records FROM retention_runs").fetchall() == [(rows,)]


def _verified(db, request_type: str, oneid: str) -> int:
    request_id = dsr.create(db, "steward", request_type, "申请人", oneids=[oneid])
    dsr.verify(db, "steward", request_id, "ID card seen")
    return request_id


def test_a_withdrawal_and_a_correction_are_made_in_chinese_from_labelled_choices(resolved):
    """The purpose is chosen from the consent purposes and the field from the standard fields, by
    their names in the UI language; a refused value says why in words, not as a code."""
    from governance.privacy import consent

    oneid, _ = _person(resolved)
    withdrawal, correction = _verified(resolved, "withdrawal", oneid), _verified(resolved, "correction", oneid)
    at = app_test(resolved, "steward", "zh").run()
    at.switch_page(PAGES["requests"]).run()
    at.selectbox(key="dsr_pick").set_value(withdrawal).run()
    purpose = at.selectbox(key="dsr_purpose")
    assert purpose.options == ["营销", "分析", "向第三方提供", *purpose.options[3:]] and "marketing" not in purpose.options
    purpose.set_value("analytics")
    at.button(key="dsr_withdraw").click().run()
    assert not at.exception and not at.error
    with resolved.cursor() as cur:
        assert consent.current(cur, oneid)["analytics"] == "withdrawn"

    at.selectbox(key="dsr_pick").set_value(correction).run()
    field = at.selectbox(key="dsr_field")
    assert "手机号" in field.options and "mobile" not in field.options
    field.set_value("mobile")
    at.text_input(key="dsr_value").input("not-a-mobile")
    at.text_input(key="dsr_reason").input("客户来电更正")
    at.button(key="dsr_correct").click().run()
    assert [e.value for e in at.error] == ["出错了：“not-a-mobile”不是有效的手机号：手机号格式无效。"]
