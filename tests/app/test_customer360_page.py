"""AppTest for the Customer 360 page: analysts see everything masked; stewards reveal with a reason,
override a field and edit a survivorship rule."""
from __future__ import annotations

import pytest

from governance.golden import survivorship
from helpers import ID_NUMBER, MOBILE, app_test, load_generated, unlabelled_columns, visible_text


@pytest.fixture
def customers(app_db, tmp_path):
    load_generated(app_db, tmp_path / "d", 300, seed=3)
    survivorship.refresh_golden(app_db)
    with app_db.cursor() as cur:
        oneid, mobile = cur.execute(
            "SELECT oneid, split_part(mobile, ' | ', 1) FROM golden_records WHERE mobile IS NOT NULL "
            "AND id_card IS NOT NULL AND record_count > 1 ORDER BY oneid LIMIT 1").fetchone()
    return app_db, oneid, mobile


def open_customer(at, query: str):
    at.switch_page("pages/customer360.py").run()
    at.text_input(key="c360_query").input(query).run()
    return at


def test_analyst_sees_the_360_view_masked(customers):
    db, oneid, mobile = customers
    at = open_customer(app_test(db, "analyst").run(), mobile)
    assert not at.exception
    assert [t.value for t in at.title] == ["Customer 360"]
    assert "1 OneIDs found" in visible_text(at)
    text = visible_text(at) + "\n".join(h.value for h in at.subheader)
    assert oneid in text and "Golden record (where each value came from)" in text and "Source records" in text
    assert len(at.dataframe) >= 6                       # results, golden fields, sources, sub-accounts, history, decisions
    assert unlabelled_columns(at) == []                 # every table has headers in the UI language
    assert not MOBILE.search(text) and not ID_NUMBER.search(text), "unmasked personal data on the analyst's page"
    assert mobile[:3] + "****" + mobile[-4:] in text
    assert not [t for t in at.toggle if t.key == "c360_reveal"] and not at.get("form")
    at.selectbox(key="c360_competing_field").set_value("mobile").run()
    assert not MOBILE.search(visible_text(at))


def test_steward_reveal_needs_a_reason_and_is_audited(customers):
    db, oneid, mobile = customers
    at = open_customer(app_test(db, "steward").run(), oneid)
    at.toggle(key="c360_reveal").set_value(True).run()
    assert not MOBILE.search(visible_text(at))          # no reason yet: still masked
    assert "Enter a reason to show the unmasked data." in visible_text(at)
    at.text_input(key="c360_reveal_reason").input("customer called about a delivery").run()
    assert not at.exception
    assert mobile in visible_text(at)
    with db.cursor() as cur:
        rows = cur.execute("SELECT actor, object_type, object_id, detail FROM audit_log WHERE action = 'pii.reveal'").fetchall()
    assert rows and rows[0][:3] == ("steward", "oneid", oneid) and "delivery" in rows[0][3]


def test_steward_overrides_a_field_and_edits_a_rule(customers):
    db, oneid, _ = customers
    at = open_customer(app_test(db, "steward").run(), oneid)
    at.selectbox(key="c360_override_field").set_value("email")
    at.text_input(key="c360_override_value").input("fixed.wang@163.com")
    at.text_input(key="c360_override_reason").input("customer correction request")
    [b for b in at.button if b.label == "Save override"][0].click().run()
    assert not at.exception
    assert "Override #1 saved." in visible_text(at)
    with db.cursor() as cur:
        assert cur.execute("SELECT email FROM golden_records WHERE oneid = ?", [oneid]).fetchone()[0] == "fixed.wang@163.com"
    at.selectbox(key="c360_rule_field").set_value("name").run()
    at.selectbox(key="c360_rule_kind_name").set_value("most_complete")
    [b for b in at.button if b.label == "Save the rule and refresh golden records"][0].click().run()
    assert not at.exception
    with db.cursor() as cur:
        assert survivorship.active_rules(cur)["name"].kind == "most_complete"
        assert cur.execute("SELECT DISTINCT rule FROM golden_lineage WHERE field = 'name'").fetchall() == [("most_complete",)]
