"""Deterministic match rules of governance/oneid/links.py end to end (ingest, standardize, resolve
without the model): `mobile_one_person` (a phone whose records all fit one person) and
`masked_mobile_name_city` (a platform's masked mobile, the same full name, the same city).

Every test that shows a rule holding back also shows the rule linking elsewhere in the same store,
so that it fails when the rule is missing as well as when it links too much."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from governance import pipeline
from governance.oneid import links
from governance.oneid import resolve as oneid
from governance.privacy import erasure
from governance.sources import ingest
from governance.store.storage import scalar
from helpers import SAVED_MODEL

COLUMNS = {"姓名": "name", "手机号": "mobile", "性别": "gender", "生日": "birth_date", "unionid": "wechat_union_id",
           "昵称": "nickname", "地址": "address", "城市": "city", "openid": "wechat_open_id", "appid": "wechat_app_id",
           "身份证": "id_card", "年龄": "age_band", "买家账号": "ecommerce_buyer_id"}
UNION_A, UNION_B = "oU" + "a" * 26, "oU" + "b" * 26
OPEN_A, OPEN_B = "oX" + "a" * 26, "oX" + "b" * 26
APP_SHOP, APP_CLUB = "wx" + "1" * 16, "wx" + "2" * 16
CHANNEL = {"wechat": "wechat_mp", "douyin": "douyin", "crm": "crm", "pos": "pos", "jd": "jd"}


def load(db, tmp_path: Path, records: dict[str, dict[str, str]]) -> dict[str, tuple[str, int]]:
    """Ingest `records` (label -> {"source": ..., column: value}), one CSV per source with the columns
    mapped as COLUMNS says, and standardize. Returns label -> crosswalk key (source, row_number)."""
    by_source: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for label, record in records.items():
        by_source.setdefault(record.get("source", "crm"), []).append((label, record))
    keys: dict[str, tuple[str, int]] = {}
    for source, rows in by_source.items():
        path = tmp_path / f"{source}.csv"
        lines = [",".join(COLUMNS)] + [",".join(r.get(c, "") for c in COLUMNS) for _, r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        ingest.ingest_file(db, path, actor="t", source=source, channel=CHANNEL[source], mapping=COLUMNS)
        keys.update({label: (source, i) for i, (label, _) in enumerate(rows, start=1)})
    pipeline.standardize(db, "t")
    return keys


def crosswalk(db, keys) -> dict[str, tuple[str, str]]:
    """label -> (oneid, placed_by) after a rules-only resolve."""
    oneid.resolve(db, "t", use_model=False)
    with db.cursor() as cur:
        rows = {(s, r): (o, p) for s, r, o, p in cur.execute("SELECT source, row_number, oneid, placed_by FROM crosswalk").fetchall()}
    return {label: rows[key] for label, key in keys.items()}


def together(placed, *labels) -> bool:
    return len({placed[label][0] for label in labels}) == 1


def apart(placed, *labels) -> bool:
    return len({placed[label][0] for label in labels}) == len(labels)


# A control in every store: an unnamed WeChat record with a nickname on the phone of one named CRM record.
CONTROL = {"ctl_wx": {"source": "wechat", "手机号": "13700000009", "昵称": "阳光", "unionid": "oU" + "c" * 26},
           "ctl_crm": {"source": "crm", "姓名": "陈静", "手机号": "13700000009", "性别": "女"}}


def linked_by(placed, rule: str, *labels) -> bool:
    return together(placed, *labels) and {placed[label][1] for label in labels} == {rule}


def linked_by_one_person(placed) -> bool:
    return linked_by(placed, "mobile_one_person", "ctl_wx", "ctl_crm")


# ---- mobile_one_person -------------------------------------------------------------------------

def test_an_unnamed_wechat_record_joins_the_named_record_on_its_phone(db, tmp_path):
    keys = load(db, tmp_path, {
        "wx": {"source": "wechat", "手机号": "13912345678", "昵称": "小太阳☀", "unionid": UNION_A},
        "crm": {"source": "crm", "姓名": "张伟", "手机号": "139 1234 5678", "性别": "男", "生日": "1988-03-02"},
        "other": {"source": "crm", "姓名": "李娜", "手机号": "13512345678"},
    })
    placed = crosswalk(db, keys)
    assert together(placed, "wx", "crm") and apart(placed, "wx", "other")
    assert placed["wx"][1] == placed["crm"][1] == "mobile_one_person"   # the rule that placed them
    assert placed["other"][1] == "singleton"


def test_a_household_phone_keeps_its_unnamed_record_apart(db, tmp_path):
    keys = load(db, tmp_path, {
        **CONTROL,
        "wx": {"source": "wechat", "手机号": "13912345678", "昵称": "小太阳", "unionid": UNION_A},
        "wei": {"source": "crm", "姓名": "张伟", "手机号": "13912345678"},
        "fang": {"source": "crm", "姓名": "王芳", "手机号": "13912345678"},  # another full name: a family phone
    })
    placed = crosswalk(db, keys)
    assert linked_by_one_person(placed)
    assert apart(placed, "wx", "wei", "fang")
    assert {placed[k][1] for k in ("wx", "wei", "fang")} == {"singleton"}


WX = {"source": "wechat", "手机号": "13912345678", "昵称": "小太阳"}
SHOP = {f"shop{i}": {"source": "pos", "手机号": "13912345678"} for i in range(5)}  # a cashier types the shop's phone


@pytest.mark.parametrize("records", [
    {"wx": {**WX, "性别": "女"}, "wei": {"source": "crm", "姓名": "王伟", "手机号": "13912345678", "性别": "男"}},
    {"wx": {**WX, "性别": "女士"}, "wei": {"source": "crm", "姓名": "王伟", "手机号": "13912345678", "性别": "男"}},
    {"wx": {**WX, "姓名": "女士"}, "wei": {"source": "crm", "姓名": "王伟", "手机号": "13912345678", "性别": "男"}},
    {"wx": {**WX, "生日": "1990-05-06"}, "crm": {"source": "crm", "姓名": "张伟", "手机号": "13912345678", "生日": "1988-03-02"}},
    {"wx": {**WX, "unionid": UNION_A}, "crm": {"source": "crm", "姓名": "张伟", "手机号": "13912345678", "unionid": UNION_B}},
    {"boss": {"source": "douyin", "姓名": "王总", "手机号": "13912345678"},  # a title says no sex
     "fang": {"source": "crm", "姓名": "王芳", "手机号": "13912345678", "性别": "女"}},
    {"ms": {"source": "douyin", "姓名": "李女士", "手机号": "13912345678"},  # another surname: his wife
     "chen": {"source": "crm", "姓名": "张晨", "手机号": "13912345678"}},
    {"ms": {"source": "douyin", "姓名": "胡女士", "手机号": "13912345678"},  # hu starts huangchen, 胡 is no 黄
     "chen": {"source": "crm", "姓名": "黄晨", "手机号": "13912345678"}},
    {"mr": {"source": "douyin", "姓名": "陈先生", "手机号": "13912345678"},  # chen starts chengchen
     "chen": {"source": "crm", "姓名": "程晨", "手机号": "13912345678"}},
    {"mr": {"source": "douyin", "姓名": "李先生", "手机号": "13912345678"},  # a Latin family name of another surname
     "lisa": {"source": "crm", "姓名": "Lisa Wong", "手机号": "13912345678"}},
    {"rare": {"source": "douyin", "姓名": "仉芳", "手机号": "13912345678"},  # a rare surname may be a real name
     "fang": {"source": "crm", "姓名": "王芳", "手机号": "13912345678", "性别": "女"}},
    {**SHOP, "wei": {"source": "crm", "姓名": "张伟", "手机号": "13912345678", "性别": "男"}},
    {"wx": {**WX, "openid": OPEN_A, "appid": APP_SHOP}, "wx2": {**WX, "openid": OPEN_B, "appid": APP_SHOP},
     "crm": {"source": "crm", "姓名": "张伟", "手机号": "13912345678"}},
], ids=["gender", "salutation-as-gender", "bare-salutation-as-name", "birth-dates", "two-wechat-accounts",
        "title-without-sex", "other-surname", "surname-pinyin-prefix-hu", "surname-pinyin-prefix-chen", "latin-family-name", "rare-surname", "shop-phone", "two-openids-in-one-app"])
def test_records_that_do_not_fit_one_person_keep_a_phone_apart(db, tmp_path, records):
    keys = load(db, tmp_path, {**CONTROL, **records})
    placed = crosswalk(db, keys)
    assert linked_by_one_person(placed)
    assert apart(placed, *records)


def test_one_persons_openids_in_two_apps_are_one_wechat_account_on_a_phone(db, tmp_path):
    keys = load(db, tmp_path, {
        "shop": {**WX, "openid": OPEN_A, "appid": APP_SHOP},   # a shop and a members' club mini-program
        "club": {**WX, "昵称": "晴天", "openid": OPEN_B, "appid": APP_CLUB},
        "crm": {"source": "crm", "姓名": "张伟", "手机号": "13912345678"},
    })
    placed = crosswalk(db, keys)
    assert linked_by(placed, "mobile_one_person", "shop", "club", "crm")


def test_a_leads_name_that_is_its_own_nickname_is_no_name_on_a_phone(db, tmp_path):
    """李女士's ticket, her Douyin lead whose 联系人 is its nickname 茶香, and her WeChat record: one person."""
    keys = load(db, tmp_path, {
        "ticket": {"source": "crm", "姓名": "李女士", "手机号": "13912345678"},
        "lead": {"source": "douyin", "姓名": "茶香", "昵称": "茶香", "手机号": "13912345678"},
        "wx": {**WX, "昵称": "好运来"},
    })
    placed = crosswalk(db, keys)
    assert linked_by(placed, "mobile_one_person", "ticket", "lead", "wx")


