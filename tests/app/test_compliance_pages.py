"""AppTest for the Masking policies page (admin) and the Record of processing page (steward, admin)."""
from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from governance import pipeline
from governance.sources import ingest
from helpers import app_test, visible_text


@pytest.fixture
def loaded(app_db, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text("会员卡号,姓名,手机号,身份证号\nM1,张伟,13912345678,11010519491231002X\n"
                    "M2,欧阳娜娜,13812345678,\n", encoding="utf-8")
    ingest.ingest_file(app_db, path, actor="steward", channel="crm")
    pipeline.standardize(app_db, "steward")
    return app_db


def open_page(database, role: str, page: str):
    at = app_test(database, role).run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_admin_changes_a_rule_it_is_audited_and_the_analyst_sees_it(loaded):
    at = open_page(loaded, "admin", "pages/masking_policies.py")
    assert [t.value for t in at.title] == ["Masking policies"]
    policy = at.dataframe[-1].value
    assert len(policy) == 14 * 3 and set(policy["method"]) == {"Partial", "Full"}
    assert len(policy[policy["method"] == "Full"]) == 3  # gender, for each role: a new store's default
    at.selectbox(key="masking_class").set_value("mobile")
    at.selectbox(key="masking_role").set_value("analyst").run()
    assert "Example: 139****5678" in visible_text(at)
    at.radio(key="masking_method_mobile_analyst").set_value("partial").run()
    at.number_input(key="masking_start_mobile_analyst").set_value(0).run()
    assert "Example: *******5678" in visible_text(at)
    at.button(key="masking_save").click().run()
    assert [s.value for s in at.success] == ["Saved and audited."]
    shown = at.dataframe[-1].value
    row = shown[(shown["sensitivity_class"] == "Mobiles") & (shown["role"] == "analyst")].iloc[0]
    assert (row["keep_start"], row["keep_end"], row["updated_by"]) == (0, 4, "admin")
    with loaded.cursor() as cur:
        actor, object_id, detail = cur.execute("SELECT actor, object_id, detail FROM audit_log "
                                               "WHERE action = 'masking.policy_change'").fetchone()
    assert (actor, object_id) == ("admin", "mobile:analyst") and json.loads(detail)["after"]["keep_start"] == 0

    analyst = open_page(loaded, "analyst", "pages/sources.py")
    assert "*******5678" in visible_text(analyst) and "139****5678" not in visible_text(analyst)
    steward = open_page(loaded, "steward", "pages/sources.py")
    assert "139****5678" in visible_text(steward)  # the steward's rule is unchanged


def test_a_keyed_hash_rule_shows_pseudonyms(loaded):
    at = open_page(loaded, "admin", "pages/masking_policies.py")
    at.selectbox(key="masking_class").set_value("name")
    at.selectbox(key="masking_role").set_value("analyst").run()
    at.radio(key="masking_method_name_analyst").set_value("hash").run()
    at.button(key="masking_save").click().run()
    analyst = open_page(loaded, "analyst", "pages/sources.py")
    names = analyst.dataframe[-1].value["姓名"].tolist()
    assert all(len(n) == 16 and set(n) <= set("0123456789abcdef") for n in names) and len(set(names)) == 2


@pytest.mark.parametrize("role", ["steward", "analyst"])
def test_only_admins_reach_the_policy_page(loaded, role):
    at = app_test(loaded, role).run()
    with pytest.raises(ValueError):  # not in this role's navigation
        at.switch_page("pages/masking_policies.py").run()


def test_record_of_processing_page(loaded):
    at = open_page(loaded, "steward", "pages/ropa.py")
    assert [t.value for t in at.title] == ["Record of processing"]
    assert [m.value for m in at.metric] == ["1", "4", "1", "2"]  # sources, categories, sensitive, records
    register = at.dataframe[0].value
    assert set(register["category"]) == {"Names", "Mobiles", "Resident ID numbers", "Membership cards"}
    assert register.set_index("category").loc["Resident ID numbers", "records_with_value"] == 1
    assert register.set_index("category").loc["Mobiles", "records_with_value"] == 2
    assert [b.key for b in at.get("download_button")] == ["ropa_xlsx", "ropa_csv", "ropa_pipia"]


def test_admin_reaches_the_record_and_its_workbook_matches_the_register(loaded):
    from governance.privacy import ropa

    with loaded.cursor() as cur:
        record = ropa.build(cur)
    workbook = load_workbook(io.BytesIO(ropa.to_xlsx(record)))
    assert workbook["register"].max_row == 1 + len(record.register) == 5
    at = open_page(loaded, "admin", "pages/ropa.py")
    assert not at.exception and [t.value for t in at.title] == ["Record of processing"]


def test_record_of_processing_reads_in_chinese(loaded):
    from governance.privacy import retention, ropa

    retention.set_policy(loaded, "steward", "source", "crm", 730)
    at = app_test(loaded, "steward", lang="zh").run()
    at.switch_page("pages/ropa.py").run()
    assert not at.exception
    register, sensitive = at.dataframe[0].value, at.dataframe[1].value
    assert set(register["category"]) == {"姓名", "手机号", "身份证号", "会员卡号"}
    assert set(register["retention"]) == {"730 天"} and set(register["purposes"]) == {"未设置"}
    assert set(register["recipients"]) == {"无"} and "手机号" in set(register["fields"])
    assert list(sensitive["basis"]) == ["个保法第 28 条：特定身份信息（居民身份证号 / 居住证号码）"]
    with loaded.cursor() as cur:  # the record itself, and its files, keep the codes
        assert set(ropa.build(cur).register["retention"]) == {"730 days"}
