"""AppTest for the Export and Consent pages: who reaches them, masking, the export flow and consent edits."""
from __future__ import annotations

import pandas as pd
import pytest

from governance.golden import survivorship
from governance.jobs import runner as jobs
from governance.privacy import consent
from governance.store.schema import CHANNELS
from helpers import ID_NUMBER, MOBILE, app_test, load_generated, visible_text

PAGES = {"export": "pages/export.py", "consent": "pages/consent.py"}


@pytest.fixture
def golden(app_db, tmp_path):
    load_generated(app_db, tmp_path / "d", 300, seed=7)
    survivorship.build_golden(app_db)
    return app_db


def test_analyst_direct_run_of_the_export_page_is_denied(app_db, cold_server):
    at = app_test(app_db, "analyst")
    at.switch_page(PAGES["export"]).run()
    assert [e.value for e in at.error] == ["Your role does not have access to this page."]
    assert not at.title and not at.button


def test_export_page_without_golden_records_says_so(app_db):
    at = app_test(app_db, "steward").run()
    at.switch_page(PAGES["export"]).run()
    assert not at.exception
    assert "no golden records yet" in visible_text(at)


def test_steward_prepares_a_masked_export_with_a_count_and_a_manifest(golden):
    at = app_test(golden, "steward").run()
    at.switch_page(PAGES["export"]).run()
    assert not at.exception
    with golden.cursor() as cur:
        oneids = cur.execute("SELECT count(*) FROM golden_records").fetchone()[0]
    assert [m.value for m in at.metric] == [f"{oneids:,}"]
    at.button(key="export_prepare").click().run()
    assert not at.exception
    jobs.runner(golden).drain()  # the export runs as a background job
    at.run()
    assert at.success and at.success[0].value.startswith("Ready: steward-golden-")
    assert at.download_button(key="export_download")
    with golden.cursor() as cur:
        name, masked, rows, actor = cur.execute(
            "SELECT file_name, masked, row_count, actor FROM export_manifests").fetchone()
    assert masked and rows == oneids and actor == "steward"
    path = golden.path.parent / "exports" / name
    text = path.read_bytes().decode("utf-8-sig")
    assert not MOBILE.search(text) and not ID_NUMBER.search(text)
    assert (path.parent / (name + ".manifest.json")).is_file()
    assert name in visible_text(at)  # the recent-exports table
    assert not MOBILE.search(visible_text(at))

    path.unlink()  # kept its days, or removed by an erasure: the page says so instead of offering it
    at.run()
    assert not at.download_button and not at.success
    assert any("no longer on the server" in c.value and "kept 7 days" in c.value for c in at.caption)


def test_marketing_purpose_narrows_the_count_and_unmasked_needs_a_purpose(golden):
    at = app_test(golden, "steward").run()
    at.switch_page(PAGES["export"]).run()
    everyone = at.metric[0].value
    at.selectbox(key="export_purpose_kind").set_value("marketing").run()
    with golden.cursor() as cur:
        consenting = cur.execute("SELECT count(*) FROM consent_current c JOIN golden_records g USING (oneid) "
                                 "WHERE purpose = 'marketing' AND state = 'granted' AND NOT g.is_minor").fetchone()[0]
    assert at.metric[0].value == f"{consenting:,}" != everyone
    at.selectbox(key="export_purpose_kind").set_value("").run()
    at.toggle(key="export_unmasked").set_value(True).run()
    assert "An unmasked export needs a stated purpose." in visible_text(at)
    assert at.button(key="export_prepare").disabled
    at.selectbox(key="export_format").set_value("parquet")
    at.text_input(key="export_purpose_note").input("customer service follow-up").run()
    at.button(key="export_prepare").click().run()
    assert not at.exception
    jobs.runner(golden).drain()
    with golden.cursor() as cur:
        name = cur.execute("SELECT file_name FROM export_manifests WHERE NOT masked").fetchone()[0]
        assert cur.execute("SELECT actor, detail FROM audit_log WHERE action = 'export.unmasked'").fetchone()[0] == "steward"
    values = pd.read_parquet(golden.path.parent / "exports" / name)["mobile"].dropna().astype(str)
    assert values.str.contains(MOBILE.pattern).any()  # unmasked, as asked


