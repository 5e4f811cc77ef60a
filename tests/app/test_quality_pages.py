"""AppTest for the Quality and Rules pages."""
from __future__ import annotations

import dataclasses
import json
import re

import pytest

from governance import pipeline
from governance.jobs import runner as jobs
from governance.quality import rules
from governance.sources import ingest
from governance.standardize.normalizers import _MOBILE_DUMMIES
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
    text = visible(at)  # a reason's label may cite a public dummy number (e.g. 13800138000)
    assert not [m for m in MOBILE.findall(text) if m not in _MOBILE_DUMMIES] and not ID_NUMBER.search(text)


def refresh(at, db) -> str:
    """Press the refresh button: it queues a background job (not run inside the page); once the
    worker has run it, the job panel gives its outcome. Returns that line."""
    at.button(key="quality_run").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Started in the background")
    with db.cursor() as cur:
        assert [(j.kind, j.status) for j in jobs.recent(cur)] == [("refresh_quality", "queued")]
    assert at.button(key="quality_run").disabled
    jobs.runner(db).drain()
    at.run()
    (done,) = [c.value for c in at.sidebar.caption if c.value.startswith("Done:")]
    return done


def test_steward_refreshes_and_sees_raw_values(profiled):
    at = app_test(profiled, "steward").run()
    at.switch_page("pages/quality.py").run()
    refreshed = refresh(at, profiled)
    assert refreshed.startswith("Done: 3 records standardized")
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


def save_button(at):
    return next(b for b in at.button if b.label == "Save rule")


def test_steward_adds_a_rule(profiled):
    at = app_test(profiled, "steward").run()
    at.switch_page("pages/rules.py").run()
    assert not at.exception
    at.selectbox(key="rule_type_").set_value("regex").run()
    assert not at.text_area                                              # no JSON box any more
    at.text_input[0].input("card.format")
    at.text_input[1].input("Card starts with M")
    at.multiselect[0].set_value(["member_card"])
    at.text_input(key="rule_params__regex_pattern").input("M[0-9]+")
    save_button(at).click().run()
    assert not at.exception
    assert at.success and at.success[0].value == "Saved card.format version 1."
    with profiled.cursor() as cur:
        rule = {r.rule_id: r for r in rules.current_rules(cur)}["card.format"]
    assert (rule.rule_type, rule.fields, rule.params) == ("regex", ["member_card"], {"pattern": "M[0-9]+"})


NINE_TYPES = [  # type, fields, the parameter widgets as typed, the parameters stored
    ("not_null", ["nickname"], {}, {}),
    ("format", ["mobile"], {}, {}),
    ("regex", ["member_card"], {"pattern": "M[0-9]+"}, {"pattern": "M[0-9]+"}),
    ("allowed_values", ["gender"], {"values": "1\n2, 9"}, {"values": ["1", "2", "9"]}),
    ("range", ["birth_date"], {"kind": "date", "min": "1900-01-01", "max": "today"},
     {"type": "date", "min": "1900-01-01", "max": "today"}),
    ("unique", ["member_card"], {}, {}),
    ("unique_together", ["mobile", "name"], {}, {}),
    ("consistency", [], {"check": "check_gender_id"}, {"check": "check_gender_id"}),
    ("custom_sql", [], {"sql": "length(name) >= 2"}, {"sql": "length(name) >= 2"}),
]


def fill_params(at, rule_type: str, typed: dict) -> None:
    for name, value in typed.items():
        key = f"rule_params__{rule_type}_{name}"
        if name in ("kind", "check"):
            at.selectbox(key=key).set_value(value)
        elif name in ("values", "sql"):
            at.text_area(key=key).input(value)
        else:
            at.text_input(key=key).input(value)


@pytest.mark.parametrize("rule_type,fields,typed,params", NINE_TYPES, ids=[t[0] for t in NINE_TYPES])
def test_every_rule_type_is_entered_through_the_form(profiled, rule_type, fields, typed, params):
    at = app_test(profiled, "steward", lang="zh").run()
    at.switch_page("pages/rules.py").run()
    at.selectbox(key="rule_type_").set_value(rule_type).run()
    assert not at.exception and not [t for t in at.text_area if t.label.startswith("参数")]
    at.text_input[0].input(f"my.{rule_type}")
    at.multiselect[0].set_value(fields)
    fill_params(at, rule_type, typed)
    next(b for b in at.button if b.label == "保存规则").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == [f"已保存 my.{rule_type} 第 1 版。"]
    with profiled.cursor() as cur:
        rule = {r.rule_id: r for r in rules.current_rules(cur)}[f"my.{rule_type}"]
    assert (rule.rule_type, rule.fields, rule.params) == (rule_type, fields, params)


def test_an_existing_rule_opens_with_its_parameters_in_the_form(profiled):
    at = app_test(profiled, "steward").run()
    at.switch_page("pages/rules.py").run()
    at.selectbox(key="rules_pick").set_value("birth_date.range").run()
    assert at.selectbox(key="rule_type_birth_date.range").value == "range"
    key = "rule_params_birth_date.range_range"
    assert at.selectbox(key=f"{key}_kind").value == "date"
    assert (at.text_input(key=f"{key}_min").value, at.text_input(key=f"{key}_max").value) == ("1900-01-01", "today")
    at.text_input(key=f"{key}_min").input("1920-01-01")
    save_button(at).click().run()
    assert at.success and at.success[0].value == "Saved birth_date.range version 2."
    with profiled.cursor() as cur:
        rule = {r.rule_id: r for r in rules.current_rules(cur)}["birth_date.range"]
    assert rule.params == {"type": "date", "min": "1920-01-01", "max": "today"}
    at.selectbox(key="rules_pick").set_value("gender.codes").run()
    assert at.text_area(key="rule_params_gender.codes_allowed_values_values").value == "0\n1\n2\n9"


