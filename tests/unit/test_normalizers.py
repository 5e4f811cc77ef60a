"""Fixed vectors for the standardize-stage normalizers (governance-anchors section 4)."""
from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime

import pytest

from governance.standardize import normalizers as N
from governance.standardize.normalizers import Result
from governance.store.schema import FIELD_NAMES

TODAY = date(2025, 6, 1)


def check(result: Result, value, status, reason=None):
    assert (result.value, result.status, result.reason) == (value, status, reason), result


# --------------------------------------------------------------------------- API surface

def test_api_surface():
    assert N.STATUSES == ("valid", "valid_with_warning", "invalid", "missing", "masked", "placeholder")
    r = Result("x", "valid")
    assert r.reason is None and r.extra is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value = "y"
    assert not hasattr(r, "__dict__")  # slots


def test_every_standard_field_has_a_normalizer():
    assert set(FIELD_NAMES) <= set(N.NORMALIZERS)
    for field in FIELD_NAMES:
        assert N.NORMALIZERS[field](None) == Result(None, "missing", "MISSING")


def test_every_reason_produced_is_documented_in_both_languages():
    source = open(N.__file__, encoding="utf-8").read()
    produced = set(re.findall(r'"([A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+)"', source)) | {"MASKED", "MISSING", "PLACEHOLDER"}
    produced -= {"EXCEL_SERIAL", "LEADING_ZERO", "HK", "MO", "TW", "FOREIGN", "FLOAT", "SCIENTIFIC",
                 "FIXED_LINE", "FIXED_LINE_OR_MOBILE", "VOIP", "UAN"}
    missing = sorted(c for c in produced if c not in N.REASONS)
    assert missing == []
    for code, (zh, en) in N.REASONS.items():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", code) and zh and en


# --------------------------------------------------------------------------- pre-normalization

@pytest.mark.parametrize("raw, expected", [
    (None, None), ("", None), ("   ", None), ("\u200b", None), ("#N/A", None), ("#VALUE!", None),
    ("#REF!", None), ("#div/0!", None), ("'", None),
    ("  a   b  ", "a b"), ("１３８ ００１３ ８０００", "138 0013 8000"), ("ａｂｃ＠ｑｑ．ｃｏｍ", "abc@qq.com"),
    ("'13800138000", "13800138000"), ('="0123"', "0123"), ("张\u200b三", "张三"), ("a\tb\nc", "a b c"),
    ("\x00x\x07", "x"), ("（+86）", "(+86)"),
])
def test_prenormalize(raw, expected):
    assert N.prenormalize(raw) == expected


def test_prenormalize_tolerates_non_strings():
    assert N.prenormalize(float("nan")) is None
    assert N.prenormalize(13800138000.0) == "13800138000.0"
    assert N.prenormalize(42) == "42"


@pytest.mark.parametrize("raw", ["无", "暂无", "没有", "空", "未知", "不详", "未填", "待补充", "同上", "null", "NULL",
                                 "None", "nan", "NaN", "N/A", "n/a", "NA", "-", "--", "—", "/", "\\", "?", "test",
                                 "TEST", "测试", "xxx", "XXX", "...", "？"])
def test_text_placeholders(raw):
    check(N.normalize_text(raw), None, "placeholder", "PLACEHOLDER")


def test_text():
    check(N.normalize_text("  南山 科技园店 "), "南山 科技园店", "valid")
    check(N.normalize_text(None), None, "missing", "MISSING")
    r = N.normalize_text("张*")
    assert (r.status, r.extra) == ("masked", {"masked_key": "张*"})
    check(N.normalize_text("x" * 10_000), "x" * 10_000, "valid_with_warning", "TEXT_TOO_LONG")
    check(N.NORMALIZERS["nickname"]("微信用户"), None, "placeholder", "PLACEHOLDER")
    check(N.NORMALIZERS["nickname"]("小鱼儿🐟"), "小鱼儿🐟", "valid")


# --------------------------------------------------------------------------- mobile (4.3)

def test_mobile_anchor_vectors():
    check(N.normalize_mobile("+86 138-0013-8000"), None, "placeholder", "MOBILE_DUMMY")
    r = N.normalize_mobile("008615512345678")
    check(r, "15512345678", "valid")
    assert r.extra["carrier"] == "china_unicom" and r.extra["e164"] == "+8615512345678"
    check(N.normalize_mobile("15412345678"), "15412345678", "valid_with_warning", "MOBILE_PREFIX_UNKNOWN")
    check(N.normalize_mobile("1440123456789"), None, "invalid", "MOBILE_IOT")
    r = N.normalize_mobile("138****1234")
    check(r, None, "masked", "MASKED")
    assert r.extra["masked_key"] == "138****1234"


def test_mobile_spreadsheet_repairs():
    r = N.normalize_mobile("13912345678.0")
    check(r, "13912345678", "valid", "SPREADSHEET_REPAIRED")
    assert r.extra["repaired"] == "FLOAT"
    r = N.normalize_mobile("1.39123456E+10")
    check(r, "13912345600", "valid", "SPREADSHEET_REPAIRED")
    assert r.extra["repaired"] == "SCIENTIFIC"
    r = N.normalize_mobile("1.38001380E+10")  # repaired, and then it is the well-known dummy
    check(r, None, "placeholder", "MOBILE_DUMMY")
    assert r.extra["repaired"] == "SCIENTIFIC"
    check(N.normalize_mobile("1.38E+10"), None, "invalid", "MOBILE_PRECISION_LOSS")
    check(N.normalize_mobile(13912345678.0), "13912345678", "valid", "SPREADSHEET_REPAIRED")


@pytest.mark.parametrize("raw", ["13912345670", "+8613912345670", "+86 139 1234 5670", "(+86)13912345670",
                                 "0086 139-1234-5670", "86 13912345670", "013912345670", "17951 13912345670",
                                 "1791113912345670", "12593-13912345670", "139.1234.5670", "（+86）139 1234 5670",
                                 "'13912345670", "１３９１２３４５６７０"])
def test_mobile_prefix_and_separator_forms(raw):
    r = N.normalize_mobile(raw)
    check(r, "13912345670", "valid")
    assert r.extra == {"e164": "+8613912345670", "carrier": "china_mobile", "mvno": False, "data_card": False,
                       "ext": None, "masked_key": None, "repaired": None}


@pytest.mark.parametrize("raw, carrier", [
    ("13412345670", "china_mobile"), ("13492345670", "china_telecom"), ("15012345670", "china_mobile"),
    ("13012345670", "china_unicom"), ("16612345670", "china_unicom"), ("19212345670", "china_broadnet"),
    ("17400123456", "china_telecom"), ("19912345670", "china_telecom"), ("18812345670", "china_mobile"),
])
def test_mobile_carriers(raw, carrier):
    r = N.normalize_mobile(raw)
    assert (r.status, r.extra["carrier"], r.extra["mvno"]) == ("valid", carrier, False)


@pytest.mark.parametrize("raw, carrier", [("17001234567", "china_telecom"), ("17031234567", "china_mobile"),
                                          ("17041234567", "china_unicom"), ("16212345670", "china_telecom"),
                                          ("16512345670", "china_mobile"), ("17112345670", "china_unicom")])
def test_mobile_mvno(raw, carrier):
    r = N.normalize_mobile(raw)
    check(r, raw, "valid", "MOBILE_MVNO")
    assert r.extra["mvno"] is True and r.extra["carrier"] == carrier