def test_analyst_reads_the_consent_ledger_masked_and_read_only(golden):
    consent.grant(golden, "steward", _some_oneid(golden), "guardian", evidence_ref="signed form 13912345678")
    at = app_test(golden, "analyst").run()
    at.switch_page(PAGES["consent"]).run()
    assert not at.exception
    text = visible_text(at)
    assert "Analysts see the ledger read-only" in text and "granted" in text
    assert not [b for b in at.button if b.key != "logout_button"] and not at.get("form")
    at.selectbox(key="consent_purpose").set_value("guardian").run()
    text = visible_text(at)
    assert "Guardian consent (under 14)" in text and "13912345678" not in text
    assert not MOBILE.search(text) and not ID_NUMBER.search(text)


def _some_oneid(db) -> str:
    with db.cursor() as cur:
        return cur.execute("SELECT oneid FROM consent_current WHERE purpose = 'marketing' AND state = 'granted' "
                           "ORDER BY oneid LIMIT 1").fetchone()[0]


def test_steward_withdraws_consent_on_the_page_and_it_is_audited(golden):
    oneid = _some_oneid(golden)
    at = app_test(golden, "steward").run()
    at.switch_page(PAGES["consent"]).run()
    at.text_input(key="consent_oneid").input("13912345678").run()  # not a OneID: not echoed
    assert "13912345678" not in visible_text(at) and "no consent record" in visible_text(at)
    at.text_input(key="consent_oneid").input(oneid).run()
    assert oneid in visible_text(at)
    at.text_input(key="consent_form_oneid").input(oneid)
    at.radio(key="consent_form_action").set_value("withdrawn")
    at.selectbox(key="consent_form_purpose").set_value("marketing")
    at.text_input(key="consent_form_evidence").input("ticket 9")
    at.get("form")[0].button[0].click()  # the submit button
    at.run()
    assert not at.exception
    assert at.success and at.success[0].value.startswith("Recorded")
    with golden.cursor() as cur:
        assert consent.current(cur, oneid)["marketing"] == "withdrawn"
        assert cur.execute("SELECT actor, object_id FROM audit_log WHERE action = 'consent.withdrawn'").fetchall() == [
            ("steward", oneid)]


def test_standardization_fills_the_ledger_and_a_manual_import_adds_only_new_rows(app_db, tmp_path):
    load_generated(app_db, tmp_path / "d", 200, seed=11)
    with app_db.cursor() as cur:
        imported = cur.execute("SELECT count(*) FROM consent_records WHERE method = 'source_import'").fetchone()[0]
    assert imported > 0
    at = app_test(app_db, "steward").run()
    at.switch_page(PAGES["consent"]).run()
    at.button(key="consent_import").click().run()
    assert not at.exception
    assert at.success and at.success[0].value.startswith("Imported 0")
    with app_db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM consent_records").fetchone()[0] == imported


def test_consent_codes_read_in_the_ui_language(app_db, tmp_path):
    load_generated(app_db, tmp_path / "d", 200, seed=4, resolve=True)
    for lang, granted, channel in (("zh", "同意", "CRM会员系统"), ("en", "granted", CHANNELS["crm"][1])):
        at = app_test(app_db, "steward", lang=lang).run()
        at.switch_page("pages/consent.py").run()
        assert not at.exception
        current = [d.value for d in at.dataframe if "state" in d.value.columns and "channel" in d.value.columns][0]
        assert granted in set(current["state"]) and channel in set(current["channel"])
        assert set(current["state"]) <= ({"同意", "撤回", "已过期"} if lang == "zh" else {"granted", "withdrawn", "expired"})