# ---- mobile_nickname_is_name ---------------------------------------------------------------------

def test_every_rule_has_a_strength_between_the_rules_above_and_below_it():
    """Clustering drops the weakest link of a conflict: rules rank above approvals (REVIEW_STRENGTH)."""
    assert {r.rule_id for r in links.RULES} == set(oneid.RULE_STRENGTH)
    assert min(oneid.RULE_STRENGTH.values()) > oneid.REVIEW_STRENGTH


def test_an_unnamed_records_nickname_that_is_a_full_name_on_its_household_phone_joins_that_name(db, tmp_path):
    phone = "18784562146"
    keys = load(db, tmp_path, {
        "kai": {"source": "pos", "姓名": "何凯", "手机号": phone, "性别": "男"},
        "tao": {"source": "crm", "姓名": "何辉涛", "手机号": phone, "性别": "男"},   # his father, on the family phone
        "wx": {"source": "wechat", "手机号": phone, "昵称": "何凯"},
        "sunny": {"source": "wechat", "手机号": phone, "昵称": "晴天"},             # a nickname that names no one
        "her": {"source": "douyin", "手机号": phone, "昵称": "何辉涛", "性别": "女"},  # a name of the other sex
    })
    placed = crosswalk(db, keys)
    assert linked_by(placed, "mobile_nickname_is_name", "wx", "kai")
    assert apart(placed, "kai", "tao", "sunny", "her")