@pytest.mark.parametrize("raw", ["14512345670", "14712345670", "14912345670"])
def test_mobile_data_cards(raw):
    r = N.normalize_mobile(raw)
    check(r, raw, "valid_with_warning", "DATA_CARD")
    assert r.extra["data_card"] is True


@pytest.mark.parametrize("raw", ["17491234567", "17406123456", "17412123456"])
def test_mobile_satellite_and_emergency(raw):
    check(N.normalize_mobile(raw), None, "invalid", "MOBILE_SATELLITE")


@pytest.mark.parametrize("raw", ["15412345670", "17431234567", "17912345670", "19412345670", "16012345670"])
def test_mobile_unassigned_prefixes_warn(raw):
    check(N.normalize_mobile(raw), raw, "valid_with_warning", "MOBILE_PREFIX_UNKNOWN")


@pytest.mark.parametrize("raw", ["1440123456789", "1441012345678", "1480012345678", "1460012345678", "1410012345678"])
def test_mobile_iot(raw):
    check(N.normalize_mobile(raw), None, "invalid", "MOBILE_IOT")


@pytest.mark.parametrize("raw", ["13800138000", "13888888888", "12345678901", "00000000000", "11111111111",
                                 "13900000000", "13512345678 9"[:0] + "13123456789", "15987654321", "18600000000"])
def test_mobile_dummies(raw):
    r = N.normalize_mobile(raw)
    assert (r.value, r.status, r.reason) == (None, "placeholder", "MOBILE_DUMMY")


def test_mobile_eight_digit_run_is_not_a_dummy():
    # the anchors' own valid vector 155 1234 5678 has an 8-digit run: only 9-digit runs count
    assert N.normalize_mobile("15512345678").status == "valid"


@pytest.mark.parametrize("raw, ext", [("13912345670-1234", "1234"), ("13912345670转8001", "8001"),
                                      ("13912345670#123", "123"), ("13912345670 ext. 12", "12"),
                                      ("+86 139 1234 5670 转 5", "5")])
def test_mobile_extension_is_a_virtual_number(raw, ext):
    r = N.normalize_mobile(raw)
    check(r, "13912345670", "valid_with_warning", "VIRTUAL_OR_RELAY")
    # an extension outweighs an unknown block or a data card: the number is no one's own
    check(N.normalize_mobile("14812345678转88"), "14812345678", "valid_with_warning", "VIRTUAL_OR_RELAY")
    assert r.extra["ext"] == ext


@pytest.mark.parametrize("raw, status, reason", [
    ("1391234567", "invalid", "MOBILE_LENGTH"), ("139123456701", "invalid", "MOBILE_LENGTH"),
    ("12012345670", "invalid", "MOBILE_FORMAT"), ("abcdefghijk", "invalid", "MOBILE_FORMAT"),
    ("010-62345678", "invalid", "LANDLINE_IN_MOBILE"), ("62345678", "invalid", "LANDLINE_IN_MOBILE"),
    ("0", "placeholder", "PLACEHOLDER"), ("无", "placeholder", "PLACEHOLDER"), ("", "missing", "MISSING"),
    ("#N/A", "missing", "MISSING"),
])
def test_mobile_invalid(raw, status, reason):
    r = N.normalize_mobile(raw)
    assert (r.value, r.status, r.reason) == (None, status, reason)


def test_mobile_multiple_and_foreign():
    r = N.normalize_mobile("13912345670 / 13698765432")
    check(r, "13912345670", "valid_with_warning", "MULTIPLE_VALUES")
    check(N.normalize_mobile("+852 6123 4567"), "+85261234567", "valid_with_warning", "MOBILE_FOREIGN")


# --------------------------------------------------------------------------- landline (4.4)

@pytest.mark.parametrize("raw, value, area", [
    ("010-62345678", "010-62345678", "010"), ("(010)62345678", "010-62345678", "010"),
    ("0755 8765 4321", "0755-87654321", "0755"), ("+86 10 62345678", "010-62345678", "010"),
    ("02087654321", "020-87654321", "020"), ("0086-21-62345678", "021-62345678", "021"),
    ("0571-88776655", "0571-88776655", "0571"), ("010-12345678", "010-12345678", "010"),
])
def test_landline_valid(raw, value, area):
    r = N.normalize_landline(raw)
    check(r, value, "valid")
    assert r.extra["area_code"] == area and r.extra["e164"] == "+86" + value.replace("-", "")[1:]


def test_landline_extension_and_repairs():
    r = N.normalize_landline("0755-87654321-8001")
    check(r, "0755-87654321", "valid")
    assert r.extra["ext"] == "8001"
    assert N.normalize_landline("010 62345678 转 123").extra["ext"] == "123"
    r = N.normalize_landline("75587654321.0")  # float lost the trunk 0
    check(r, "0755-87654321", "valid", "SPREADSHEET_REPAIRED")


@pytest.mark.parametrize("raw, value, status, reason", [
    ("62345678", "62345678", "valid_with_warning", "NO_AREA_CODE"),
    ("4008001234", "4008001234", "valid_with_warning", "SERVICE_NUMBER"),
    ("800-810-1234", "8008101234", "valid_with_warning", "SERVICE_NUMBER"),
    ("95588", "95588", "valid_with_warning", "SERVICE_NUMBER"),
    ("10086", "10086", "valid_with_warning", "SERVICE_NUMBER"),
    ("13912345670", "13912345670", "valid_with_warning", "MOBILE_IN_LANDLINE"),
    ("010-1234567", None, "invalid", "INVALID_LANDLINE"),
    ("0755-1234", None, "invalid", "INVALID_LANDLINE"),
    ("电话", None, "invalid", "INVALID_LANDLINE"),
    ("010-88888888", None, "placeholder", "LANDLINE_DUMMY"),
    ("0755****4321", None, "masked", "MASKED"),
])
def test_landline_other(raw, value, status, reason):
    check(N.normalize_landline(raw), value, status, reason)


# --------------------------------------------------------------------------- resident ID (4.6)

@pytest.mark.parametrize("raw, birth, sex, province", [
    ("11010519491231002X", "1949-12-31", "2", "北京市"),
    ("360426199101010071", "1991-01-01", "1", "江西省"),
    ("11010119900307803X", "1990-03-07", "1", "北京市"),
    ("440308199901101512", "1999-01-10", "1", "广东省"),
])
def test_id_valid_vectors(raw, birth, sex, province):
    r = N.normalize_id_card(raw, today=TODAY)
    check(r, raw, "valid")
    assert (r.extra["birth_date"], r.extra["sex"], r.extra["province"]) == (birth, sex, province)
    assert r.extra["region_code"] == raw[:6] and r.extra["upgraded_from_15"] is False and r.extra["permit"] is None


def test_id_details():
    r = N.normalize_id_card("11010519491231002x", today=TODAY)
    check(r, "11010519491231002X", "valid")
    assert r.extra == {"birth_date": "1949-12-31", "sex": "2", "age": 75, "is_minor": False, "region_code": "110105",
                       "province": "北京市", "city": "北京市", "district": "朝阳区", "upgraded_from_15": False,
                       "permit": None}
    assert N.normalize_id_card("110105 1949 1231 002X", today=TODAY).value == "11010519491231002X"
    assert N.normalize_id_card("440308199901101512", today=TODAY).extra["district"] == "盐田区"


