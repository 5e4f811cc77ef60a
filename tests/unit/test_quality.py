"""Standardize stage, quality rules and profiling on a fresh store."""
from __future__ import annotations

import io
import json
import sys
import types

import pytest
from openpyxl import load_workbook

from governance import pipeline
from governance.quality import profile, rules
from governance.sources import ingest, mapping
from governance.standardize import engine
from governance.store import tabular

CRM = (
    "会员号,姓名,手机,身份证,性别,生日,省份,邮箱\n"
    "M1,张伟,+86 139-1234-5678,11010519491231002X,男,1949-12-31,北京市,zw@qq.com\n"
    "M2,欧阳娜娜,13800138000,110101199001011234,女,1990/1/1,广东,oy@qq.con\n"
    "M3,无,,440524188001010014,0,1880年1月1日,,\n"
    "M4,李 娜,138****1234,11010519491231002X,2,19491231,北京,ln@163.com\n"
    "M1,张伟,+86 139-1234-5678,11010519491231002X,男,1949-12-31,北京市,zw@qq.com\n"
)


@pytest.fixture
def crm(db, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text(CRM, encoding="utf-8")
    result = ingest.ingest_file(db, path, actor="t", channel="crm",
                                mapping={"会员号": "member_card", "姓名": "name", "手机": "mobile", "身份证": "id_card",
                                         "性别": "gender", "生日": "birth_date", "省份": "province", "邮箱": "email"})
    pipeline.standardize(db, "t")
    return result.batch_id


def std(db, *columns: str) -> list[tuple]:
    with db.cursor() as cur:
        return cur.execute(f"SELECT row_number, {', '.join(columns)} FROM std_records ORDER BY row_number").fetchall()


def test_standardized_values_statuses_and_reasons(db, crm):
    rows = std(db, "mobile", "mobile_status", "id_card_status", "id_card_reason", "name", "name_status")
    assert rows[0][1:3] == ("13912345678", "valid")
    assert rows[1][2] == "placeholder" and rows[1][1] is None          # the well-known dummy number
    assert rows[2][2] == "missing"
    assert rows[3][2] == "masked" and rows[3][1] is None               # partial evidence, never a key
    assert [r[3] for r in rows] == ["valid", "invalid", "valid_with_warning", "valid", "valid"]  # born 1880
    assert rows[1][4] is not None                                      # a reason code for the bad checksum
    assert rows[2][6] == "placeholder" and rows[3][5] == "李娜"


def test_derived_attributes_and_consistency(db, crm):
    rows = std(db, "id_birth_date::VARCHAR", "id_sex", "gender", "check_birth_id", "check_gender_id", "name_pinyin",
               "email_suggestion", "is_minor")
    assert rows[0][1:7] == ("1949-12-31", "2", "1", "ok", "conflict", "zhangwei")
    assert rows[1][7] == "oy@qq.com"                                   # suggested, never applied
    assert rows[3][4] == "ok" and rows[3][5] == "ok"
    assert not any(r[8] for r in rows)


def test_raw_values_are_never_altered(db, crm):
    with db.cursor() as cur:
        raw = cur.execute("SELECT c003, c004 FROM raw.batch_1 ORDER BY _row").fetchall()
    assert raw[0] == ("+86 139-1234-5678", "11010519491231002X") and raw[3][0] == "138****1234"


def test_gender_zero_follows_the_source_setting(db, crm):
    assert std(db, "gender")[2][1] == "0"
    engine.set_gender_zero(db, "t", "crm", "female")
    with db.cursor() as cur:
        assert engine.stale_batches(cur) == [crm]
    pipeline.standardize(db, "t")
    assert std(db, "gender")[2][1] == "2"


def test_standardize_is_incremental_and_follows_mapping_changes(db, crm, tmp_path):
    assert pipeline.standardize(db, "t").batches == []                   # nothing stale
    mapping.update(db, "t", "crm", {"邮箱": None})
    again = pipeline.standardize(db, "t")
    # the Python-normalized values were cached; only the SQL fast paths ran again
    assert again.batches == [crm] and again.new_values == again.sql_values > 0
    assert {r[1] for r in std(db, "email_status")} == {"missing"}


def test_large_fields_are_normalized_by_worker_processes_with_the_same_results(tmp_path, monkeypatch):
    from governance.store.storage import open_database
    from helpers import load_generated

    chunks = []

    class CountingPool(engine.ProcessPoolExecutor):
        def map(self, fn, tasks, **kwargs):
            tasks = list(tasks)
            chunks.extend(tasks)
            return super().map(fn, tasks, **kwargs)

    monkeypatch.setattr(engine, "ProcessPoolExecutor", CountingPool)
    # As under Streamlit, __main__ is a script that must not run again in a worker (the app opens the store).
    script = tmp_path / "app_like.py"
    script.write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\nraise SystemExit('app script ran in a worker')\n")
    app_like = types.ModuleType("__main__")
    app_like.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", app_like)
    stores = {}
    for mode, threshold in (("serial", 10**9), ("parallel", 30)):
        monkeypatch.setattr(engine, "PARALLEL_MIN_VALUES", threshold)
        monkeypatch.setattr(engine, "PARALLEL_CHUNK", 25)
        stores[mode] = open_database(tmp_path / f"{mode}.duckdb")
        load_generated(stores[mode], tmp_path / mode, 150, seed=4, resolve=False)
    frames, records = {}, {}
    for mode, store in stores.items():
        with store.cursor() as cur:
            frames[mode] = cur.execute("SELECT * EXCLUDE (ruleset) FROM std_cache ORDER BY field, raw").df()
            records[mode] = cur.execute("SELECT * FROM std_records ORDER BY batch_id, row_number").fetchall()
    assert len(frames["parallel"]) > 400 and len(chunks) > 10  # the parallel run used the workers
    assert not (tmp_path / "ran").exists()
    assert frames["parallel"].equals(frames["serial"])
    assert len(records["serial"]) > 200 and records["parallel"] == records["serial"]


def test_profile_json_contract_and_exact_counts(db, crm):
    result = pipeline.refresh_quality(db, "t")
    with db.cursor() as cur:
        report = profile.as_json(cur, result.run.run_id)
    assert set(report) == {"score", "sources"} and 0 <= report["score"] <= 100
    [source] = report["sources"]
    assert (source["source"], source["rows"]) == ("crm", 5)
    by_field = {f["field"]: f for f in source["fields"]}
    assert set(by_field) == {"member_card", "name", "mobile", "id_card", "gender", "birth_date", "province", "email"}
    mobile = by_field["mobile"]
    assert set(mobile) == {"field", "records", "missing", "valid", "invalid", "by_status", "by_reason", "score"}
    assert (mobile["records"], mobile["missing"], mobile["valid"]) == (5, 2, 2)
    assert mobile["by_status"] == {"masked": 1, "missing": 1, "placeholder": 1, "valid": 2}
    assert by_field["id_card"]["invalid"] == 1 and sum(by_field["id_card"]["by_reason"].values()) >= 1
    json.dumps(report)


def test_profile_stores_duplicates_keys_and_rules(db, crm):
    run = pipeline.refresh_quality(db, "t").run
    with db.cursor() as cur:
        sources = profile.sources_frame(cur, run.run_id)
        fields = profile.fields_frame(cur, run.run_id).set_index("field")
        results = profile.rules_frame(cur, run.run_id).set_index("rule_id")
    assert sources.loc[0, "duplicate_rows"] == 1                       # row 5 repeats row 1
    assert fields.loc["id_card", "distinct_count"] == 2                # the invalid number has no standard value
    assert json.loads(fields.loc["mobile", "top_values"])[0] == {"value": "13912345678", "n": 2}
    assert json.loads(fields.loc["mobile", "patterns"])[0]["pattern"].startswith("+NN")
    assert results.loc["id_card.unique", "failed"] == 3                # three rows share 11010519491231002X
    assert results.loc["gender.matches_id", "failed"] == 2


def ruleset(db, rule: rules.Rule) -> rules.RuleResult:
    with db.cursor() as cur:
        [result] = rules.evaluate(cur, [rule.validate()])
    return result


@pytest.mark.parametrize("rule,applicable,failed", [
    (rules.Rule("r1", "n", "not_null", ["mobile"]), 5, 2),
    (rules.Rule("r2", "n", "format", ["id_card"]), 5, 1),
    (rules.Rule("r3", "n", "regex", ["member_card"], {"pattern": "M[0-9]"}), 5, 0),
    (rules.Rule("r4", "n", "allowed_values", ["gender"], {"values": ["1", "2"]}), 5, 1),
    (rules.Rule("r5", "n", "range", ["birth_date"], {"type": "date", "min": "1900-01-01", "max": "today"}), 4, 0),
    (rules.Rule("r6", "n", "unique", ["member_card"]), 5, 2),
    (rules.Rule("r7", "n", "unique_together", ["mobile", "member_card"]), 2, 2),
    (rules.Rule("r8", "n", "consistency", [], {"check": "check_birth_id"}), 3, 0),  # 1880 is no valid birth date
    (rules.Rule("r9", "n", "custom_sql", [], {"sql": "s.name IS NOT NULL OR s.member_card = 'M3'"}), 5, 0),
])
def test_each_rule_type(db, crm, rule, applicable, failed):
    result = ruleset(db, rule)
    assert (result.applicable, result.failed) == (applicable, failed)
    assert result.passed == (failed == 0)


@pytest.mark.parametrize("sql", ["1; DROP TABLE users", "(SELECT count(*) FROM read_csv('/etc/passwd')) > 0",
                                 "true -- comment", "getenv('HOME') = ''", "name = 'x'"])
def test_custom_sql_is_one_safe_expression(db, crm, sql):
    rule = rules.Rule("bad", "bad", "custom_sql", [], {"sql": sql})
    if sql == "name = 'x'":
        rule.validate()  # a plain expression is fine
        return
    with pytest.raises(rules.RuleError):
        rule.validate()


def test_rules_are_versioned_and_audited(db, crm):
    rule = rules.Rule("vip.card", "VIP card format", "regex", ["member_card"], {"pattern": "M[0-9]+"})
    assert rules.save_rule(db, "alice", rule) == 1
    rule.mostly = 0.5
    assert rules.save_rule(db, "bob", rule, "looser") == 2
    assert rules.set_enabled(db, "bob", "vip.card", False) == 3
    with db.cursor() as cur:
        current = {r.rule_id: r for r in rules.current_rules(cur)}
        assert current["vip.card"].mostly == 0.5 and not current["vip.card"].enabled
        assert "vip.card" not in {r.rule_id for r in rules.current_rules(cur, enabled_only=True)}
        assert list(rules.history(cur, "vip.card")["version"]) == [3, 2, 1]
        actions = cur.execute("SELECT actor, action FROM audit_log WHERE object_id = 'vip.card' ORDER BY id").fetchall()
    assert actions == [("alice", "rule.create"), ("bob", "rule.change"), ("bob", "rule.change")]


def test_every_standard_field_has_a_default_rule(db):
    with db.cursor() as cur:
        covered = {f for r in rules.current_rules(cur) for f in r.fields}
    from governance.store.schema import FIELD_NAMES
    assert covered >= set(FIELD_NAMES)


def test_score_drop_between_batches_is_flagged(db, tmp_path):
    good = tmp_path / "a.csv"
    good.write_text("手机,姓名\n" + "".join(f"1391234{i:04d},张三{i}\n" for i in range(20)), encoding="utf-8")
    bad = tmp_path / "b.csv"
    bad.write_text("手机,姓名\n" + "".join(f"12{i},无\n" for i in range(20)), encoding="utf-8")
    ingest.ingest_file(db, good, actor="t", source="pos")
    ingest.ingest_file(db, bad, actor="t", source="pos")
    run = pipeline.refresh_quality(db, "t").run
    with db.cursor() as cur:
        trend = profile.trend_frame(cur, run.run_id)
        sources = profile.sources_frame(cur, run.run_id)
    assert list(trend["dropped"]) == [False, True]
    assert trend["score"].iloc[0] > trend["score"].iloc[1]
    assert bool(sources.loc[0, "flagged"])


def test_failing_records_paged_with_raw_and_standardized(db, crm):
    with db.cursor() as cur:
        page = engine.failing_records(cur, "mobile", limit=1, offset=1)
        everything = engine.failing_records(cur, "mobile", limit=None)
        total = engine.count_failing(cur, "mobile")
    assert total == 2 and len(page) == 1 and len(everything) == 2
    assert page.iloc[0].to_dict() == everything.iloc[1].to_dict()
    assert list(everything["raw_value"]) == ["13800138000", "138****1234"]
    assert list(everything["status"]) == ["placeholder", "masked"]


def test_exports_neutralize_formulas_and_round_trip_through_openpyxl():
    import pandas as pd
    frame = pd.DataFrame({"raw_value": ["=1+1", "+86 138", "@SUM(A1)", "-2", "ok"], "n": [1, 2, 3, 4, 5]})
    wb = load_workbook(io.BytesIO(tabular.to_xlsx_bytes(frame)))
    values = [c.value for c in wb.active["A"]][1:]
    assert values == ["'=1+1", "'+86 138", "'@SUM(A1)", "'-2", "ok"]
    assert all(c.data_type == "s" for c in wb.active["A"][1:])
    text = tabular.to_csv_bytes(frame).decode("utf-8-sig")
    assert "'=1+1" in text and "\n=1" not in text


def test_the_default_rules_are_the_rules_a_new_store_starts_with(db):
    """Migration 5 seeded the default rules as SQL; default_rules() (read by the UI for the names
    it translates) must stay the same list."""
    with db.cursor() as cur:
        stored = cur.execute("SELECT rule_id, name, rule_type, fields, params, severity, mostly, dimension, enabled "
                             "FROM quality_rules WHERE version = 1 ORDER BY rule_id").fetchall()
    expected = sorted((r.rule_id, r.name, r.rule_type, json.dumps(r.fields), json.dumps(r.params, ensure_ascii=False),
                       r.severity, float(r.mostly), r.dimension, r.enabled) for r in rules.default_rules())
    assert stored == expected


def test_present_rules_apply_only_to_sources_that_map_the_field(db, crm, tmp_path):
    """The CRM has no Douyin id column: it cannot fail 抖音ID已填写; the Douyin source can."""
    path = tmp_path / "douyin.csv"
    path.write_text("抖音号,昵称\ndy_001,小王\n,小李\n", encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source="douyin", mapping={"抖音号": "douyin_id", "昵称": "nickname"})
    run = pipeline.refresh_quality(db, "t").run
    with db.cursor() as cur:
        stored = profile.rules_frame(cur, run.run_id)
        evaluated = {(r.source, r.rule.rule_id): r for r in rules.evaluate(cur)}
    results = stored.set_index(["source", "rule_id"])
    crm_douyin = results.loc[("crm", "douyin_id.present")]
    assert (crm_douyin["applicable"], crm_douyin["failed"], bool(crm_douyin["passed"])) == (0, 0, True)
    assert tuple(results.loc[("douyin", "douyin_id.present"), ["applicable", "failed"]]) == (2, 1)
    assert tuple(results.loc[("crm", "mobile.present"), ["applicable", "failed"]]) == (5, 2)   # a mapped field counts
    assert results.loc[("douyin", "mobile.present"), "applicable"] == 0
    r = evaluated[("crm", "nickname.present")]
    assert (r.applicable, r.failed, r.passed) == (0, 0, True)
    failing = stored.loc[~stored["passed"], ["source", "rule_id"]].apply(tuple, axis=1).tolist()
    assert ("crm", "douyin_id.present") not in failing and ("crm", "nickname.present") not in failing
    with db.cursor() as cur:  # a rule on two fields needs both mapped
        pair = rules.Rule("mobile_name.present", "n", "not_null", ["mobile", "name"]).validate()
        assert rules.applies_to(pair, {"mobile", "name"}) and not rules.applies_to(pair, {"mobile"})
        custom = rules.Rule("c", "n", "custom_sql", [], {"sql": "douyin_id IS NOT NULL"}).validate()
        assert {r.source: r.applicable for r in rules.evaluate(cur, [custom])} == {"crm": 5, "douyin": 2}


def test_report_narrows_to_one_source_and_its_trend_runs_in_upload_order(db, crm, tmp_path):
    pos = tmp_path / "pos.csv"
    pos.write_text("手机,姓名\n13912345678,张伟\n12345,无\n", encoding="utf-8")
    ingest.ingest_file(db, pos, actor="t", source="pos")
    again = tmp_path / "crm2.csv"
    again.write_text(CRM.replace("M1,", "M9,", 1), encoding="utf-8")
    ingest.ingest_file(db, again, actor="t", source="crm")
    pipeline.refresh_quality(db, "t")
    with db.cursor() as cur:
        report = profile.latest_report(cur)
    assert list(report.trend["batch_id"]) == [1, 2, 3]                 # upload order, not crm 1, 3 then pos 2
    assert list(report.trend["source"]) == ["crm", "pos", "crm"]
    assert {"source", "field", "reason", "n"} <= set(report.reasons.columns)
    pos_only = report.for_source("pos")
    for frame in (pos_only.fields, pos_only.sources, pos_only.reasons, pos_only.trend, pos_only.rules):
        assert not frame.empty and set(frame["source"]) == {"pos"}
    assert pos_only.keys is report.keys and pos_only.run is report.run and report.for_source(None) is report
    assert report.reasons_of("mobile", "pos") == sorted(pos_only.reasons.loc[pos_only.reasons["field"] == "mobile",
                                                                             "reason"].unique())


def test_quality_numbers_and_blanks_for_people():
    import pandas as pd

    from governance.ui.quality import blank_missing, percent
    assert [percent(x) for x in (0.36, 2 / 3, 1.0, 0.0, 0.9996, 0.0004, None)] == [
        "36%", "67%", "100%", "0%", "99.9%", "0.1%", ""]
    frame = pd.DataFrame({"raw_value": ["x", None], "standardized_value": [None, None], "row_number": [1, 2]})
    shown = blank_missing(frame)
    assert shown["raw_value"].tolist() == ["x", ""] and shown["standardized_value"].tolist() == ["", ""]
    assert shown["row_number"].tolist() == [1, 2]