def test_a_surname_with_its_sex_is_name_enough_for_an_unnamed_record_on_its_phone(db, tmp_path):
    keys = load(db, tmp_path, {
        "wx": {**WX, "unionid": UNION_A}, "mr": {"source": "douyin", "姓名": "张先生", "手机号": "13912345678"},
        "wx_f": {"source": "wechat", "手机号": "13912345671", "性别": "女", "昵称": "月亮"},
        "mr2": {"source": "douyin", "姓名": "李先生", "手机号": "13912345671"},
    })
    placed = crosswalk(db, keys)
    assert linked_by(placed, "mobile_one_person", "wx", "mr")
    assert apart(placed, "wx_f", "mr2")  # she is no 先生


def test_a_salutation_of_the_same_sex_links_and_one_of_the_other_sex_does_not(db, tmp_path):
    keys = load(db, tmp_path, {
        "mr": {"source": "douyin", "姓名": "王先生", "手机号": "13912345678"},
        "wei1": {"source": "crm", "姓名": "王伟", "手机号": "13912345678", "性别": "男"},
        "ms": {"source": "douyin", "姓名": "王女士", "手机号": "13912345671"},
        "wei2": {"source": "crm", "姓名": "王伟", "手机号": "13912345671", "性别": "男"},
    })
    placed = crosswalk(db, keys)
    assert linked_by(placed, "mobile_one_person", "mr", "wei1")
    assert apart(placed, "ms", "wei2")


def test_a_salutation_links_a_full_name_whose_given_name_says_the_same_sex(db, tmp_path):
    keys = load(db, tmp_path, {
        "mr": {"source": "douyin", "姓名": "王先生", "手机号": "13912345678"},
        "wei": {"source": "crm", "姓名": "王伟", "手机号": "13912345678"},   # 伟: a man's name
        "ms": {"source": "douyin", "姓名": "李女士", "手机号": "13912345671"},
        "na": {"source": "crm", "姓名": "李娜", "手机号": "13912345671"},     # 娜: a woman's name
        "mr2": {"source": "douyin", "姓名": "刘先生", "手机号": "13912345672"},
        "fang": {"source": "crm", "姓名": "刘芳", "手机号": "13912345672"},   # 芳: not a 先生
    })
    placed = crosswalk(db, keys)
    assert linked_by(placed, "mobile_one_person", "mr", "wei") and linked_by(placed, "mobile_one_person", "ms", "na")
    assert apart(placed, "mr2", "fang")


def test_a_salutation_links_a_full_name_of_its_surname_whose_sex_is_not_known(db, tmp_path):
    """张女士's ticket, 张晨's CRM record (晨 says no sex) and her unnamed WeChat record on one phone: one
    person. A sex that is known and differs still keeps a phone apart (above)."""
    keys = load(db, tmp_path, {
        "ms": {"source": "douyin", "姓名": "张女士", "手机号": "13912345678"},
        "chen": {"source": "crm", "姓名": "张晨", "手机号": "13912345678"},
        "wx": {**WX, "性别": "女"},
        "yu": {"source": "crm", "姓名": "YU DANDAN", "手机号": "13912345671"},
        "ms_yu": {"source": "douyin", "姓名": "余女士", "手机号": "13912345671"},
        "wx_yu": {"source": "wechat", "手机号": "13912345671", "昵称": "天道酬勤"},
    })
    placed = crosswalk(db, keys)
    assert linked_by(placed, "mobile_one_person", "ms", "chen", "wx")
    assert linked_by(placed, "mobile_one_person", "yu", "ms_yu", "wx_yu")