def test_bad_rule_parameters_are_refused_and_kept(profiled):
    at = app_test(profiled, "steward").run()
    at.switch_page("pages/rules.py").run()
    at.selectbox(key="rule_type_").set_value("range").run()
    at.text_input[0].input("age.range")
    at.multiselect[0].set_value(["birth_date"])
    at.text_input(key="rule_params__range_min").input("eighteen")
    save_button(at).click().run()
    assert [e.value for e in at.error] == ["Minimum and maximum must be numbers."]
    assert at.text_input(key="rule_params__range_min").value == "eighteen"   # what was typed stays
    at.text_input(key="rule_params__range_min").input("30")
    at.text_input(key="rule_params__range_max").input("18")
    save_button(at).click().run()
    assert [e.value for e in at.error] == ["The minimum cannot be above the maximum."]
    at.selectbox(key="rule_type_").set_value("regex").run()
    at.text_input(key="rule_params__regex_pattern").input("M[0-9")
    save_button(at).click().run()
    assert len(at.error) == 1 and "Invalid regular expression" in at.error[0].value   # Rule.validate, as before
    with profiled.cursor() as cur:
        assert "age.range" not in {r.rule_id for r in rules.current_rules(cur)}


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


@pytest.fixture
def two_sources(profiled, tmp_path):
    path = tmp_path / "douyin.csv"
    path.write_text("抖音号,昵称,手机\ndy_001,小王,13912345678\n,小李,12345\n", encoding="utf-8")
    ingest.ingest_file(profiled, path, actor="steward", source="douyin",
                       mapping={"抖音号": "douyin_id", "昵称": "nickname", "手机": "mobile"})
    pipeline.refresh_quality(profiled, "steward")
    return profiled


def figures(at) -> dict[str, dict]:
    """The page's plotly figures by title."""
    out = {}
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        out[spec["layout"]["title"]["text"]] = spec
    return out


def test_every_quality_chart_narrows_to_the_source_in_hand(two_sources):
    at = app_test(two_sources, "steward").run()
    at.switch_page("pages/quality.py").run()
    both = figures(at)
    assert set(both["Sources × fields"]["data"][0]["y"]) == {"crm", "douyin"}
    at.selectbox(key="quality_scope").set_value("douyin").run()
    assert not at.exception
    shown = figures(at)
    assert set(shown) == set(both)
    assert shown["Sources × fields"]["data"][0]["y"] == ["douyin"]
    assert shown["Score per source"]["data"][0]["x"] == ["douyin"]
    assert shown["Duplicate rows within each source"]["data"][0]["x"] == ["douyin"]
    assert {d["name"] for d in shown["Score per batch (× marks a drop beyond the bound)"]["data"]} == {"douyin"}
    reasons = {tuple(c) for c in shown["Problems by reason code"]["data"][0]["customdata"]}
    assert reasons and {f for f, _ in reasons} == {"mobile"}           # douyin's problems only: no ID numbers
    assert "id_card" in {c[0] for c in both["Problems by reason code"]["data"][0]["customdata"]}
    rule_results = at.dataframe[1].value
    assert set(rule_results["source"]) == {"douyin"}
    assert at.selectbox(key="drill_source").value == "douyin"          # the failing records follow
    assert at.metric[0].label == "Quality score of douyin" and at.metric[1].value == "2"


def test_the_douyin_id_rule_is_not_applicable_where_it_is_not_mapped(two_sources):
    at = app_test(two_sources, "steward").run()
    at.switch_page("pages/quality.py").run()
    results = at.dataframe[1].value.set_index(["source", "rule_id"])
    crm = results.loc[("crm", "douyin_id.present")]
    assert (crm["passed"], crm["pass_rate"]) == ("not applicable (the source does not map the field)", "")
    assert results.loc[("douyin", "douyin_id.present"), "passed"] == "passed"
    assert list(at.dataframe[1].value["passed"])[0] == "failed"          # failures first, not unmapped fields


def test_numbers_on_the_quality_page_read_for_people(profiled):
    at = app_test(profiled, "steward").run()
    at.switch_page("pages/quality.py").run()
    assert re.fullmatch(r"Done: 3 records standardized, score \d+(\.\d)?\.", refresh(at, profiled))
    assert re.fullmatch(r"\d+\.\d", at.metric[0].value)
    results = at.dataframe[1].value
    assert all(re.fullmatch(r"(\d{1,3}(\.\d)?%)?", v) for v in results["pass_rate"])
    assert set(results["mostly"]) <= {"50%", "60%", "70%", "80%", "90%", "95%", "98%", "99%", "100%"}
    assert "67%" in set(results.loc[results["rule_id"] == "mobile.present", "pass_rate"])  # 2 of 3, not 0.6666…
    at.selectbox(key="drill_field").set_value("mobile").run()
    drill = at.dataframe[-1].value
    assert len(drill) and not drill.isna().any().any()                 # empty cells blank, not None
    assert "" in set(drill["standardized_value"])