def test_id_1880_vector_passes_the_checksum_but_the_age_warns():
    r = N.normalize_id_card("440524188001010014", today=TODAY)
    check(r, "440524188001010014", "valid_with_warning", "ID_AGE_IMPLAUSIBLE")
    assert r.extra["birth_date"] == "1880-01-01" and r.extra["province"] == "广东省"


def test_id_invalid():
    check(N.normalize_id_card("110101199001011234", today=TODAY), None, "invalid", "ID_CHECKSUM")
    body = "11010120250230001"
    check(N.normalize_id_card(body + N.id_check_char(body), today=TODAY), None, "invalid", "ID_BAD_DATE")
    body = "11010120300101001"  # born in the future
    check(N.normalize_id_card(body + N.id_check_char(body), today=TODAY), None, "invalid", "ID_BAD_DATE")
    check(N.normalize_id_card("1101051949123100", today=TODAY), None, "invalid", "ID_FORMAT")
    check(N.normalize_id_card("11010519491231002Y", today=TODAY), None, "invalid", "ID_FORMAT")


@pytest.mark.parametrize("raw", ["1.10105E+17", "1.10105194912310E+17", "110105194912310000",
                                 "110105194912310000.0"])
def test_id_precision_loss(raw):
    check(N.normalize_id_card(raw, today=TODAY), None, "invalid", "ID_PRECISION_LOSS")


def test_id_upgrade_from_15():
    r = N.normalize_id_card("610104620927690", today=TODAY)
    check(r, "610104196209276908", "valid_with_warning", "ID_UPGRADED_15")
    assert r.extra["upgraded_from_15"] is True and r.extra["birth_date"] == "1962-09-27" and r.extra["sex"] == "2"


@pytest.mark.parametrize("raw, permit, province", [("810000199408230021", "HK", "香港特别行政区"),
                                                   ("830000199201300022", "TW", "台湾省")])
def test_id_residence_permits(raw, permit, province):
    r = N.normalize_id_card(raw, today=TODAY)
    check(r, raw, "valid", "ID_PERMIT")
    assert (r.extra["permit"], r.extra["province"]) == (permit, province)


def test_id_macau_permit_and_region_warning():
    body = "82000019950101002"
    r = N.normalize_id_card(body + N.id_check_char(body), today=TODAY)
    assert (r.status, r.extra["permit"]) == ("valid", "MO")
    body = "99010119900101001"  # province code 99 does not exist ... but 9 marks a foreigner permanent residence ID
    assert N.normalize_id_card(body + N.id_check_char(body), today=TODAY).extra["permit"] == "FOREIGN"
    body = "77010119900101001"
    check(N.normalize_id_card(body + N.id_check_char(body), today=TODAY),
          body + N.id_check_char(body), "valid_with_warning", "ID_REGION_UNKNOWN")


def test_id_minor_flag():
    body = "44030520150101002"
    r = N.normalize_id_card(body + N.id_check_char(body), today=TODAY)
    assert (r.extra["age"], r.extra["is_minor"]) == (10, True)
    body = "44030520110601002"  # 14th birthday today: no longer under 14
    assert N.normalize_id_card(body + N.id_check_char(body), today=TODAY).extra["is_minor"] is False


def test_id_masked_and_dummy():
    r = N.normalize_id_card("110105********002X")
    check(r, None, "masked", "MASKED")
    assert r.extra["masked_key"] == "110105********002X"
    for dummy in ("111111111111111111", "123456789012345678"):
        assert N.normalize_id_card(dummy).status == "placeholder"


def test_id_check_char_matches_the_weighted_sum():
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for body in ("11010519491231002", "61010419620927690", "00000000000000000", "99999999999999999"):
        assert N.id_check_char(body) == "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


# --------------------------------------------------------------------------- email (4.5)

def test_email():
    r = N.normalize_email("Zhang.San@QQ.COM")
    check(r, "Zhang.San@qq.com", "valid")
    assert r.extra["match_key"] == "zhang.san@qq.com" and r.extra["suggestion"] is None
    check(N.normalize_email("１２３４５６７８＠ｑｑ．ｃｏｍ"), "12345678@qq.com", "valid")
    check(N.normalize_email("abc @ 163.com"), "abc@163.com", "valid", "EMAIL_REPAIRED")


@pytest.mark.parametrize("raw, suggestion", [
    ("abc@qq.con", "abc@qq.com"), ("abc@qq.cm", "abc@qq.com"), ("abc@qq.co", "abc@qq.com"),
    ("abc@163.con", "abc@163.com"), ("abc@126.con", "abc@126.com"), ("abc@sina.con", "abc@sina.com"),
    ("abc@foxmial.com", "abc@foxmail.com"), ("abc@gmial.com", "abc@gmail.com"), ("abc@hotmial.com", "abc@hotmail.com"),
])
def test_email_typo_is_suggested_not_applied(raw, suggestion):
    r = N.normalize_email(raw)
    check(r, raw, "valid_with_warning", "EMAIL_TYPO_SUGGESTED")
    assert r.extra["suggestion"] == suggestion


@pytest.mark.parametrize("raw", ["test@test.com", "a@a.com", "123@qq.com", "xxx@xxx.com", "none@company.cn",
                                 "noemail@163.com", "TEST@TEST.COM", "someone@example.com"])
def test_email_placeholders(raw):
    check(N.normalize_email(raw), None, "placeholder", "EMAIL_PLACEHOLDER")


def test_email_invalid_and_masked():
    check(N.normalize_email("abc"), None, "invalid", "EMAIL_INVALID")
    check(N.normalize_email("a..b@qq.com"), None, "invalid", "EMAIL_INVALID")
    r = N.normalize_email("abc@qqcom")
    assert (r.status, r.extra["suggestion"]) == ("invalid", "abc@qq.com")
    r = N.normalize_email("z***@qq.com")
    assert (r.status, r.extra["masked_key"]) == ("masked", "z***@qq.com")
    check(N.normalize_email("a@qq.com; b@163.com"), "a@qq.com", "valid_with_warning", "MULTIPLE_VALUES")


# --------------------------------------------------------------------------- names (4.7)

@pytest.mark.parametrize("raw, family, given, pinyin, initials", [
    ("欧阳娜娜", "欧阳", "娜娜", "ouyangnana", "oynn"),
    ("司马光", "司马", "光", "simaguang", "smg"),
    ("诸葛亮", "诸葛", "亮", "zhugeliang", "zgl"),
    ("上官婉儿", "上官", "婉儿", "shangguanwaner", "sgwe"),
    ("曾小明", "曾", "小明", "zengxiaoming", "zxm"),
    ("单雄信", "单", "雄信", "shanxiongxin", "sxx"),
    ("解缙", "解", "缙", "xiejin", "xj"),
    ("区志强", "区", "志强", "ouzhiqiang", "ozq"),
    ("查良镛", "查", "良镛", "zhaliangyong", "zly"),
    ("朴树", "朴", "树", "piaoshu", "ps"),
    ("仇英", "仇", "英", "qiuying", "qy"),
    ("张伟", "张", "伟", "zhangwei", "zw"),
    ("吕布", "吕", "布", "lvbu", "lb"),
    ("尉迟恭", "尉迟", "恭", "yuchigong", "ycg"),
])
def test_han_names(raw, family, given, pinyin, initials):
    r = N.normalize_name(raw)
    check(r, raw, "valid")
    e = r.extra
    assert (e["family_name"], e["given_name"], e["pinyin"], e["pinyin_initials"], e["script"]) == \
        (family, given, pinyin, initials, "han")
    family_py = N.normalize_family_name(family).extra["pinyin"]
    assert pinyin.startswith(family_py)
    assert e["pinyin_given_first"] == pinyin[len(family_py):] + family_py