def test_a_given_name_says_no_sex_where_the_same_name_on_the_phone_says_its_own(db, tmp_path):
    """陈欣 (欣: mostly a woman's name) whose POS record says 男, and a man's unnamed WeChat record on
    his phone: one person. Where nothing says 刘芳's sex, her given name still does."""
    placed = crosswalk(db, load(db, tmp_path, {
        "lead": {"source": "douyin", "姓名": "陈欣", "手机号": "13912345678"},
        "pos": {"source": "pos", "姓名": "陈欣", "手机号": "13912345678", "性别": "男"},
        "wx": {"source": "wechat", "手机号": "13912345678", "性别": "男", "昵称": "平安是福"},
        "fang": {"source": "crm", "姓名": "刘芳", "手机号": "13912345671"},
        "wx_m": {"source": "wechat", "手机号": "13912345671", "性别": "男", "昵称": "天道酬勤"},
    }))
    assert together(placed, "lead", "pos", "wx") and placed["wx"][1] == "mobile_one_person"
    assert apart(placed, "fang", "wx_m")


def test_stewards_can_turn_mobile_one_person_off(db, tmp_path):
    keys = load(db, tmp_path, {
        "wx": {"source": "wechat", "手机号": "13912345678", "昵称": "小太阳", "unionid": UNION_A},
        "crm": {"source": "crm", "姓名": "张伟", "手机号": "13912345678"},
    })
    assert together(crosswalk(db, keys), "wx", "crm")
    links.set_rule_enabled(db, "alice", "mobile_one_person", False)
    with db.cursor() as cur:
        assert links.rule_settings(cur)["mobile_one_person"] is False
    assert apart(crosswalk(db, keys), "wx", "crm")
    links.set_rule_enabled(db, "alice", "mobile_one_person", True)
    assert together(crosswalk(db, keys), "wx", "crm")


# ---- masked_mobile_name_city -------------------------------------------------------------------

DOUYIN_LI_NA = {"source": "douyin", "姓名": "李娜", "手机号": "138****5530", "地址": "广东省深圳市南山区科技园路1号"}


@pytest.mark.parametrize("where", [{"城市": "深圳"}, {"地址": "广东省深圳市福田区福华路3号"}], ids=["city", "address"])
def test_a_masked_mobile_links_the_same_full_name_in_the_same_city(db, tmp_path, where):
    keys = load(db, tmp_path, {"dy": DOUYIN_LI_NA, "crm": {"source": "crm", "姓名": "李娜", "手机号": "13812345530", **where}})
    placed = crosswalk(db, keys)
    assert linked_by(placed, "masked_mobile_name_city", "dy", "crm")


def test_a_masked_mobile_links_the_same_full_name_when_one_city_is_unknown(db, tmp_path):
    keys = load(db, tmp_path, {"dy": DOUYIN_LI_NA, "crm": {"source": "crm", "姓名": "李娜", "手机号": "13812345530"}})
    placed = crosswalk(db, keys)
    assert linked_by(placed, "masked_mobile_name_city", "dy", "crm")


def test_a_masked_mobile_does_not_link_another_city_or_another_name(db, tmp_path):
    keys = load(db, tmp_path, {
        "dy": DOUYIN_LI_NA,
        "same": {"source": "crm", "姓名": "李娜", "手机号": "13812345530", "城市": "深圳"},  # the control
        "dy_city": {"source": "douyin", "姓名": "王芳", "手机号": "139****6789", "地址": "广东省深圳市南山区科技园路1号"},
        "other_city": {"source": "crm", "姓名": "王芳", "手机号": "13911116789", "城市": "杭州"},
        "dy_name": {"source": "douyin", "姓名": "刘洋", "手机号": "137****4321", "地址": "广东省深圳市南山区科技园路1号"},
        "other_name": {"source": "crm", "姓名": "赵敏", "手机号": "13712344321", "城市": "深圳"},
    })
    placed = crosswalk(db, keys)
    assert linked_by(placed, "masked_mobile_name_city", "dy", "same")
    assert apart(placed, "dy_city", "other_city") and apart(placed, "dy_name", "other_name")


@pytest.mark.parametrize("other", [{"姓名": "李娜", "性别": "男"}, {"姓名": "李娜", "生日": "1970-01-01"},
                                   {"姓名": "李纳"}], ids=["sex", "birth-date", "another-hanzi-same-pinyin"])
def test_a_masked_mobile_needs_the_same_written_name_and_no_conflict(db, tmp_path, other):
    keys = load(db, tmp_path, {
        "dy": {**DOUYIN_LI_NA, "性别": "女", "生日": "1999-09-09"},
        "crm": {"source": "crm", "手机号": "13812345530", "城市": "深圳", **other},
        "dy2": {"source": "douyin", "姓名": "王芳", "手机号": "139****6789", "地址": "浙江省杭州市西湖区文三路2号"},
        "control": {"source": "crm", "姓名": "王芳", "手机号": "13911116789", "城市": "杭州"},
    })
    placed = crosswalk(db, keys)
    assert linked_by(placed, "masked_mobile_name_city", "dy2", "control")
    assert apart(placed, "dy", "crm")


