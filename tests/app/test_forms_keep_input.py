"""AppTest: a form refused with an error keeps what was typed; once it succeeds it starts empty under
its outcome (consent, data-subject requests, Customer 360 steward actions). Before, these forms
cleared on every submit, so a refused entry had to be typed again."""
from __future__ import annotations

import pytest
from test_customer360_page import open_customer

from helpers import app_test, load_generated, visible_text

CONSENT, REQUESTS = "pages/consent.py", "pages/requests.py"


@pytest.fixture
def store(app_db, tmp_path):
    from governance.golden import survivorship

    load_generated(app_db, tmp_path / "d", 120, seed=9)
    survivorship.refresh_golden(app_db)
    with app_db.cursor() as cur:
        oneid = cur.execute("SELECT oneid FROM golden_records ORDER BY record_count DESC, oneid LIMIT 1").fetchone()[0]
    return app_db, oneid


def submit(at, label: str):
    [b for b in at.button if b.label == label][0].click().run()
    assert not at.exception
    return at


def test_a_refused_consent_entry_keeps_what_was_typed(store):
    db, oneid = store
    at = app_test(db, "steward").run()
    at.switch_page(CONSENT).run()
    at.text_input(key="consent_form_oneid").input("OID-NOT-THERE")
    at.text_input(key="consent_form_evidence").input("paper form 7")
    at.radio(key="consent_form_action").set_value("withdrawn")
    submit(at, "Save")
    assert at.error  # refused: no such OneID
    assert at.text_input(key="consent_form_oneid").value == "OID-NOT-THERE"
    assert at.text_input(key="consent_form_evidence").value == "paper form 7"
    assert at.radio(key="consent_form_action").value == "withdrawn"

    at.text_input(key="consent_form_oneid").input(oneid)
    submit(at, "Save")
    assert not at.error and [s.value for s in at.success if s.value.startswith("Recorded")]
    assert at.text_input(key="consent_form_oneid").value == ""     # done: the form starts empty
    assert at.text_input(key="consent_form_evidence").value == ""


def test_a_refused_request_keeps_what_was_typed(store):
    db, _ = store
    at = app_test(db, "steward").run()
    at.switch_page(REQUESTS).run()
    at.selectbox(key="dsr_new_type").set_value("deletion")
    at.text_input(key="dsr_new_oneid").input("OID-NOT-THERE")
    submit(at, "Log request")                                         # no requester: refused
    assert at.error
    assert at.selectbox(key="dsr_new_type").value == "deletion"
    assert at.text_input(key="dsr_new_oneid").value == "OID-NOT-THERE"

    at.text_input(key="dsr_new_requester").input("申请人")
    at.text_input(key="dsr_new_oneid").input("")
    submit(at, "Log request")
    assert not at.error and "Logged request #1" in visible_text(at)
    assert at.text_input(key="dsr_new_requester").value == ""
    assert at.selectbox(key="dsr_new_type").value == "deletion"       # choices stay for the next entry


def test_a_refused_override_keeps_what_was_typed(store):
    db, oneid = store
    at = open_customer(app_test(db, "steward").run(), oneid)
    at.selectbox(key="c360_override_field").set_value("email")
    at.text_input(key="c360_override_value").input("not an email")
    at.text_input(key="c360_override_reason").input("customer called")
    submit(at, "Save override")
    assert at.error                                                   # the value does not standardize
    assert at.text_input(key="c360_override_value").value == "not an email"
    assert at.text_input(key="c360_override_reason").value == "customer called"

    at.text_input(key="c360_override_value").input("fixed.wang@163.com")
    submit(at, "Save override")
    assert "Override #1 saved." in visible_text(at)
    assert at.text_input(key="c360_override_value").value == ""