def test_name_cleaning():
    r = N.normalize_name(" 张  伟 ")
    check(r, "张伟", "valid")
    assert r.extra["pinyin"] == "zhangwei"
    for dotted in ("迪丽热巴•迪力木拉提", "迪丽热巴・迪力木拉提", "迪丽热巴.迪力木拉提", "迪丽热巴 · 迪力木拉提"):
        r = N.normalize_name(dotted)
        check(r, "迪丽热巴·迪力木拉提", "valid")
        assert r.extra["family_name"] is None and r.extra["pinyin"] == "dilirebadilimulati"


def test_name_traditional_simplified_for_comparison_only():
    r = N.normalize_name("歐陽娜娜")
    check(r, "歐陽娜娜", "valid")
    assert (r.extra["simplified"], r.extra["family_name"], r.extra["pinyin"]) == ("欧阳娜娜", "歐陽", "ouyangnana")


@pytest.mark.parametrize("raw", ["Zhang Wei", "Wei Zhang", "ZHANG wei", "wei ZHANG", "zhang-wei", "Zhāng Wěi"])
def test_latin_names(raw):
    r = N.normalize_name(raw)
    assert r.status == "valid"
    assert (r.extra["pinyin"], r.extra["pinyin_given_first"], r.extra["pinyin_initials"], r.extra["script"]) == \
        ("zhangwei", "weizhang", "zw", "latin")
    assert r.extra["family_name"].lower() == "zhang"


def test_latin_names_more():
    r = N.normalize_name("Wang Xiaoming")
    assert (r.extra["pinyin"], r.extra["pinyin_initials"]) == ("wangxiaoming", "wxm")
    r = N.normalize_name("John Smith")  # no known surname: order as given
    assert (r.extra["pinyin"], r.extra["pinyin_given_first"], r.extra["family_name"]) == \
        ("johnsmith", "smithjohn", None)
    r = N.normalize_name("Ouyang Nana")
    assert r.extra["pinyin"] == "ouyangnana" and r.extra["pinyin_initials"] == "oynn"
    r = N.normalize_name("Mr. Zhang Wei")
    assert (r.value, r.extra["salutation"], r.extra["salutation_gender"]) == ("Zhang Wei", "Mr.", "1")


def test_name_salutations():
    r = N.normalize_name("王先生")
    check(r, "王", "valid_with_warning", "NAME_SURNAME_ONLY")
    assert (r.extra["salutation"], r.extra["salutation_gender"], r.extra["family_name"]) == ("先生", "1", "王")
    r = N.normalize_name("张伟先生")
    check(r, "张伟", "valid")
    assert r.extra["salutation"] == "先生"
    r = N.normalize_name("欧阳女士")
    check(r, "欧阳", "valid_with_warning", "NAME_SURNAME_ONLY")
    assert r.extra["pinyin"] == "ouyang" and r.extra["salutation_gender"] == "2"
    check(N.normalize_name("李总"), "李", "valid_with_warning", "NAME_SURNAME_ONLY")


@pytest.mark.parametrize("raw", ["先生", "女士", "小姐", "顾客", "客户", "会员", "匿名", "用户", "测试", "微信用户",
                                 "无", "N/A", "-"])
def test_name_placeholders(raw):
    check(N.normalize_name(raw), None, "placeholder", "PLACEHOLDER")


def test_name_warnings_and_masks():
    r = N.normalize_name("张伟123")
    check(r, "张伟123", "valid_with_warning", "SUSPICIOUS_NAME")
    assert r.extra["family_name"] == "张" and r.extra["pinyin"] == "zhangwei"
    check(N.normalize_name("李美😊"), "李美😊", "valid_with_warning", "SUSPICIOUS_NAME")
    check(N.normalize_name("深圳某某科技有限公司"), "深圳某某科技有限公司", "valid_with_warning", "NAME_ORGANIZATION")
    check(N.normalize_name("王"), "王", "valid_with_warning", "NAME_SURNAME_ONLY")
    for masked in ("张*", "欧阳**", "张*丰"):
        r = N.normalize_name(masked)
        assert (r.status, r.extra["masked_key"]) == ("masked", masked)


@pytest.mark.parametrize("raw, name, pinyin", [
    ("A.雷丽华-美妆", "雷丽华", "leilihua"), ("A李彬德", "李彬德", "libinde"), ("AA-王芳|保险", "王芳", "wangfang"),
    ("0张敏~", "张敏", "zhangmin"), ("A-徐波~", "徐波", "xubo"), ("杨晶 VIP", "杨晶", "yangjing"),
    ("王芳（店长）", "王芳", "wangfang"), ("AA歐陽娜娜-保险", "歐陽娜娜", "ouyangnana"), ("Amy王芳", "王芳", "wangfang"),
    ("王秀英15205211683", "王秀英", "wangxiuying"), ("陈文林 +86 18852989305", "陈文林", "chenwenlin"),
])
def test_a_name_dressed_for_a_contact_list_keeps_the_name(raw, name, pinyin):
    r = N.normalize_name(raw)
    check(r, name, "valid_with_warning", "NAME_DECORATED")
    assert r.extra["pinyin"] == pinyin and r.extra["family_name"] == name[:len(name) - 2 if len(name) == 4 else 1]


@pytest.mark.parametrize("raw", ["✨努力的小蜗牛", "🐱向日葵", "时光~", "A王芳美妆", "阿卜杜·热合曼", "艾力-买买提", "Anna",
                                 "王芳", "王芳/李娜", "张伟、李娜", "华为-官方", "A区张伟", "Ms 王芳", "王芳(女)",
                                 "张伟123", "王芳1520521168"])
def test_a_nickname_two_names_a_brand_or_a_salutation_is_not_taken_for_a_dressed_name(raw):
    assert N.normalize_name(raw).reason != "NAME_DECORATED"


def test_a_salutation_before_a_name_still_says_its_sex():
    assert N.normalize_name("Ms 王芳").extra["salutation_gender"] == "2"


@pytest.mark.parametrize("raw", ["💕淡然", "小确幸679", "淡然244", "✨努力的小蜗牛", "小美😊"])
def test_a_nickname_in_the_name_column_is_no_name(raw):
    check(N.normalize_name(raw), None, "invalid", "NAME_NICKNAME")


def test_a_digit_typed_after_a_rare_surname_keeps_the_name():
    check(N.normalize_name("仉芳2"), "仉芳2", "valid_with_warning", "SUSPICIOUS_NAME")


@pytest.mark.parametrize("raw", ["用户1825435316", "微信用户123", "User 8899", "抖音用户_20931"])
def test_a_platforms_default_account_name_is_a_placeholder(raw):
    check(N.normalize_name(raw), None, "placeholder", "PLACEHOLDER")


def test_a_dressed_salutation_stays_a_surname():
    r = N.normalize_name("A-王先生-保险")
    check(r, "王", "valid_with_warning", "NAME_SURNAME_ONLY")


def test_family_and_given_name_fields():
    r = N.normalize_family_name("曾")
    check(r, "曾", "valid")
    assert r.extra["pinyin"] == "zeng"
    assert N.normalize_family_name("欧阳").extra["pinyin"] == "ouyang"
    assert N.normalize_family_name("Zhang").status == "valid"
    r = N.normalize_given_name("小 明")
    check(r, "小明", "valid")
    assert r.extra["pinyin"] == "xiaoming"