def test_a_masked_mobile_that_fits_two_full_numbers_links_nothing(db, tmp_path):
    keys = load(db, tmp_path, {
        "dy": DOUYIN_LI_NA,
        "first": {"source": "crm", "姓名": "李娜", "手机号": "13812345530", "城市": "深圳"},
        "second": {"source": "pos", "姓名": "李娜", "手机号": "13898765530", "城市": "深圳"},
        "dy2": {"source": "douyin", "姓名": "王芳", "手机号": "139****6789", "地址": "浙江省杭州市西湖区文三路2号"},
        "control": {"source": "crm", "姓名": "王芳", "手机号": "13911116789", "城市": "杭州"},
    })
    placed = crosswalk(db, keys)
    assert linked_by(placed, "masked_mobile_name_city", "dy2", "control")
    assert apart(placed, "dy", "first", "second")


# ---- masked_mobile_surname_sex -----------------------------------------------------------------

def test_a_masked_mobile_links_the_same_surname_of_the_same_known_sex_in_no_two_cities(db, tmp_path):
    """The sex is known from a resident ID, a gender column, a salutation or a given name that all but
    always means it. A record without a city (a POS card, a CRM row) does not keep them apart; two cities do."""
    keys = load(db, tmp_path, {
        "dy": {"source": "douyin", "姓名": "于女士", "手机号": "180****4280", "城市": "深圳"},
        "crm": {"source": "crm", "姓名": "于女士", "手机号": "18024584280", "城市": "深圳"},
        "dy_mr": {"source": "douyin", "姓名": "马先生", "手机号": "175****1015", "城市": "杭州"},
        "pos": {"source": "pos", "姓名": "马磊强", "手机号": "17557641015", "性别": "男", "城市": "杭州"},
        "dy_sex": {"source": "douyin", "姓名": "王先生", "手机号": "139****6789", "城市": "深圳"},
        "other_sex": {"source": "crm", "姓名": "王芳", "手机号": "13911116789", "性别": "女", "城市": "深圳"},
        "dy_city": {"source": "douyin", "姓名": "赵女士", "手机号": "137****4321", "城市": "深圳"},
        "other_city": {"source": "crm", "姓名": "赵女士", "手机号": "13712344321", "城市": "杭州"},
        "dy_no_city": {"source": "douyin", "姓名": "周女士", "手机号": "133****4321", "城市": "深圳"},
        "no_city": {"source": "crm", "姓名": "周女士", "手机号": "13312344321"},
        # no sex on record: her given name's (丽, a woman's) fits; 孙悦's tells none; 高伟's (a man's) does not fit
        "dy_by_name": {"source": "douyin", "姓名": "孙女士", "手机号": "136****1234", "城市": "深圳"},
        "by_name": {"source": "crm", "姓名": "孙丽", "手机号": "13600001234", "城市": "深圳"},
        "dy_unknown": {"source": "douyin", "姓名": "孙女士", "手机号": "136****5678", "城市": "深圳"},
        "no_sex": {"source": "crm", "姓名": "孙悦", "手机号": "13600005678", "城市": "深圳"},
        "dy_other": {"source": "douyin", "姓名": "高女士", "手机号": "136****9012", "城市": "深圳"},
        "his_name": {"source": "crm", "姓名": "高伟", "手机号": "13600009012", "城市": "深圳"},
        "masked_a": {"source": "douyin", "姓名": "钱女士", "手机号": "158****4321"},  # no full number, no city
        "masked_b": {"source": "crm", "姓名": "钱女士", "手机号": "158****4321"},
    })
    placed = crosswalk(db, keys)
    assert linked_by(placed, "masked_mobile_surname_sex", "dy", "crm")
    assert linked_by(placed, "masked_mobile_surname_sex", "dy_mr", "pos")
    assert apart(placed, "dy_sex", "other_sex") and apart(placed, "dy_city", "other_city")
    assert linked_by(placed, "masked_mobile_surname_sex", "dy_no_city", "no_city")
    assert linked_by(placed, "masked_mobile_surname_sex", "dy_by_name", "by_name")
    assert apart(placed, "dy_unknown", "no_sex") and apart(placed, "dy_other", "his_name")
    assert apart(placed, "masked_a", "masked_b")


def test_a_masked_surname_that_fits_two_full_numbers_or_two_names_links_nothing(db, tmp_path):
    keys = load(db, tmp_path, {
        "dy": {"source": "douyin", "姓名": "于女士", "手机号": "180****4280", "城市": "深圳"},
        "control": {"source": "crm", "姓名": "于女士", "手机号": "18024584280", "城市": "深圳"},
        "dy2": {"source": "douyin", "姓名": "李女士", "手机号": "138****5530", "城市": "深圳"},
        "first": {"source": "crm", "姓名": "李女士", "手机号": "13812345530", "城市": "深圳"},
        "second": {"source": "pos", "姓名": "李女士", "手机号": "13898765530", "城市": "深圳"},
        "dy3": {"source": "douyin", "姓名": "陈女士", "手机号": "135****1111", "城市": "深圳"},
        "ling": {"source": "crm", "姓名": "陈玲", "手机号": "13500001111", "性别": "女", "城市": "深圳"},
        "li": {"source": "pos", "姓名": "陈丽", "手机号": "135****1111", "性别": "女", "城市": "深圳"},
    })
    placed = crosswalk(db, keys)
    assert linked_by(placed, "masked_mobile_surname_sex", "dy", "control")
    assert apart(placed, "dy2", "first", "second") and apart(placed, "ling", "li")


