"""AppTest for the Quality and Rules pages."""
from __future__ import annotations

import dataclasses

import pytest

from governance import pipeline
from governance.quality import rules
from governance.sources import ingest
from helpers import ID_NUMBER, MOBILE, app_test, column_headers
from helpers import visible_text as visible


@pytest.fixture
def profiled(app_db, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text("会员号,姓名,手机,身份证\nM1,张伟,13912345678,110101199001011234\nM2,王芳,1391234567,11010519491231002X\n"
                    "M3,李娜,13800138000,\n", encoding="utf-8")
    ingest.ingest_file(app_db, path, actor="steward", channel="crm")
    pipeline.refresh_quality(app_db, "steward")
    return app_db


@pytest.mark.parametrize("field", ["mobile", "id_card"])
def test_analyst_sees_quality_masked(profiled, field):
    at = app_test(profiled, "analyst").run()
    at.switch_page("pages/quality.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Quality"]
    assert "quality_run" not in [b.key for b in at.button]  # analysts read, they do not run
    at.selectbox(key="drill_field").set_value(field).run()
    drill = at.dataframe[-1].value
    assert len(drill) >= 1 and set(drill["status"]) <= {"invalid", "valid_with_warning", "placeholder", "masked"}
    text = visible(at)
    assert not MOBILE.search(text) and not ID_NUMBER.search(text)


def test_steward_refreshes_and_sees_raw_values(profiled):
    at = app_test(profiled, "steward").run()
    at.switch_page("pages/quality.py").run()
    at.button(key="quality_run").click().run()
    assert not at.exception
    assert at.success and at.success[0].value.startswith("Done: 3 records standardized")
    at.selectbox(key="drill_field").set_value("mobile").run()
    assert "1391234567" not in at.dataframe[-1].value["raw_value"].tolist()  # masked until revealed
    at.toggle(key="drill_reveal").set_value(True).run()
    at.text_input(key="drill_reveal_reason").input("fixing the source file").run()
    assert "1391234567" in at.dataframe[-1].value["raw_value"].tolist()
    with profiled.cursor() as cur:
        assert cur.execute("SELECT actor, object_type, object_id FROM audit_log WHERE action = 'pii.reveal'").fetchall() == [
            ("steward", "failing_records", "mobile")]


def test_quality_page_without_results(app_db):
    at = app_test(app_db, "analyst").run()
    at.switch_page("pages/quality.py").run()
    assert [i.value for i in at.info] == ["No quality results yet."]


def test_steward_adds_a_rule(profiled):
    at = app_test(profiled, "steward").run()
    at.switch_page("pages/rules.py").run()
    assert not at.exception
    at.text_input[0].input("card.format")
    at.text_input[1].input("Card starts with M")
    at.selectbox[1].set_value("regex")
    at.multiselect[0].set_value(["member_card"])
    at.text_area[0].input('{"pattern": "M[0-9]+"}')
    at.button[0].click().run()
    assert not at.exception
    assert at.success and at.success[0].value == "Saved card.format version 1."
    with profiled.cursor() as cur:
        assert "card.format" in {r.rule_id for r in rules.current_rules(cur)}


def test_bad_rule_parameters_are_refused(profiled):
    at = app_test(profiled, "steward").run()
    at.switch_page("pages/rules.py").run()
    at.text_input[0].input("bad.rule")
    at.text_area[0].input("[1, 2")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["The parameters are not a valid JSON object."]


def test_rules_page_flags_a_stored_rule_that_fails_the_safety_check(profiled):
    with profiled.transaction() as cur:  # saved by an earlier release, without today's checks
        rules._insert(cur, rules.Rule("old.rule", "old", "custom_sql", [], {"sql": "(SELECT count(*) FROM users) > 0"}),
                      1, "old-release", None)
    at = app_test(profiled, "steward", lang="zh").run()
    at.switch_page("pages/rules.py").run()
    assert not at.exception
    [warning] = [w.value for w in at.warning]
    assert warning.startswith("规则 old.rule 未通过安全检查，评估时跳过") and "subqueries" in warning


def test_tables_speak_the_ui_language(profiled):
    """Headers follow the language (rule names are not person names); the frames keep their columns."""
    at = app_test(profiled, "steward", lang="zh").run()
    at.switch_page("pages/quality.py").run()
    assert not at.exception
    headers = [column_headers(d) for d in at.dataframe]
    keys, rules, drill = headers[0], headers[1], headers[-1]
    assert keys["field"] == "字段" and rules["name"] == "规则名称" and rules["pass_rate"] == "通过率"
    assert drill["raw_value"] == "原始值" and "name" in at.dataframe[1].value.columns
    assert "手机号" in at.dataframe[0].value["field"].tolist()        # shared keys name the field in Chinese
    names = dict(zip(at.dataframe[1].value["rule_id"], at.dataframe[1].value["name"]))
    assert names["mobile.format"] == "手机号有效" and names["id_card.unique"] == "身份证号在数据源内唯一"
    at.session_state["lang"] = "en"
    at.run()
    assert column_headers(at.dataframe[1])["name"] == "Rule name"


def test_a_renamed_default_rule_keeps_its_name_in_chinese(profiled):
    with profiled.cursor() as cur:
        rule = next(r for r in rules.current_rules(cur) if r.rule_id == "mobile.format")
    rules.save_rule(profiled, "steward", dataclasses.replace(rule, name="Mobile OK (CRM)"))
    at = app_test(profiled, "steward", lang="zh").run()
    at.switch_page("pages/rules.py").run()
    names = dict(zip(at.dataframe[0].value["rule_id"], at.dataframe[0].value["name"]))
    assert names["mobile.format"] == "Mobile OK (CRM)" and names["email.format"] == "电子邮箱有效"


def test_rules_page_labels_rule_types_severities_and_dimensions(profiled):
    at = app_test(profiled, "steward", lang="zh").run()
    at.switch_page("pages/rules.py").run()
    types = dict(zip(at.dataframe[0].value["rule_id"], at.dataframe[0].value["rule_type"]))
    assert types["mobile.format"] == "格式" and types["id_card.unique"] == "唯一"
    pickers = {s.label: s for s in at.selectbox}
    assert pickers["类型"].options[0] == "非空" and pickers["类型"].value == "not_null"
    assert "警告" in pickers["严重程度"].options and "有效性" in pickers["质量维度"].options