# --------------------------------------------------------------------------- gender (4.8)

@pytest.mark.parametrize("raw, code", [
    ("男", "1"), ("男性", "1"), ("男士", "1"), ("M", "1"), ("m", "1"), ("Male", "1"), ("MALE", "1"), ("1", "1"),
    ("1.0", "1"), ("女", "2"), ("女性", "2"), ("F", "2"), ("female", "2"), ("2", "2"), ("2.0", "2"),
    ("未知", "0"), ("不详", "0"), ("保密", "0"), ("U", "0"), ("Unknown", "0"),
    ("未说明", "9"), ("其他", "9"), ("不愿透露", "9"), ("N/A", "9"), ("９", "9"), (" 男 ", "1"), ("Ｍ", "1"),
])
def test_gender_codes(raw, code):
    check(N.normalize_gender(raw), code, "valid")


@pytest.mark.parametrize("raw, code", [("先生", "1"), ("女士", "2"), ("小姐", "2"), ("张先生", "1"), ("Mrs", "2")])
def test_gender_from_salutation(raw, code):
    check(N.normalize_gender(raw), code, "valid_with_warning", "GENDER_FROM_SALUTATION")


def test_gender_zero_is_source_specific():
    check(N.normalize_gender("0"), "0", "valid")
    check(N.normalize_gender("0", zero_means="female"), "2", "valid")
    check(N.normalize_gender("0", zero_means="male"), "1", "valid")
    check(N.normalize_gender("0.0", zero_means="female"), "2", "valid")
    check(N.normalize_gender("1", zero_means="female"), "1", "valid")
    with pytest.raises(ValueError):
        N.normalize_gender("0", zero_means="nobody")


def test_gender_other():
    check(N.normalize_gender(None), None, "missing", "MISSING")
    check(N.normalize_gender("-"), None, "placeholder", "PLACEHOLDER")
    check(N.normalize_gender("3"), None, "invalid", "GENDER_INVALID")
    check(N.normalize_gender("abc"), None, "invalid", "GENDER_INVALID")


# --------------------------------------------------------------------------- dates

@pytest.mark.parametrize("raw", ["1990-01-02", "1990/1/2", "1990/01/02", "19900102", "1990年1月2日", "1990年01月02号",
                                 "1990.01.02", "1990-1-2", "32875", "32875.0", "1990-01-02 00:00:00",
                                 "1990-01-02T00:00:00", "1990/1/2 0:00", "02-Jan-1990", "Jan 2, 1990", "2 January 1990",
                                 "１９９０－０１－０２", "'1990-01-02"])
def test_date_forms(raw):
    r = N.normalize_date(raw, today=TODAY)
    assert r.value == "1990-01-02" and r.status == "valid", r


def test_date_excel_serial_is_marked_repaired():
    r = N.normalize_date("32875", today=TODAY)
    assert (r.reason, r.extra) == ("SPREADSHEET_REPAIRED", {"repaired": "EXCEL_SERIAL"})
    assert N.normalize_date("32875", excel_serial=False, today=TODAY).status == "invalid"


def test_date_us_eu_forms():
    r = N.normalize_date("01/02/1990", today=TODAY)  # month-first for '/'
    check(r, "1990-01-02", "valid_with_warning", "DATE_AMBIGUOUS")
    assert r.extra == {"alternative": "1990-02-01"}
    check(N.normalize_date("02.01.1990", today=TODAY), "1990-01-02", "valid_with_warning", "DATE_AMBIGUOUS")
    check(N.normalize_date("13/02/1990", today=TODAY), "1990-02-13", "valid")  # day > 12: unambiguous
    check(N.normalize_date("02/13/1990", today=TODAY), "1990-02-13", "valid")
    check(N.normalize_date("05/05/1990", today=TODAY), "1990-05-05", "valid")


def test_date_partial():
    r = N.normalize_date("01-02", today=TODAY)
    check(r, None, "valid_with_warning", "DATE_NO_YEAR")
    assert r.extra == {"month": 1, "day": 2, "month_day": "01-02"}
    assert N.normalize_date("1月2日", today=TODAY).extra["month_day"] == "01-02"
    r = N.normalize_date("1990-05", today=TODAY)
    check(r, None, "valid_with_warning", "DATE_NO_DAY")
    assert r.extra == {"year": 1990, "month": 5}
    r = N.normalize_date("1990年", today=TODAY)
    check(r, None, "valid_with_warning", "DATE_YEAR_ONLY")


@pytest.mark.parametrize("raw, status, reason", [
    ("2030-01-01", "invalid", "DATE_OUT_OF_RANGE"), ("1899-05-05", "invalid", "DATE_OUT_OF_RANGE"),
    ("1990-02-30", "invalid", "DATE_INVALID"), ("1990-13-01", "invalid", "DATE_INVALID"),
    ("02/30/1990", "invalid", "DATE_INVALID"), ("生日", "invalid", "DATE_FORMAT"),
    ("1900-01-01", "placeholder", "DATE_PLACEHOLDER"), ("0000-00-00", "placeholder", "PLACEHOLDER"),
    ("无", "placeholder", "PLACEHOLDER"), ("#N/A", "missing", "MISSING"),
])
def test_date_invalid(raw, status, reason):
    check(N.normalize_date(raw, today=TODAY), None, status, reason)


def test_date_default_suspect():
    check(N.normalize_date("1970-01-01", today=TODAY), "1970-01-01", "valid_with_warning", "DATE_SUSPECT_DEFAULT")


# --------------------------------------------------------------------------- timestamps

NOW = datetime(2025, 6, 1, 12, 0, 0)


@pytest.mark.parametrize("raw, value", [
    ("2020-01-02 03:04:05", "2020-01-02 03:04:05"), ("2020/1/2 3:04:05", "2020-01-02 03:04:05"),
    ("2020-01-02T03:04:05", "2020-01-02 03:04:05"), ("2020-01-02T03:04:05.123", "2020-01-02 03:04:05"),
    ("2020-01-02T03:04:05Z", "2020-01-02 11:04:05"), ("2020-01-02T03:04:05+08:00", "2020-01-02 03:04:05"),
    ("2020-01-02 03:04:05 +0000", "2020-01-02 11:04:05"), ("2020/1/2 下午 3:04", "2020-01-02 15:04:00"),
    ("2020年1月2日 15时04分05秒", "2020-01-02 15:04:05"), ("20200102030405", "2020-01-02 03:04:05"),
    ("2020-01-02 3:04 PM", "2020-01-02 15:04:00"), ("43832.5", "2020-01-02 12:00:00"),
])
def test_timestamps(raw, value):
    r = N.normalize_timestamp(raw, now=NOW)
    assert (r.value, r.status) == (value, "valid"), r


def test_timestamp_epochs_are_china_time():
    r = N.normalize_timestamp("1577836800", now=NOW)
    check(r, "2020-01-01 08:00:00", "valid", "TIMESTAMP_FROM_EPOCH")
    assert N.normalize_timestamp("1577836800000", now=NOW).value == "2020-01-01 08:00:00"