# ---- masked_mobile_nickname --------------------------------------------------------------------

def test_a_masked_mobile_links_the_same_rare_nickname_unless_names_or_numbers_disagree(db, tmp_path):
    """小太阳🌞 on Douyin (138****5530) and in the mini-program (13812345530) link; two surnames, two
    full numbers or another nickname keep them apart."""
    keys = load(db, tmp_path, {
        "dy": {"source": "douyin", "昵称": "小太阳🌞", "手机号": "138****5530", "姓名": "李"},
        "wx": {"source": "wechat", "昵称": "小太阳🌞", "手机号": "13812345530"},
        "dy_names": {"source": "douyin", "昵称": "随缘", "手机号": "175****4994", "姓名": "沈"},
        "crm_names": {"source": "crm", "昵称": "随缘", "手机号": "17512344994", "姓名": "吴丽晨"},
        "dy_two": {"source": "douyin", "昵称": "橙子", "手机号": "135****1111"},
        "first": {"source": "crm", "昵称": "橙子", "手机号": "13500001111"},
        "second": {"source": "pos", "昵称": "橙子", "手机号": "13598761111"},
        "dy_other": {"source": "douyin", "昵称": "明月", "手机号": "139****2365"},
        "other_nick": {"source": "wechat", "昵称": "清风", "手机号": "13912342365"},
    })
    placed = crosswalk(db, keys)
    assert linked_by(placed, "masked_mobile_nickname", "dy", "wx")
    assert apart(placed, "dy_names", "crm_names") and apart(placed, "dy_two", "first", "second")
    assert apart(placed, "dy_other", "other_nick")


def test_a_nickname_that_becomes_common_no_longer_links_in_an_incremental_run(db, tmp_path, monkeypatch):
    """The rule reads how many records hold the nickname: a batch that makes it common undoes its
    links in the next incremental run, as a full run does; an erasure that makes it rare again
    brings them back."""
    monkeypatch.setattr(oneid, "INCREMENTAL_SHARE", 1.0)  # the batch is most of this small store

    def nickname_links() -> set[tuple[int, int]]:
        with db.cursor() as cur:
            return set(cur.execute("SELECT rec_l, rec_r FROM oneid_links WHERE placed_by = 'masked_mobile_nickname'")
                       .fetchall())

    load(db, tmp_path, {"dy": {"source": "douyin", "昵称": "小太阳🌞", "手机号": "138****5530"},
                        "wx": {"source": "wechat", "昵称": "小太阳🌞", "手机号": "13812345530"}})
    oneid.resolve(db, "t", model_json=SAVED_MODEL)
    assert len(nickname_links()) == 1
    many = tmp_path / "many.csv"
    many.write_text("昵称,手机号\n" + "".join(f"小太阳🌞,1391234{n:04d}\n" for n in range(links.NICKNAME_MAX_RECORDS)),
                    encoding="utf-8")
    ingest.ingest_file(db, many, actor="t", source="pos", channel="pos", mapping={"昵称": "nickname", "手机号": "mobile"})
    pipeline.standardize(db, "t")
    assert oneid.resolve_changed(db, "t", SAVED_MODEL).mode == "incremental"
    assert nickname_links() == set()
    oneid.resolve(db, "t", model_json=SAVED_MODEL)
    assert nickname_links() == set()
    with db.transaction() as cur:  # two of them erased: rare again, and linked again
        batch = cur.execute("SELECT batch_id FROM batches WHERE source = 'pos'").fetchone()[0]
        erasure.erase(cur, [(batch, 1), (batch, 2)])  # 102 records held it, now 100
    assert oneid.resolve_changed(db, "t", SAVED_MODEL).mode == "incremental"
    assert len(nickname_links()) == 1


# ---- never_two_names_one_phone -----------------------------------------------------------------

# A WeChat record without a name joins one person by its unionid and another by its openid; the
# two carry one phone, so whether they end up in one cluster is the never-link rule's to say.
def bridged(db, tmp_path, name_a: str, name_b: str, sex_a: str = "") -> dict[str, tuple[str, str]]:
    keys = load(db, tmp_path, {
        "bridge": {"source": "wechat", "昵称": "小太阳", "unionid": UNION_A, "openid": OPEN_A, "appid": APP_SHOP},
        "a": {"source": "crm", "姓名": name_a, "性别": sex_a, "手机号": "13859080089", "unionid": UNION_A},
        "b": {"source": "wechat", "姓名": name_b, "手机号": "13859080089", "openid": OPEN_A, "appid": APP_SHOP},
    })
    return crosswalk(db, keys)


