"""Survivorship rules, their tie order, and lineage."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from governance import pipeline
from governance.golden import survivorship as sv
from governance.oneid import resolve
from governance.privacy import consent
from governance.sources import ingest

ID = "11010519491231002X"  # a woman born 1949-12-31
HEADER = "姓名,手机,身份证,邮箱,生日,性别,详细地址,更新时间"


def load(db, tmp_path: Path, name: str, channel: str, rows: list[str], header: str = HEADER) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source=name, channel=channel)


@pytest.fixture
def golden(db, tmp_path):
    load(db, tmp_path, "pos", "pos", [f"王芳,13912345678,{ID},wf@qq.com,1950-01-01,男,北京朝阳区,2024-05-01 10:00:00"])
    load(db, tmp_path, "crm", "crm", [f"王 芳,13512345678,{ID},wf@163.com,,女,北京市朝阳区建国路88号1号楼,2023-01-01 09:00:00",
                                       f"王芳芳,13912345678,{ID},无,,,,2022-01-01 09:00:00"])
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    assert sv.build_golden(db) == 1
    with db.cursor() as cur:
        row = cur.execute("SELECT * FROM golden_records").df().iloc[0]
        lineage = sv.lineage(cur, row["oneid"]).set_index("field")
    return row, lineage


def test_source_priority_with_tie_order(golden):
    row, lineage = golden
    assert row["name"] == "王芳"                     # CRM beats POS; within CRM the newest batch, then row order
    assert lineage.loc["name", "source"] == "crm" and lineage.loc["name", "rule"] == "source_priority"
    assert set(lineage.loc["name", "competing"]) == {"王芳芳"}


def test_id_derived_values_beat_typed_ones(golden):
    row, lineage = golden
    assert row["birth_date"] == "1949-12-31" and row["gender"] == "2"
    assert "1950-01-01" in list(lineage.loc["birth_date", "competing"])


def test_aggregate_keeps_every_valid_value(golden):
    row, lineage = golden
    assert row["mobile"] == "13512345678 | 13912345678"
    assert list(lineage.loc["email", "competing"]) == ["wf@163.com", "wf@qq.com"]   # the placeholder 无 never competes


def test_most_complete_and_most_recent(golden):
    row, lineage = golden
    assert row["address"].startswith("北京市朝阳区建国路88号") and lineage.loc["address", "rule"] == "most_complete"
    assert lineage.loc["updated_at", "source"] == "pos"                            # the latest update wins


def test_profile_attributes(golden):
    row, _ = golden
    assert (row["record_count"], row["channel_count"], list(row["channels"])) == (3, 2, ["crm", "pos"])
    assert 0 < row["completeness"] < 1 and not row["is_minor"]


def test_most_frequent_and_custom_rules(db, golden):
    sv.build_golden(db, {"mobile": sv.SurvivorshipRule("mobile", "most_frequent"),
                         "name": sv.SurvivorshipRule("name", "source_priority", ("pos", "crm"))})
    with db.cursor() as cur:
        name, mobile = cur.execute("SELECT name, mobile FROM golden_records").fetchone()
    assert mobile == "13912345678" and name == "王芳"
    with pytest.raises(ValueError):
        sv.build_golden(db, {"name": sv.SurvivorshipRule("name", "loudest")})
    with pytest.raises(ValueError):
        sv.build_golden(db, {"name": sv.SurvivorshipRule("name", "source_priority", ("crm' OR 1=1 --",))})


# --- rules, tie order, lineage, versions, overrides, incremental refresh -------------------

from governance.access import audit
from governance.golden import overrides  # noqa: E402
from governance.oneid import review  # noqa: E402
from governance.store.errors import GovernanceError  # noqa: E402
from helpers import SAVED_MODEL, load_generated  # noqa: E402


def test_tie_order_newest_batch_then_lowest_row_then_valid_before_warning(db, golden, tmp_path):
    load(db, tmp_path, "crm", "crm", [f"王小芳,13512345678,{ID},,,,,2021-01-01 09:00:00"])   # a newer CRM batch
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    sv.refresh_golden(db)
    with db.cursor() as cur:
        lin = sv.lineage(cur, cur.execute("SELECT oneid FROM golden_records").fetchone()[0]).set_index("field")
        batch = cur.execute("SELECT max(batch_id) FROM batches").fetchone()[0]
    assert lin.loc["name", "value"] == "王小芳" and lin.loc["name", "batch_id"] == batch
    assert set(lin.loc["name", "competing"]) == {"王芳", "王芳芳"}


def test_every_rule_kind_on_the_same_records(db, golden):
    for kind, expected in (("source_priority", "王芳"), ("most_recent", "王芳"), ("most_frequent", "王芳"),
                           ("most_complete", "王芳芳"), ("aggregate", "王芳 | 王芳芳")):
        sv.build_golden(db, {"name": sv.SurvivorshipRule("name", kind)})
        with db.cursor() as cur:
            lin = sv.lineage(cur, cur.execute("SELECT oneid FROM golden_records").fetchone()[0]).set_index("field")
        assert lin.loc["name", "value"] == expected, kind
        assert lin.loc["name", "rule"] == kind
    # most_recent: the POS record (updated 2024) beats the CRM ones; most_frequent: 王芳 twice (POS + CRM row 1)
    sv.build_golden(db, {"name": sv.SurvivorshipRule("name", "most_recent")})
    with db.cursor() as cur:
        assert cur.execute("SELECT source FROM golden_lineage WHERE field = 'name'").fetchone()[0] == "pos"


def test_lineage_points_at_the_record_that_holds_the_value(db, tmp_path):
    load_generated(db, tmp_path / "d", 150, seed=5)
    sv.refresh_golden(db)
    with db.cursor() as cur:
        wrong = cur.execute("""
            SELECT count(*) FROM golden_lineage l JOIN crosswalk c ON c.batch_id = l.batch_id AND c.row_number = l.row_number
            JOIN std_records s ON s.batch_id = l.batch_id AND s.row_number = l.row_number
            WHERE l.rule NOT IN ('aggregate', 'override') AND (c.oneid <> l.oneid OR NOT (
                  (l.field = 'name' AND s.name = l.value) OR (l.field = 'email' AND s.email = l.value) OR
                  (l.field = 'birth_date' AND coalesce(strftime(s.id_birth_date, '%Y-%m-%d'), s.birth_date) = l.value) OR
                  (l.field = 'province' AND l.value IN (s.province, s.addr_province)) OR
                  (l.field = 'city' AND l.value IN (s.city, s.addr_city)) OR
                  (l.field = 'district' AND l.value IN (s.district, s.addr_district)) OR
                  l.field NOT IN ('name', 'email', 'birth_date', 'province', 'city', 'district')))""").fetchone()[0]
        missing = cur.execute("SELECT count(*) FROM golden_lineage WHERE rule NOT IN ('aggregate', 'override') "
                              "AND (source IS NULL OR batch_id IS NULL)").fetchone()[0]
        inside = cur.execute("SELECT count(*) FROM golden_lineage WHERE list_contains(competing, value) "
                             "AND rule <> 'aggregate'").fetchone()[0]
        n_golden, n_oneids = cur.execute("SELECT (SELECT count(*) FROM golden_records), "
                                         "(SELECT count(DISTINCT oneid) FROM crosswalk)").fetchone()
    assert (wrong, missing, inside) == (0, 0, 0)
    assert n_golden == n_oneids


def test_rules_are_versioned_audited_and_used(db, golden):
    assert sv.set_rule(db, "steward", "name", "most_complete", comment="longest name") == 1
    assert sv.set_rule(db, "steward", "name", "source_priority", ["pos", "crm"], comment="POS is cleaner") == 2
    with db.cursor() as cur:
        assert sv.active_rules(cur)["name"] == sv.SurvivorshipRule("name", "source_priority", ("pos", "crm"))
        history = sv.rule_history(cur, "name")
        assert history["version"].tolist() == [2, 1] and history["created_by"].tolist() == ["steward", "steward"]
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'golden.rule'").fetchone()[0] == 2
        assert sv.rules_frame(cur).set_index("field").loc["name", "version"] == 2
    result = sv.refresh_golden(db)
    assert result.mode == "full"                                    # a rule change rebuilds everything
    with db.cursor() as cur:
        assert cur.execute("SELECT source FROM golden_lineage WHERE field = 'name'").fetchone()[0] == "pos"
    assert sv.refresh_golden(db).mode == "incremental" and sv.refresh_golden(db).rebuilt == 0
    for bad in (("name", "loudest", None), ("name", "source_priority", ["crm', 'x"]), ("shoe_size", "aggregate", None)):
        with pytest.raises(GovernanceError):
            sv.set_rule(db, "steward", *bad)


def _one_oneid(db) -> str:
    with db.cursor() as cur:
        return cur.execute("SELECT oneid FROM golden_records").fetchone()[0]


def test_override_wins_shows_in_lineage_survives_a_rerun_and_is_removed(db, golden):
    oneid = _one_oneid(db)
    override_id = pipeline.set_override(db, "steward", oneid, "name", "王 芳菲", "customer asked for a correction")
    with db.cursor() as cur:
        lin = sv.lineage(cur, oneid).set_index("field")
    assert lin.loc["name", "value"] == "王芳菲" and lin.loc["name", "rule"] == "override"
    assert (lin.loc["name", "override_by"], lin.loc["name", "override_reason"]) == ("steward", "customer asked for a correction")
    assert "王芳" in list(lin.loc["name", "competing"])
    resolve.resolve(db, "t", use_model=False)
    sv.refresh_golden(db, full=True)
    with db.cursor() as cur:
        assert cur.execute("SELECT name FROM golden_records").fetchone()[0] == "王芳菲"
        assert len(overrides.active_overrides(cur, oneid)) == 1
    with pytest.raises(GovernanceError):
        pipeline.set_override(db, "steward", oneid, "mobile", "12345", "bad number")
    with pytest.raises(GovernanceError):
        pipeline.set_override(db, "steward", oneid, "name", "王芳菲", " ")
    pipeline.remove_override(db, "steward", override_id, "wrong customer")
    with db.cursor() as cur:
        assert cur.execute("SELECT name FROM golden_records").fetchone()[0] == "王芳"
        assert overrides.active_overrides(cur).empty
        actions = [r[0] for r in cur.execute("SELECT action FROM audit_log WHERE action LIKE 'golden.override%' "
                                             "ORDER BY id").fetchall()]
    assert actions == ["golden.override.set", "golden.override.remove"]


def test_override_follows_its_oneid_into_a_merge(db, tmp_path):
    load(db, tmp_path, "crm", "crm", ["李雷,13712345678,,,,,,", "李雷,13712345678,,ll@qq.com,,,,"])
    load(db, tmp_path, "pos", "pos", ["韩梅梅,13698765432,,,,,,"])
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    sv.refresh_golden(db)
    with db.cursor() as cur:
        small, big = [r[0] for r in cur.execute("SELECT oneid FROM golden_records ORDER BY record_count").fetchall()]
        rec_small = cur.execute("SELECT rec_id FROM crosswalk WHERE oneid = ?", [small]).fetchone()[0]
        rec_big = cur.execute("SELECT min(rec_id) FROM crosswalk WHERE oneid = ?", [big]).fetchone()[0]
    override_id = pipeline.set_override(db, "steward", small, "email", "hmm@163.com", "confirmed by phone")
    review.decide(db, "steward", rec_small, rec_big, "approve")
    resolve.resolve(db, "t", use_model=False)
    sv.refresh_golden(db)
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM golden_records").fetchone()[0] == 1
        assert cur.execute("SELECT oneid, email FROM golden_records").fetchone() == (big, "hmm@163.com")
        moved = overrides.active_overrides(cur, big)
        assert moved["override_id"].tolist() == [override_id] and moved["set_on_oneid"].tolist() == [small]
        assert audit.verify_chain(cur).ok
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'golden.override.move'").fetchone()[0] == 1


def test_incremental_refresh_equals_a_full_rebuild(db, tmp_path):
    load_generated(db, tmp_path / "d", 200, seed=9)
    assert sv.refresh_golden(db).mode == "full"
    with db.cursor() as cur:
        oneid, rec = cur.execute("SELECT oneid, max(rec_id) FROM crosswalk GROUP BY oneid HAVING count(*) > 2 "
                                 "ORDER BY oneid LIMIT 1").fetchone()
    review.split_out(db, "steward", oneid, rec, "not the same person")
    resolve.resolve(db, "t", model_json=SAVED_MODEL)
    result = sv.refresh_golden(db)
    assert result.mode == "incremental" and 2 <= result.rebuilt < 20

    def snapshot():
        with db.cursor() as cur:
            return cur.execute("SELECT * EXCLUDE (standardized_at) FROM golden_wide ORDER BY oneid").df()

    incremental = snapshot()
    sv.refresh_golden(db, full=True)
    pd.testing.assert_frame_equal(incremental, snapshot())
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM golden_records g JOIN crosswalk c USING (oneid) "
                           "WHERE c.rec_id = ?", [rec]).fetchone()[0] == 1


def test_consent_status_and_profile_attributes(db, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text("姓名,手机,营销同意\n张三,13912345678,是\n李四,13812345679,否\n王五,13712345670,\n", encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source="crm", channel="crm")
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    sv.refresh_golden(db)
    consent.import_from_sources(db, "t")  # the mapped column goes to the ledger; golden records read it
    with db.cursor() as cur:
        rows = dict(cur.execute("SELECT name, consent_status FROM golden_records").fetchall())
        oneid = cur.execute("SELECT oneid FROM golden_records WHERE name = '张三'").fetchone()[0]
    assert rows == {"张三": "granted", "李四": "withdrawn", "王五": "unknown"}
    consent.withdraw(db, "t", oneid, "marketing")  # at once, with no rebuild
    with db.cursor() as cur:
        assert cur.execute("SELECT consent_status FROM golden_records WHERE oneid = ?", [oneid]).fetchone()[0] == "withdrawn"


def test_a_minor_flag_clears_once_the_holder_turns_14(db, tmp_path):
    """A record standardized while its holder was 13 keeps is_minor until the next golden refresh
    after their 14th birthday; a real minor stays flagged."""
    from datetime import date

    child = f"{date.today().year - 10}-06-01"
    others = [f"张{c},1370000000{i},,,1985-03-0{i},男,," for i, c in enumerate("一二三四五六七八九", 1)]
    load(db, tmp_path, "crm", "crm", ["王芳,13912345678,,,1990-01-01,女,,", f"李小明,13812345678,,,{child},男,,", *others])
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    sv.refresh_golden(db)
    with db.transaction() as cur:  # as if 王芳 had been standardized when she was 13
        cur.execute("UPDATE std_records SET is_minor = true WHERE name = '王芳'")
        cur.execute("UPDATE golden_wide SET is_minor = true WHERE name = '王芳'")
    result = sv.refresh_golden(db)
    assert result.mode == "incremental" and result.rebuilt == 1
    with db.cursor() as cur:
        for table in ("std_records", "golden_records"):
            minors = dict(cur.execute(f"SELECT name, is_minor FROM {table} WHERE name IN ('王芳', '李小明')").fetchall())
            assert minors == {"王芳": False, "李小明": True}, table


# --- province, city and district parsed from the address: a fallback behind typed values ----------

def _golden_units(db) -> dict[str, tuple]:
    """name -> (province, city, district) of every golden record, and the lineage per OneID."""
    with db.cursor() as cur:
        rows = cur.execute("SELECT name, oneid, province, city, district FROM golden_records").fetchall()
        return {name: (units, sv.lineage(cur, oneid).set_index("field")) for name, oneid, *units in rows}


def test_a_record_known_only_by_its_address_gets_the_parsed_province_city_and_district(db, tmp_path):
    load(db, tmp_path, "crm", "crm", ["张三,13912345678,,,,,广东省深圳市南山区科技园路1号,"])
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    sv.build_golden(db)
    (units, lin), = _golden_units(db).values()
    assert units == ["广东省", "深圳市", "南山区"]   # the standardizer's official names
    with db.cursor() as cur:
        batch = cur.execute("SELECT max(batch_id) FROM batches").fetchone()[0]
        oneid = cur.execute("SELECT oneid FROM golden_records").fetchone()[0]
        competing = sv.candidates(cur, oneid, "district")
    for field in ("province", "city", "district"):
        assert (lin.loc[field, "source"], lin.loc[field, "batch_id"], lin.loc[field, "row_number"]) == ("crm", batch, 1)
        assert lin.loc[field, "rule"] == "most_recent" and list(lin.loc[field, "competing"]) == []
    assert competing[["value", "row_number", "golden"]].values.tolist() == [["南山区", 1, True]]


def test_a_typed_unit_beats_one_parsed_from_another_records_address(db, tmp_path):
    load(db, tmp_path, "crm", "crm", ["李四,13812345678,浙江省", "赵六,13612345678,广东省"], header="姓名,手机,省份")
    load(db, tmp_path, "pos", "pos", ["李四,13812345678,广东省深圳市南山区科技园路1号",
                                      "赵六,13612345678,广东省深圳市南山区科技园路1号"], header="姓名,手机,所在地区")
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    sv.build_golden(db)
    golden = _golden_units(db)
    (li_units, li), (zhao_units, zhao) = golden["李四"], golden["赵六"]
    # the typed province wins; the parse names another province, so its city and district are left out
    assert li_units == ["浙江省", None, None]
    assert (li.loc["province", "source"], li.loc["province", "row_number"]) == ("crm", 1)
    assert list(li.loc["province", "competing"]) == ["广东省"]
    # a parse that agrees with the typed province fills the city and district, from its own record
    assert zhao_units == ["广东省", "深圳市", "南山区"]
    assert (zhao.loc["province", "source"], zhao.loc["province", "row_number"]) == ("crm", 2)
    for field in ("city", "district"):
        assert (zhao.loc[field, "source"], zhao.loc[field, "row_number"]) == ("pos", 2)
    sv.build_golden(db, {"province": sv.SurvivorshipRule("province", "aggregate")})
    assert _golden_units(db)["李四"][0][0] == "浙江省"   # aggregate too: parsed units only when nothing is typed


def test_a_parse_that_cannot_confirm_a_typed_unit_of_its_record_is_left_out(db, tmp_path):
    load(db, tmp_path, "crm", "crm", ["孙八,13912345678,杭州市,广东省"], header="姓名,手机,城市,所在地区")
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    sv.build_golden(db)
    assert _golden_units(db)["孙八"][0] == [None, "杭州市", None]  # never 广东省 with 杭州市


def test_parsed_units_of_two_addresses_never_mix(db, tmp_path):
    load(db, tmp_path, "crm", "crm", ["王五,13712345678,,,,,浙江省杭州市西湖区文三路1号,2023-01-01 09:00:00",
                                      "钱七,13512345678,,,,,广东省深圳市南山区科技园路1号,2023-01-01 09:00:00"])
    load(db, tmp_path, "pos", "pos", ["王五,13712345678,,,,,广东省深圳市,2024-05-01 10:00:00",
                                      "钱七,13512345678,,,,,广东省深圳市,2024-05-01 10:00:00"])
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    sv.build_golden(db)
    golden = _golden_units(db)
    (wang_units, wang), (qian_units, qian) = golden["王五"], golden["钱七"]
    # the newest address (most_recent) gives province and city; the older one's district is in Hangzhou
    assert wang_units == ["广东省", "深圳市", None] and wang.loc["city", "source"] == "pos"
    assert qian_units == ["广东省", "深圳市", "南山区"]   # the older address agrees: its district fills in
    assert qian.loc["province", "source"] == "pos" and qian.loc["district", "source"] == "crm"


def test_a_store_built_by_the_earlier_release_picks_up_parsed_units_at_its_next_refresh(tmp_path):
    from test_store import _old_store  # the store of the release with 11 migrations (its golden build included)

    from governance.store.storage import open_database

    path = tmp_path / "old.duckdb"
    _old_store(path)
    db = open_database(path)
    try:
        with db.cursor() as cur:
            before = cur.execute("SELECT count(province) FROM golden_records").fetchone()[0]
        assert sv.refresh_golden(db).mode == "full"          # the build changed: a full rebuild, views included
        with db.cursor() as cur:
            after = cur.execute("SELECT count(province) FROM golden_records").fetchone()[0]
            wrong = cur.execute("""
                SELECT count(*) FROM golden_lineage l JOIN std_records s USING (batch_id, row_number)
                WHERE l.field = 'province' AND l.value IS DISTINCT FROM s.province
                  AND l.value IS DISTINCT FROM s.addr_province""").fetchone()[0]
            view = cur.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'golden_candidates'").fetchone()[0]
        assert after > before and wrong == 0 and "addr_province" in view
        assert sv.refresh_golden(db).mode == "incremental"
    finally:
        db.close()


@pytest.fixture
def refreshed(db, tmp_path, monkeypatch):
    """A resolved, refreshed store; `refreshed` lists what each refresh's look at the runs answered."""
    load_generated(db, tmp_path / "d", 200, seed=9)
    sv.refresh_golden(db)
    answers: list[bool] = []
    by_runs = sv._changed_by_runs
    monkeypatch.setattr(sv, "_changed_by_runs", lambda cur: answers.append(by_runs(cur)) or answers[-1])
    return answers