def test_timestamp_other():
    check(N.normalize_timestamp("2020-01-02", now=NOW), "2020-01-02 00:00:00", "valid_with_warning", "TIME_MISSING")
    check(N.normalize_timestamp("2026-01-01 00:00:00", now=NOW), None, "invalid", "DATE_OUT_OF_RANGE")
    check(N.normalize_timestamp("2020-02-30 00:00:00", now=NOW), None, "invalid", "DATE_INVALID")
    check(N.normalize_timestamp("2020-01-02 25:00:00", now=NOW), None, "invalid", "DATE_INVALID")
    check(N.normalize_timestamp("1970-01-01 08:00:00", now=NOW), None, "placeholder", "DATE_PLACEHOLDER")
    check(N.normalize_timestamp("昨天", now=NOW), None, "invalid", "DATE_FORMAT")
    check(N.normalize_timestamp("2020-01-02 03:04:05"), "2020-01-02 03:04:05", "valid")  # real clock


# --------------------------------------------------------------------------- addresses (4.9)

@pytest.mark.parametrize("raw, province, city, district, adcode", [
    ("北京朝阳区建国路88号", "北京市", "北京市", "朝阳区", "110105"),
    ("北京市朝阳区建国路88号", "北京市", "北京市", "朝阳区", "110105"),
    ("广西南宁市青秀区民族大道1号", "广西壮族自治区", "南宁市", "青秀区", "450103"),
    ("深圳南山区科技园", "广东省", "深圳市", "南山区", "440305"),
    ("广东省深圳市福田区深南大道", "广东省", "深圳市", "福田区", "440304"),
    ("南京市鼓楼区中山路1号", "江苏省", "南京市", "鼓楼区", "320106"),
    ("福建福州鼓楼区", "福建省", "福州市", "鼓楼区", "350102"),
    ("上海浦东新区张江路", "上海市", "上海市", "浦东新区", "310115"),
    ("重庆渝中区解放碑", "重庆市", "重庆市", "渝中区", "500103"),
    ("天河区体育西路", "广东省", "广州市", "天河区", "440106"),
    ("江苏省昆山市前进路", "江苏省", "苏州市", "昆山市", "320583"),
    ("内蒙古呼和浩特市新城区", "内蒙古自治区", "呼和浩特市", "新城区", "150102"),
    ("收货地址：中国 广东省 广州市 越秀区 北京路1号", "广东省", "广州市", "越秀区", "440104"),
    ("湖北省仙桃市", "湖北省", "仙桃市", None, "429004"),
])
def test_address_parsing(raw, province, city, district, adcode):
    r = N.normalize_address(raw)
    assert r.status == "valid", r
    e = r.extra
    assert (e["province"], e["city"], e["district"], e["adcode"]) == (province, city, district, adcode)


def test_address_value_and_detail():
    r = N.normalize_address("北京市 朝阳区 建国路 88号")
    assert r.value == "北京市朝阳区建国路88号" and r.extra["detail"] == "建国路88号"
    r = N.normalize_address("上海市南京东路100号")  # 南京 inside a street name is not the city
    assert (r.status, r.extra["province"], r.extra["city"], r.extra["district"]) == ("valid", "上海市", "上海市", None)


def test_address_ambiguous_district():
    r = N.normalize_address("鼓楼区中山路1号")
    check(r, "鼓楼区中山路1号", "valid_with_warning", "AMBIGUOUS_DISTRICT")
    assert (r.extra["district"], r.extra["city"], r.extra["adcode"], r.extra["candidates"]) == ("鼓楼区", None, None, 4)


def test_address_warnings():
    check(N.normalize_address("中山路100号"), "中山路100号", "valid_with_warning", "ADDRESS_UNPARSED")
    check(N.normalize_address("江西路1号"), "江西路1号", "valid_with_warning", "ADDRESS_UNPARSED")
    r = N.normalize_address("广东省杭州市西湖区")
    check(r, "广东省杭州市西湖区", "valid_with_warning", "ADDRESS_INCONSISTENT")
    r = N.normalize_address("浙江省杭州市下城区")
    check(r, "浙江省杭州市下城区", "valid_with_warning", "OUTDATED_DIVISION")
    assert (r.extra["district"], r.extra["current_name"], r.extra["adcode"]) == ("下城区", "拱墅区", "330105")
    check(N.normalize_address("无"), None, "placeholder", "PLACEHOLDER")
    r = N.normalize_address("北京市朝阳区****")
    assert r.status == "masked" and r.value is None


@pytest.mark.parametrize("raw, value", [("北京", "北京市"), ("北京市", "北京市"), ("广西", "广西壮族自治区"),
                                        ("广西省", "广西壮族自治区"), ("内蒙古", "内蒙古自治区"), ("新疆", "新疆维吾尔自治区"),
                                        ("香港", "香港特别行政区"), ("Guangdong", "广东省"), ("黑龙江省", "黑龙江省")])
def test_province(raw, value):
    check(N.normalize_province(raw), value, "valid")


def test_province_city_district_unknown():
    check(N.normalize_province("火星"), None, "invalid", "PROVINCE_UNKNOWN")
    check(N.normalize_city("火星城"), "火星城", "valid_with_warning", "CITY_UNKNOWN")
    check(N.normalize_city("Suzhou"), "Suzhou", "valid_with_warning", "CITY_UNKNOWN")  # 苏州 or 宿州
    check(N.normalize_city("Paris"), "Paris", "valid_with_warning", "CITY_UNKNOWN")
    check(N.normalize_district("火星区"), "火星区", "valid_with_warning", "DISTRICT_UNKNOWN")


@pytest.mark.parametrize("raw, value, province", [("深圳", "深圳市", "广东省"), ("深圳市", "深圳市", "广东省"),
                                                  ("北京", "北京市", "北京市"), ("延边", "延边朝鲜族自治州", "吉林省"),
                                                  ("仙桃", "仙桃市", "湖北省"), ("Hangzhou", "杭州市", "浙江省"),
                                                  ("Xi'an", "西安市", "陕西省"), ("CHONGQING", "重庆市", "重庆市"),
                                                  ("Shenzhen City", "深圳市", "广东省")])
def test_city(raw, value, province):
    r = N.normalize_city(raw)
    check(r, value, "valid")
    assert r.extra["province"] == province


def test_city_county_level_and_district():
    r = N.normalize_city("昆山")
    check(r, "昆山市", "valid_with_warning", "CITY_COUNTY_LEVEL")
    assert r.extra["parent_city"] == "苏州市"
    r = N.normalize_district("福田区")
    check(r, "福田区", "valid")
    assert (r.extra["code"], r.extra["city"]) == ("440304", "深圳市")
    check(N.normalize_district("南山区"), "南山区", "valid_with_warning", "AMBIGUOUS_DISTRICT")  # 深圳, 鹤岗
    check(N.normalize_district("鼓楼区"), "鼓楼区", "valid_with_warning", "AMBIGUOUS_DISTRICT")
    check(N.normalize_district("浦东新区"), "浦东新区", "valid")
    check(N.normalize_district("下城区"), "下城区", "valid_with_warning", "OUTDATED_DIVISION")