@pytest.mark.parametrize("name_a, name_b, sex_a, kept_apart", [
    ("梁飞俊", "梁宁辉", "", True),        # two people of one family
    ("梁宁晖", "梁宁辉", "", False),       # one mistyped character
    ("彭鑫", "彭琳", "", True),            # alike in pinyin (pengxin, penglin), not in characters
    ("于丹", "于丹丹", "", False),         # a given name doubled
    ("王华翔", "黄华翔", "", False),       # the same given name: a surname misheard
    ("YUEWEI WANG", "王月薇", "", False),  # pinyin in the other order
    ("阿雪", "胡云雪", "", False),         # a nickname's shape (阿X) counts as no name
    ("冯女士", "顾林磊", "", True),        # a surname alone that is not the full name's
    ("伍先生", "吴强", "", False),         # one surname sound (wu): perhaps misheard
    ("王女士", "王强", "", True),          # the same surname, two sexes
    ("王先生", "王强", "", False),
    ("", "陈美玲", "男", True),            # no name, and a sex the full name is not
    ("", "陈强", "男", False),
    ("阿丹", "陈强", "", False),           # a nickname's shape says no sex
    ("夏天的风", "黎磊", "", False),       # nor is 夏天的风 a name
    ("王哥", "王丽", "", False),           # a familiar form of address says no sex
])
def test_two_people_on_one_phone_never_share_a_cluster(db, tmp_path, name_a, name_b, sex_a, kept_apart):
    placed = bridged(db, tmp_path, name_a, name_b, sex_a)
    assert apart(placed, "a", "b") is kept_apart
    assert together(placed, "bridge", "a") or together(placed, "bridge", "b")  # the bridge joins one of them
    with db.cursor() as cur:
        flags = cur.execute("SELECT reason FROM cluster_flags").fetchall()
    assert (("names_one_phone",) in flags) is kept_apart  # the refused link goes to a steward


def test_two_names_of_one_resident_id_are_not_kept_apart(db, tmp_path):
    keys = load(db, tmp_path, {
        "a": {"source": "crm", "姓名": "王芳", "手机号": "13859080089", "身份证": "11010519491231002X"},
        "b": {"source": "pos", "姓名": "王小芳", "手机号": "13859080089", "身份证": "11010519491231002X"},
    })
    placed = crosswalk(db, keys)
    assert together(placed, "a", "b") and placed["b"][1] == "same_id_card"


def test_the_rule_can_be_turned_off(db, tmp_path):
    links.set_rule_enabled(db, "t", "never_two_names_one_phone", False)
    placed = bridged(db, tmp_path, "冯女士", "顾林磊")
    assert together(placed, "bridge", "a", "b")


def test_two_full_names_on_one_phone_stay_apart_with_the_phone_rule_off(db, tmp_path):
    links.set_rule_enabled(db, "t", "never_two_names_one_phone", False)
    placed = bridged(db, tmp_path, "梁飞俊", "梁宁辉")
    assert apart(placed, "a", "b")
    with db.cursor() as cur:
        assert cur.execute("SELECT DISTINCT reason FROM cluster_flags").fetchall() == [("two_names",)]


# ---- never_two_full_names ----------------------------------------------------------------------

# 曹斌凯 with his own phone and unionid; a WeChat record without a name carries his unionid and a
# second phone, on which a record of `name_b` is the only name.
def across_phones(db, tmp_path, name_b: str, source_b: str = "pos", buyer_b: str = "") -> dict[str, tuple[str, str]]:
    keys = load(db, tmp_path, {**CONTROL,
        "a": {"source": "crm", "姓名": "曹斌凯", "手机号": "17745466436", "unionid": UNION_A},
        "bridge": {"source": "wechat", "昵称": "爱吃鱼的兔子", "unionid": UNION_A, "手机号": "13462995807"},
        "b": {"source": source_b, "姓名": name_b, "手机号": "13462995807", "买家账号": buyer_b},
        "unnamed": {"source": "douyin", "昵称": "迷路的鲸鱼", "手机号": "13462995807"},
    })
    return crosswalk(db, keys)


@pytest.mark.parametrize("name_b, kept_apart", [
    ("曹凯宇", True),        # two people
    ("曹斌恺", False),       # one mistyped character
    ("BINKAI CAO", False),   # his name in pinyin
    ("曹女士", False),       # a surname alone: the phone rule's to weigh, on one phone
])
def test_two_full_names_never_share_a_cluster_wherever_they_were_written(db, tmp_path, name_b, kept_apart):
    placed = across_phones(db, tmp_path, name_b)
    assert together(placed, "a", "bridge") and apart(placed, "a", "b") is kept_apart
    assert linked_by_one_person(placed)
    with db.cursor() as cur:
        flags = cur.execute("SELECT reason FROM cluster_flags").fetchall()
    assert (("two_names",) in flags) is kept_apart
    # the second phone turned out to be two people's: its record without a name links to neither
    assert apart(placed, "a", "unnamed") is kept_apart and apart(placed, "b", "unnamed") is kept_apart


