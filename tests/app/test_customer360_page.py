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


# ---- where to start: the empty search box ----------------------------------------------------------

def _browse_table(at, which: str):
    return [d for d in at.dataframe if d.proto.id and f"c360_browse_table_{which}" in d.proto.id][0].value


@pytest.mark.parametrize("lang, hint", [
    ("en", "Type a OneID, mobile, email, name or channel id to find a customer"),
    ("zh", "输入 OneID、手机号、邮箱、姓名或渠道 ID 查找客户")])
def test_empty_search_shows_a_hint_and_the_browse_lists_masked(customers, lang, hint):
    db, _, _ = customers
    with db.cursor() as cur:
        largest = cur.execute("SELECT oneid FROM golden_records ORDER BY record_count DESC, channel_count DESC, oneid "
                              "LIMIT 3").fetchall()
        names = {n for (n,) in cur.execute("SELECT name FROM golden_records WHERE name IS NOT NULL").fetchall()}
    at = app_test(db, "analyst", lang).run()
    at.switch_page("pages/customer360.py").run()
    assert not at.exception
    assert hint in visible_text(at)
    assert at.radio(key="c360_browse").options == (["Recently changed", "Largest OneIDs", "Flagged for review"]
                                                   if lang == "en" else ["最近变更", "记录最多的 OneID", "待审核"])
    seen = {}
    for which in ("recent", "largest", "flagged"):
        at.radio(key="c360_browse").set_value(which).run()
        assert not at.exception
        seen[which] = _browse_table(at, which)
        text = visible_text(at) + "\n".join(at.selectbox(key="c360_browse_pick").options)
        assert not MOBILE.search(text) and not ID_NUMBER.search(text)
        assert not names & set(seen[which]["name"].dropna())          # every name masked for the analyst
        assert unlabelled_columns(at) == []
    assert seen["largest"]["oneid"].head(3).tolist() == [o for (o,) in largest]
    assert (seen["flagged"]["pending_pairs"] + seen["flagged"]["cluster_flags"] > 0).all()
    assert len(seen["recent"]) == 10


def test_recently_changed_puts_an_overridden_customer_first(customers):
    from governance import pipeline
    db, oneid, _ = customers
    pipeline.set_override(db, "steward", oneid, "email", "fixed.wang@163.com", "customer correction request")
    at = app_test(db, "steward").run()
    at.switch_page("pages/customer360.py").run()
    assert _browse_table(at, "recent")["oneid"].iloc[0] == oneid


def test_picking_a_customer_from_a_browse_list_opens_it(customers):
    db, _, _ = customers
    at = app_test(db, "analyst").run()
    at.switch_page("pages/customer360.py").run()
    at.radio(key="c360_browse").set_value("largest").run()
    first = _browse_table(at, "largest")["oneid"].iloc[0]
    at.selectbox(key="c360_browse_pick").set_value(first).run()
    assert not at.exception
    assert first in [h.value for h in at.subheader]                 # the customer is open
    assert "Golden record (where each value came from)" in [h.value for h in at.subheader]
    assert at.text_input(key="c360_query").value == first
    assert not MOBILE.search(visible_text(at))


def test_a_link_with_a_oneid_opens_that_customer(customers):
    db, oneid, _ = customers
    at = app_test(db, "analyst").run()
    at.query_params["oneid"] = oneid
    at.switch_page("pages/customer360.py").run()
    assert not at.exception
    assert oneid in [h.value for h in at.subheader]
    assert at.text_input(key="c360_query").value == oneid


def test_a_customers_purchases_are_listed_newest_first_with_refunds_spending_nothing(customers):
    db, _, _ = customers
    with db.cursor() as cur:
        oneid, n = cur.execute("SELECT oneid, count(*) FROM customer_events GROUP BY oneid "
                               "HAVING bool_or(order_status = 'refunded') ORDER BY count(*) DESC, oneid LIMIT 1").fetchone()
    at = open_customer(app_test(db, "analyst", "zh").run(), oneid)
    assert not at.exception
    assert "消费记录" in [h.value for h in at.subheader]
    [purchases] = [d for d in at.dataframe if "order_status" in d.value.columns]
    frame = purchases.value
    times = frame["event_time"].dropna().tolist()
    assert len(frame) == n and times == sorted(times, reverse=True)
    assert frame["event_time"].head(len(times)).notna().all()  # orders without a time come last
    assert "已退款" in set(frame["order_status"]) and not {"refunded", "completed"} & set(frame["order_status"])
    assert (frame.loc[frame["order_status"] == "已退款", "spend"] == 0).all()
    assert unlabelled_columns(at) == []