@pytest.mark.parametrize("raw, province, city, district", [
    ("广东 深圳", "广东省", "深圳市", None), ("广东省深圳市南山区", "广东省", "深圳市", "南山区"),
    ("浙江-杭州-西湖区", "浙江省", "杭州市", "西湖区"), ("江苏/苏州", "江苏省", "苏州市", None),
    ("吉林 长春 朝阳区", "吉林省", "长春市", "朝阳区"),          # the city names which 朝阳区
    ("北京 北京市 朝阳区", "北京市", "北京市", "朝阳区"), ("上海 浦东新区", "上海市", "上海市", "浦东新区"),
    ("IP属地:广东", "广东省", None, None), ("所在地区：四川 成都", "四川省", "成都市", None),
])
def test_a_cell_of_several_division_levels_gives_each_column_its_own(raw, province, city, district):
    """A province, city or district column that holds a whole region (广东 深圳, as mini-programs and
    Douyin export it) or a label (IP属地:广东) keeps the level it names, with a warning."""
    for result, want in ((N.normalize_province(raw), province), (N.normalize_city(raw), city),
                         (N.normalize_district(raw), district)):
        if want is None:
            assert result.reason in ("PROVINCE_UNKNOWN", "CITY_UNKNOWN", "DISTRICT_UNKNOWN"), (raw, result)
        else:
            check(result, want, "valid_with_warning", "DIVISION_EXTRACTED")


@pytest.mark.parametrize("raw", ["广东 杭州", "广东:杭州", "浙江：深圳", "深圳 福田区 华强北", "备注:无", "朝阳区 长春", "广东深圳XX"])
def test_a_region_cell_with_anything_else_or_disagreeing_levels_is_not_taken_apart(raw):
    assert N.normalize_province(raw).reason == "PROVINCE_UNKNOWN"
    assert N.normalize_city(raw).reason == "CITY_UNKNOWN"
    assert N.normalize_district(raw).reason in ("DISTRICT_UNKNOWN", "AMBIGUOUS_DISTRICT")


@pytest.mark.parametrize("raw", ["深圳", "中山", "朝阳"])
def test_one_division_alone_names_no_other_level(raw):
    """深圳 in a province column: which province is not written (朝阳 may be Beijing's or Liaoning's)."""
    check(N.normalize_province(raw), None, "invalid", "PROVINCE_UNKNOWN")


def test_region_table_coverage():
    assert len(N._PROVINCES) == 34
    assert {c[:2] for c in N._PROVINCES} == {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
        "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"}
    assert len(N._CITIES) > 330 and len(N._DISTRICTS) > 2800


@pytest.mark.parametrize("raw, value, status, reason", [
    ("100000", "100000", "valid", None), ("518000", "518000", "valid", None), ("518000.0", "518000", "valid", None),
    ("10010", "010010", "valid_with_warning", "POSTCODE_ZERO_RESTORED"), ("5180", None, "invalid", "POSTCODE_INVALID"),
    ("51800a", None, "invalid", "POSTCODE_INVALID"), ("000000", None, "placeholder", "PLACEHOLDER"),
    ("999077", "999077", "valid", None), ("990000", "990000", "valid_with_warning", "POSTCODE_PREFIX_UNKNOWN"),
])
def test_postcode(raw, value, status, reason):
    check(N.normalize_postcode(raw), value, status, reason)


def test_postcode_province():
    assert N.normalize_postcode("518000").extra["province"] == "广东省"


# --------------------------------------------------------------------------- channel ids (4.10)

def test_channel_ids():
    open_id = "oAbCdEfGhIjKlMnOpQrStUvWxYz1"
    check(N.normalize_channel_id(f"  {open_id} ", "wechat_open_id"), open_id, "valid")
    check(N.normalize_channel_id(open_id.lower(), "wechat_open_id"), open_id.lower(), "valid")  # case kept
    check(N.normalize_channel_id("wx1234567890abcdef", "wechat_app_id"), "wx1234567890abcdef", "valid")
    check(N.normalize_channel_id("wx123", "wechat_app_id"), "wx123", "valid_with_warning", "CHANNEL_ID_UNUSUAL")
    check(N.normalize_channel_id("WX1234567890ABCDEF", "wechat_app_id"), "WX1234567890ABCDEF",
          "valid_with_warning", "CHANNEL_ID_UNUSUAL")
    check(N.normalize_channel_id("oAbC dEf", "wechat_union_id"), None, "invalid", "CHANNEL_ID_FORMAT")
    check(N.normalize_channel_id("0", "douyin"), None, "placeholder", "PLACEHOLDER")
    check(N.normalize_channel_id("undefined", "wechat_open_id"), None, "placeholder", "PLACEHOLDER")
    assert N.normalize_channel_id("oAbC****xY9z", "wechat_open_id").status == "masked"
    check(N.normalize_channel_id("tb_小鱼儿2020", "ecommerce"), "tb_小鱼儿2020", "valid")
    check(N.normalize_channel_id("000123", "member_card"), "000123", "valid")
    check(N.normalize_channel_id("123456.0", "member_card"), "123456", "valid", "SPREADSHEET_REPAIRED")
    check(N.normalize_channel_id("1.23457E+15", "member_card"), None, "invalid", "ID_PRECISION_LOSS")
    with pytest.raises(ValueError):
        N.normalize_channel_id("x", "myspace")
    check(N.NORMALIZERS["douyin_id"]("_000abcDEF-123"), "_000abcDEF-123", "valid")


# --------------------------------------------------------------------------- other ID numbers

@pytest.mark.parametrize("raw, value", [
    ("E12345678", "E12345678"), (" e 1234 5678 ", "E12345678"), ("078-05-1120", "078051120"),
    ("5304218", "5304218"), ("P.123.456.78", "P12345678"), ("H0123456789", "H0123456789"),
    ("ＥＡ１２３４５６７", "EA1234567"), ("AB-12-34-56", "AB123456"), ("K12345678X", "K12345678X"),
])
def test_other_id_valid(raw, value):
    check(N.normalize_other_id(raw), value, "valid")


@pytest.mark.parametrize("raw", ["无", "未知", "N/A", "-", "--", "0", "00", "null", "不详"])
def test_other_id_placeholders(raw):
    check(N.normalize_other_id(raw), None, "placeholder", "PLACEHOLDER")


@pytest.mark.parametrize("raw", ["0000000", "00000000000", "1111111", "999999999", "AAAAAA", "1234567", "123456789",
                                 "0123456789", "987654321"])
def test_other_id_dummies(raw):
    check(N.normalize_other_id(raw), None, "placeholder", "OTHER_ID_DUMMY")


@pytest.mark.parametrize("raw, status, reason", [
    ("1234", "invalid", "OTHER_ID_FORMAT"), ("护照E123456", "invalid", "OTHER_ID_FORMAT"),
    ("E123/456/78", "invalid", "OTHER_ID_FORMAT"), ("X" * 33 + "1", "invalid", "OTHER_ID_FORMAT"),
    ("1.23457E+11", "invalid", "ID_PRECISION_LOSS"),
])
def test_other_id_invalid(raw, status, reason):
    check(N.normalize_other_id(raw), None, status, reason)


def test_other_id_repairs_masks_and_resident_ids():
    check(N.normalize_other_id("5304218.0"), "5304218", "valid", "SPREADSHEET_REPAIRED")
    r = N.normalize_other_id("E1234****")
    assert (r.value, r.status, r.reason) == (None, "masked", "MASKED")
    # a mainland resident ID is kept (usable) but flagged: its column belongs to id_card
    check(N.normalize_other_id("11010519491231002x"), "11010519491231002X", "valid_with_warning", "OTHER_ID_IS_RESIDENT_ID")
    check(N.normalize_other_id("110105194912310021"), "110105194912310021", "valid")  # wrong check digit: no resident ID


# --------------------------------------------------------------------------- age bands