def test_the_buyers_own_order_is_kept_apart_by_its_name(db, tmp_path):
    """An order whose buyer nick spells its receiver is the buyer's own: its name is a person's as any record's is."""
    placed = across_phones(db, tmp_path, "曹凯宇", source_b="jd", buyer_b="jd_caokaiyu")
    assert together(placed, "a", "bridge") and apart(placed, "a", "b")


def test_an_order_shipped_to_someone_else_stays_with_its_buyer_whatever_the_receivers_name(db, tmp_path):
    placed = crosswalk(db, load(db, tmp_path, {
        "crm": {"source": "crm", "姓名": "张伟", "手机号": "13462995807"},
        "own": {"source": "jd", "姓名": "张伟", "手机号": "13462995807", "买家账号": "zhangwei1988"},
        "gift": {"source": "jd", "姓名": "曹凯宇", "手机号": "17745466436", "买家账号": "zhangwei1988"},
    }))
    with db.cursor() as cur:
        assert scalar(cur, "SELECT count(*) FROM oneid_shipping") == 1
        assert not cur.execute("SELECT * FROM cluster_flags").fetchall()
    assert together(placed, "crm", "own", "gift")


def test_the_full_names_rule_can_be_turned_off(db, tmp_path):
    links.set_rule_enabled(db, "t", "never_two_full_names", False)
    placed = across_phones(db, tmp_path, "曹凯宇")
    assert together(placed, "a", "bridge", "b", "unnamed")


# ---- never_birth_years_apart -------------------------------------------------------------------

THIS_YEAR = datetime.now(ZoneInfo("Asia/Shanghai")).year  # an age is dated by its upload (China time)


def born(db, tmp_path, birth_a: str, age_b: str = "", birth_b: str = "") -> dict[str, tuple[str, str]]:
    """Two records of one name that a record without a name joins by their unionid and openid."""
    keys = load(db, tmp_path, {
        "bridge": {"source": "wechat", "昵称": "小太阳", "unionid": UNION_A, "openid": OPEN_A, "appid": APP_SHOP},
        "a": {"source": "crm", "姓名": "张伟", "生日": birth_a, "unionid": UNION_A},
        "b": {"source": "wechat", "姓名": "张伟", "年龄": age_b, "生日": birth_b, "openid": OPEN_A, "appid": APP_SHOP},
    })
    return crosswalk(db, keys)


@pytest.mark.parametrize("birth_a, age_b, birth_b, kept_apart", [
    ("1970-03-14", str(THIS_YEAR - 1998), "", True),   # an age saying 1997 or 1998, and born in 1970
    ("1998-05-01", str(THIS_YEAR - 1998), "", False),
    ("1994-05-01", str(THIS_YEAR - 1998), "", False),  # an age may be years old, or shaded
    ("1990-05-01", str(THIS_YEAR - 1998), "", True),
    ("1996-05-01", "25-30岁", "", False),               # within the band
    ("1960-05-01", "25-30岁", "", True),
    ("1985-08-26", "", "1990-01-01", False),           # two birth dates: one may be mistyped (the model weighs them)
    ("", "25-30岁", "", False),                         # nothing to compare
])
def test_records_born_years_apart_never_share_a_cluster(db, tmp_path, birth_a, age_b, birth_b, kept_apart):
    placed = born(db, tmp_path, birth_a, age_b, birth_b)
    assert apart(placed, "a", "b") is kept_apart
    assert together(placed, "bridge", "a") or together(placed, "bridge", "b")
    with db.cursor() as cur:
        flags = cur.execute("SELECT reason FROM cluster_flags").fetchall()
    assert (("birth_years",) in flags) is kept_apart


def test_the_birth_years_rule_can_be_turned_off(db, tmp_path):
    links.set_rule_enabled(db, "t", "never_birth_years_apart", False)
    placed = born(db, tmp_path, "1970-03-14", str(THIS_YEAR - 1998))
    assert together(placed, "bridge", "a", "b")


@pytest.mark.parametrize("age_b, age_c, one_person", [(25, 56, False), (56, 62, True)])
def test_a_phone_whose_records_were_born_years_apart_is_no_ones_alone(db, tmp_path, age_b, age_c, one_person):
    """Two records without a name, aged 25 and 56, on the phone of 高博平: a family's phone, and
    neither links to him by it (56 and 62 may be one person's ages, written down years apart)."""
    keys = load(db, tmp_path, {
        "a": {"source": "crm", "姓名": "高博平", "手机号": "15146998115"},
        "b": {"source": "wechat", "昵称": "欣欣", "年龄": str(age_b), "手机号": "15146998115"},
        "c": {"source": "douyin", "昵称": "迷路的鲸鱼", "年龄": str(age_c), "手机号": "15146998115"},
    })
    placed = crosswalk(db, keys)
    assert together(placed, "a", "b", "c") is one_person
    assert apart(placed, "a", "b") is not one_person and apart(placed, "a", "c") is not one_person
