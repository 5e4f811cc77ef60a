"""Property tests: every normalizer is total, pure and well-formed on arbitrary text."""
from __future__ import annotations

import json
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.standardize import normalizers as N
from governance.standardize.normalizers import Result

FIELDS = sorted(N.NORMALIZERS)
USABLE = ("valid", "valid_with_warning")
SETTINGS = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(SETTINGS, max_examples=200)

PHONE_LIKE = st.from_regex(r"\A(\+86|0086|86|\(\+86\)|0|17951)?[ -]?1[3-9]\d[ -]?\d{4}[ -]?\d{4}"
                           r"([-#转]\d{1,5}|\.0|\*{1,4})?\Z", fullmatch=True)
LANDLINE_LIKE = st.from_regex(r"\A(\+86 ?)?\(?0?\d{2,3}\)?[ -]?\d{7,8}(-\d{1,4})?\Z", fullmatch=True)
ID_LIKE = st.from_regex(r"\A\d{6}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dXx]\Z", fullmatch=True)
ID15_LIKE = st.from_regex(r"\A\d{15}(\.0)?\Z", fullmatch=True)
DATE_LIKE = st.from_regex(r"\A\d{1,4}[-/.年]\d{1,2}[-/.月]\d{1,4}日?( \d{1,2}:\d{2}(:\d{2})?)?\Z", fullmatch=True)
EMAIL_LIKE = st.from_regex(r"\A[A-Za-z0-9._%+\-]{1,20}@[A-Za-z0-9\-]{1,12}(\.[A-Za-z]{1,6}){1,2}\Z", fullmatch=True)
HAN_NAME = st.text(alphabet=st.sampled_from("王李张欧阳司马曾单伟娜小明·• 先生女士*1😀"), min_size=0, max_size=8)
ADDRESS_LIKE = st.lists(st.sampled_from(["北京", "北京市", "朝阳区", "鼓楼区", "广东省", "深圳", "南山区", "中山路", "88号",
                                         "上海市", "南京东路", "江西路", " ", "中国", "下城区", "仙桃市", "x"]),
                        max_size=6).map("".join)
AGE_LIKE = st.from_regex(r"\A(年龄段?[:：]?)?\d{1,3}(岁|周岁)?( ?[-~至到] ?\d{1,3}(岁|周岁)?| ?(以上|以下|及以上|\+))?\Z"
                         r"|\A\d{2,4}(后|後|年代)\Z", fullmatch=True)
OTHER_ID_LIKE = st.from_regex(r"\A[A-Za-z]{0,2}[ -]?\d{2,4}[ .-]?\d{2,6}(\.0)?\Z", fullmatch=True)
ANY_TEXT = st.one_of(st.none(), st.text(max_size=60), st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
                     PHONE_LIKE, ID_LIKE, DATE_LIKE)

TARGETED = {
    "mobile": st.one_of(PHONE_LIKE, ANY_TEXT), "landline": st.one_of(LANDLINE_LIKE, PHONE_LIKE),
    "id_card": st.one_of(ID_LIKE, ID15_LIKE), "birth_date": DATE_LIKE, "registered_at": DATE_LIKE,
    "email": EMAIL_LIKE, "name": HAN_NAME, "address": ADDRESS_LIKE, "district": ADDRESS_LIKE,
    "age_band": AGE_LIKE, "other_id": st.one_of(OTHER_ID_LIKE, ID_LIKE),
}


def assert_well_formed(result: Result) -> None:
    assert isinstance(result, Result)
    assert result.status in N.STATUSES
    assert result.reason != "NORMALIZER_ERROR", result
    assert result.reason is None or result.reason in N.REASONS, result.reason
    if result.status in USABLE:
        assert isinstance(result.value, str) and result.value
        assert "*" not in result.value
    else:
        assert result.value is None
    if result.extra is not None:
        assert isinstance(result.extra, dict)
        for k, v in result.extra.items():
            assert isinstance(k, str) and (v is None or isinstance(v, (str, int, bool)))
        json.dumps(result.extra, ensure_ascii=False)


@MANY
@given(raw=ANY_TEXT)
def test_any_text_is_handled_purely_by_every_normalizer(raw):
    for field in FIELDS:
        fn = N.NORMALIZERS[field]
        first = fn(raw)
        assert_well_formed(first)
        assert fn(raw) == first, field


@MANY
@given(field=st.sampled_from(sorted(TARGETED)), data=st.data())
def test_targeted_shapes(field, data):
    raw = data.draw(TARGETED[field])
    fn = N.NORMALIZERS[field]
    first = fn(raw)
    assert_well_formed(first)
    assert fn(raw) == first


IDEMPOTENT = ("mobile", "id_card", "birth_date", "registered_at", "gender", "marketing_consent", "province",
              "postcode", "landline", "email", "wechat_open_id", "member_card", "other_id", "age_band")


@MANY
@given(field=st.sampled_from(IDEMPOTENT), data=st.data())
def test_standardized_values_are_fixed_points(field, data):
    raw = data.draw(TARGETED.get(field, ANY_TEXT))
    fn = N.NORMALIZERS[field]
    first = fn(raw)
    if first.status in USABLE and first.reason not in ("MOBILE_IN_LANDLINE", "SERVICE_NUMBER", "NO_AREA_CODE"):
        again = fn(first.value)
        assert again.value == first.value, (raw, first, again)


@SETTINGS
@given(raw=st.one_of(ANY_TEXT, st.sampled_from(["0", "0.0", " 0 ", "1", "2", "男", "女"])),
       zero=st.sampled_from(["unknown", "female", "male"]))
def test_gender_zero_means(raw, zero):
    r = N.normalize_gender(raw, zero_means=zero)
    assert_well_formed(r)
    assert r.value in (None, "0", "1", "2", "9")


@SETTINGS
@given(raw=st.one_of(ID_LIKE, ID15_LIKE, ANY_TEXT), today=st.dates(min_value=date(2000, 1, 1)))
def test_id_card_fields(raw, today):
    r = N.normalize_id_card(raw, today=today)
    assert_well_formed(r)
    if r.status in USABLE:
        assert len(r.value) == 18 and r.value == r.value.upper()
        assert r.value[17] == N.id_check_char(r.value[:17])
        assert r.extra["sex"] in ("1", "2") and r.extra["birth_date"] <= today.isoformat()
        assert r.extra["is_minor"] == (r.extra["age"] < 14)


@SETTINGS
@given(digits=st.from_regex(r"\A1[3-9]\d{9}\Z", fullmatch=True),
       style=st.sampled_from(["{}", "+86{}", "+86 {} ", "0086-{}", "{}.0", "'{}", "86{}"]))
def test_mobile_forms_agree(digits, style):
    assert N.normalize_mobile(style.format(digits)).value == N.normalize_mobile(digits).value


@SETTINGS
@given(raw=ANY_TEXT, platform=st.sampled_from(["wechat_open_id", "wechat_union_id", "wechat_app_id", "douyin",
                                               "ecommerce", "member_card"]))
def test_channel_ids_keep_case_and_characters(raw, platform):
    r = N.normalize_channel_id(raw, platform)
    assert_well_formed(r)
    if r.status in USABLE and r.reason is None:
        assert " " not in r.value and r.value == N.prenormalize(raw)


@SETTINGS
@given(raw=ANY_TEXT)
def test_date_without_excel_serials(raw):
    r = N.normalize_date(raw, excel_serial=False)
    assert_well_formed(r)
    if r.status in USABLE:
        assert date.fromisoformat(r.value) <= date.today().replace(year=date.today().year + 1)