@pytest.mark.parametrize("raw, value, extra", [
    ("25-30岁", "25-30", {"age_min": 25, "age_max": 30}), ("18-24", "18-24", {"age_min": 18, "age_max": 24}),
    ("25~30", "25-30", None), ("25～30岁", "25-30", None), ("25－30周岁", "25-30", None), ("25至30岁", "25-30", None),
    ("25岁-30岁", "25-30", None), ("35 to 40 years old", "35-40", None), ("年龄段：25-30", "25-30", None),
    ("aged 25-30", "25-30", None), ("0-6岁", "0-6", None),
    # open above; 以上 and 及以上 include the number (Civil Code Art. 1259), so do + and ≥
    ("30岁以上", "30-", {"age_min": 30, "age_max": None}), ("30以上", "30-", None), ("60岁及以上", "60-", None),
    ("50+", "50-", None), ("≥30", "30-", None), ("30 and over", "30-", None), ("30-", "30-", None),
    ("over 30", "31-", None), (">30", "31-", None), ("大于30岁", "31-", None), ("超过30岁", "31-", None),
    # below: 0 to the bound; 以下 includes it, under / < / 未满 do not
    ("18岁以下", "0-18", {"age_min": 0, "age_max": 18}), ("18岁及以下", "0-18", None), ("≤18", "0-18", None),
    ("under 18", "0-17", None), ("<18", "0-17", None), ("未满18岁", "0-17", None), ("小于18", "0-17", None),
    # generations: birth years
    ("90后", "1990-1999", {"birth_min": 1990, "birth_max": 1999}), ("00后", "2000-2009", None),
    ("80後", "1980-1989", None), ("85后", "1985-1989", None), ("95后", "1995-1999", None), ("05后", "2005-2009", None),
    ("10后", "2010-2019", None), ("60后", "1960-1969", None), ("1990年代", "1990-1999", None),
    ("1990后", "1990-1999", None), ("90年代", "1990-1999", None), ("1990-1999", "1990-1999", None),
    ("1985~1989年", "1985-1989", None),
])
def test_age_bands(raw, value, extra):
    r = N.normalize_age_band(raw)
    check(r, value, "valid")
    assert extra is None or r.extra == extra
    assert N.normalize_age_band(value) == r  # the standardized value reads back the same


@pytest.mark.parametrize("raw", ["无", "未知", "保密", "其他", "-", "N/A", "0"])
def test_age_band_placeholders(raw):
    check(N.normalize_age_band(raw), None, "placeholder", "PLACEHOLDER")


@pytest.mark.parametrize("raw, reason", [
    ("中年", "AGE_BAND_FORMAT"), ("25-30岁之间", "AGE_BAND_FORMAT"), ("93后", "AGE_BAND_FORMAT"),
    ("2024-01", "AGE_BAND_FORMAT"), ("30-25", "AGE_BAND_RANGE"), ("150+", "AGE_BAND_RANGE"), ("25-130", "AGE_BAND_RANGE"),
    ("1880-1889", "AGE_BAND_RANGE"), ("2990后", "AGE_BAND_RANGE"), ("under 0", "AGE_BAND_RANGE"),
])
def test_age_band_invalid(raw, reason):
    check(N.normalize_age_band(raw), None, "invalid", reason)


def test_age_band_single_age_and_mask():
    check(N.normalize_age_band("25岁"), "25-25", "valid_with_warning", "AGE_BAND_SINGLE_AGE")
    check(N.normalize_age_band("25"), "25-25", "valid_with_warning", "AGE_BAND_SINGLE_AGE")
    assert N.normalize_age_band("2*岁").status == "masked"


@pytest.mark.parametrize("band, birth_years", [
    ("25-30", (1994, 2000)),      # 30 on a day of 2025: born 1994 (birthday still to come) to 1995
    ("18-24", (2000, 2007)),
    ("30-", (None, 1995)),        # 30 or older: born 1995 at the latest
    ("0-17", (2007, 2025)),       # under 18
    ("25-25", (1999, 2000)),      # a single age: two possible years
    ("1990-1999", (1990, 1999)),  # a generation is its own birth years, whenever it was recorded
])
def test_age_band_birth_years(band, birth_years):
    assert N.age_band_birth_years(band, 2025) == birth_years


def test_age_band_birth_years_follow_the_year_recorded():
    assert N.age_band_birth_years("25-30", 2020) == (1989, 1995)
    assert N.age_band_birth_years("1990-1999", 2020) == (1990, 1999)
    assert N.age_band_birth_years(None, 2025) == (None, None)


# --------------------------------------------------------------------------- booleans

@pytest.mark.parametrize("raw, value", [
    ("是", "true"), ("否", "false"), ("Y", "true"), ("n", "false"), ("yes", "true"), ("NO", "false"),
    ("true", "true"), ("FALSE", "false"), ("1", "true"), ("0", "false"), ("同意", "true"), ("不同意", "false"),
    ("已授权", "true"), ("未授权", "false"), ("1.0", "true"), (" 是 ", "true"),
])
def test_boolean(raw, value):
    check(N.normalize_boolean(raw), value, "valid")


def test_boolean_other():
    check(N.normalize_boolean("也许"), None, "invalid", "BOOLEAN_INVALID")
    check(N.normalize_boolean("未知"), None, "placeholder", "PLACEHOLDER")
    check(N.normalize_boolean(""), None, "missing", "MISSING")


# --------------------------------------------------------------------------- rules for every normalizer

@pytest.mark.parametrize("field", sorted(N.NORMALIZERS))
@pytest.mark.parametrize("raw", ["", "  ", "#N/A", "#VALUE!", "\u200b"])
def test_missing_everywhere(field, raw):
    assert N.NORMALIZERS[field](raw) == Result(None, "missing", "MISSING")


@pytest.mark.parametrize("field", sorted(N.NORMALIZERS))
def test_garbage_never_raises(field):
    fn = N.NORMALIZERS[field]
    for raw in ("\x00\x01\x02", "😀" * 50, "x" * 10_000, "１" * 5000, "\ud800", "<script>", "'", "=1+1",
                "-" * 300, "*", "13800138000" * 100, "©®™", "\u202e123"):
        r = fn(raw)
        assert r.status in N.STATUSES and r.reason != "NORMALIZER_ERROR", (field, raw, r)
        assert r.value is None or "*" not in r.value


@pytest.mark.parametrize("raw, family, title, sex", [("王哥", "王", "哥", "1"), ("李姐", "李", "姐", "2"),
                                                      ("王阿姨", "王", "阿姨", "2")])
def test_name_surname_and_title_imply_a_sex(raw, family, title, sex):
    r = N.normalize_name(raw)
    check(r, family, "valid_with_warning", "NAME_SURNAME_ONLY")
    assert (r.extra["family_name"], r.extra["salutation"], r.extra["salutation_gender"]) == (family, title, sex)


def test_name_with_an_uncommon_surname_warns():
    """微笑 is more often a nickname typed into the name field than a person's name."""
    r = N.normalize_name("微笑")
    check(r, "微笑", "valid_with_warning", "NAME_UNCOMMON_SURNAME")


@pytest.mark.parametrize("raw, simplified", [("楊一諾", "杨一诺"), ("諸葛亮", "诸葛亮")])
def test_name_traditional_script_of_a_known_surname_is_no_uncommon_surname(raw, simplified):
    r = N.normalize_name(raw)
    check(r, raw, "valid")
    assert r.extra["simplified"] == simplified