def _golden(db):
    with db.cursor() as cur:
        return cur.execute("SELECT * EXCLUDE (standardized_at) FROM golden_wide ORDER BY oneid").df()


def test_after_an_incremental_run_the_refresh_rebuilds_what_the_run_placed(db, refreshed):
    with db.cursor() as cur:
        oneid, rec = cur.execute("SELECT oneid, max(rec_id) FROM crosswalk GROUP BY oneid HAVING count(*) > 2 "
                                 "ORDER BY oneid LIMIT 1").fetchone()
    review.split_out(db, "steward", oneid, rec, "not the same person")
    with db.transaction():
        assert resolve.resolve_changed(db, "t", SAVED_MODEL).mode == "incremental"
        result = sv.refresh_golden(db)
    assert refreshed == [True] and result.mode == "incremental" and 2 <= result.rebuilt < 20
    incremental = _golden(db)
    sv.refresh_golden(db, full=True)
    pd.testing.assert_frame_equal(incremental, _golden(db))


def test_rows_erased_outside_a_run_are_found_by_fingerprint(db, refreshed):
    with db.cursor() as cur:
        oneid, rec, n = cur.execute("SELECT oneid, max(rec_id), count(*) FROM crosswalk GROUP BY oneid "
                                    "HAVING count(*) > 2 ORDER BY oneid LIMIT 1").fetchone()
    with db.transaction() as cur:  # as an erasure does: the crosswalk row goes, no run places anything
        cur.execute("DELETE FROM crosswalk WHERE rec_id = ?", [rec])
    result = sv.refresh_golden(db)
    assert refreshed == [False] and result.rebuilt == 1
    with db.cursor() as cur:
        assert cur.execute("SELECT record_count FROM golden_wide WHERE oneid = ?", [oneid]).fetchone()[0] == n - 1


def test_a_batch_standardized_again_is_found_by_fingerprint(db, refreshed):
    with db.transaction() as cur:  # as standardizing again does: new values, a new time on the batch
        batch = cur.execute("SELECT batch_id FROM crosswalk GROUP BY 1 ORDER BY count(DISTINCT oneid) LIMIT 1").fetchone()[0]
        cur.execute("UPDATE std_records SET email = 'again@example.com', email_status = 'valid' WHERE batch_id = ?",
                    [batch])
        cur.execute("UPDATE std_batches SET standardized_at = standardized_at + INTERVAL 1 HOUR WHERE batch_id = ?",
                    [batch])
        touched = cur.execute("SELECT count(DISTINCT oneid) FROM crosswalk WHERE batch_id = ?", [batch]).fetchone()[0]
    result = sv.refresh_golden(db)
    assert refreshed == [False] and result.mode == "incremental" and result.rebuilt == touched > 0
