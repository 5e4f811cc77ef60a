"""Mapping suggestions, versioned mapping per source, and the mapped_records contract."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from governance import pipeline
from governance.sources import ingest, mapping
from governance.sources.mapping import normalize_header
from governance.standardize import normalizers
from governance.standardize.normalizers import id_check_char
from governance.store.errors import MappingError


@pytest.mark.parametrize("header,field", [
    ("手机号", "mobile"), ("联系电话", "mobile"), ("Mobile Phone", "mobile"), ("TEL", "mobile"), ("收货手机", "mobile"),
    ("姓名", "name"), ("客户名称", "name"), ("Name", "name"), ("收货人姓名", "name"),
    ("身份证号码", "id_card"), ("ID Number", "id_card"), ("E-mail", "email"), ("生日", "birth_date"),
    ("openid", "wechat_open_id"), ("UnionID", "wechat_union_id"), ("appid", "wechat_app_id"), ("抖音号", "douyin_id"),
    ("买家会员名", "ecommerce_buyer_id"), ("会员卡号", "member_card"), ("Customer ID", "member_card"),
    ("注册时间", "registered_at"), ("Update Time", "updated_at"), ("Marketing Opt-in", "marketing_consent"),
    ("收货地址", "address"), ("邮编", "postcode"), ("门店", "store"), ("昵称", "nickname"), ("性别", "gender"),
    ("会员手机号码", "mobile"),
    # traditional characters (Hong Kong, Taiwan and Macau exports) read as their simplified form
    ("手機號碼", "mobile"), ("身份證號", "id_card"), ("電子郵箱", "email"), ("性別", "gender"), ("會員編號", "member_card"),
    ("收貨地址", "address"), ("顧客姓名", "name"),
])
def test_header_synonyms(header, field):
    [s] = mapping.suggest([header], [[]])
    assert s.field == field and s.confidence >= 0.5


@pytest.mark.parametrize("values,field", [
    (["13800138000", "+86 139-1234-5678", "155 1234 5678", "138****1234"], "mobile"),
    (["11010519491231002X", "440524188001010014", "610104620927690"], "id_card"),
    (["a@qq.com", "b.c@163.com", "x@gmail.com"], "email"),
    (["1990-01-02", "1990/1/2", "19900102", "1990年1月2日"], "birth_date"),
    (["男", "女", "男", "女"], "gender"),
    (["o" + "A" * 27, "o" + "b_-" * 9, "o" + "Z9" * 13 + "x"], "wechat_open_id"),
    (["wx1234567890abcdef", "wx1234567890abcdef", "wx1234567890abcdef"], "wechat_app_id"),
])
def test_content_detection(values, field):
    [s] = mapping.suggest(["col_x"], [values])
    assert (s.field, s.method) == (field, "content")
    assert 0.5 < s.confidence <= 0.9


def test_one_column_per_field_and_saved_mapping_wins():
    headers = ["手机", "联系电话", "备注"]
    samples = [["13800138000"] * 3, ["13912345678"] * 3, ["hello"] * 3]
    first = mapping.suggest(headers, samples)
    assert [s.field for s in first] == ["mobile", None, None]
    saved = {"手机": None, "联系电话": "mobile"}
    second = mapping.suggest(headers, samples, saved)
    assert [(s.field, s.method) for s in second] == [(None, "saved"), ("mobile", "saved"), (None, "none")]


def test_validate_rejects_unknown_and_repeated_fields():
    with pytest.raises(MappingError, match="Unknown standard field"):
        mapping.validate({"a": "phone_number"})
    with pytest.raises(MappingError, match="mapped twice"):
        mapping.validate({"a": "mobile", "b": "mobile"})


def csv_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_export_with_a_renamed_column_loads_into_its_source(db, tmp_path):
    """The source's export renamed 电话/客户 to 联系电话/客户姓名: the new headers map to the same fields
    (before, the kept old headers made "mapped twice" refuse the upload), and each batch reads its own."""
    old = csv_file(tmp_path, "a.csv", "电话,客户\n13800138000,张三\n")
    ingest.ingest_file(db, old, actor="alice", source="crm", mapping={"电话": "mobile", "客户": "name"})
    new = csv_file(tmp_path, "b.csv", "客户姓名,联系电话\n李四,13912345678\n")
    loaded = ingest.ingest_file(db, new, actor="alice", source="crm",
                                mapping={"客户姓名": "name", "联系电话": "mobile"})
    assert loaded.mapping_version == 2
    with db.cursor() as cur:
        assert cur.execute("SELECT name, mobile FROM mapped_records ORDER BY batch_id").fetchall() == [
            ("张三", "13800138000"), ("李四", "13912345678")]
    # one batch's own columns still map a field once
    both = csv_file(tmp_path, "c.csv", "电话,联系电话\n13800138000,13912345678\n")
    with pytest.raises(MappingError, match="mapped twice"):
        ingest.ingest_file(db, both, actor="alice", source="crm", mapping={"电话": "mobile", "联系电话": "mobile"})


def test_mapping_saved_per_source_reused_versioned_and_audited(db, tmp_path):
    first = csv_file(tmp_path, "a.csv", "电话,客户,备注\n13800138000,张三,x\n13912345678,李四,y\n")
    r1 = ingest.ingest_file(db, first, actor="alice", source="crm", mapping={"电话": "mobile", "客户": "name"})
    assert r1.mapping_version == 1
    # the next upload of that source reuses the saved mapping, and a new column gets a suggestion
    second = csv_file(tmp_path, "b.csv", "电话,客户,备注,邮箱\n13512345678,王五,z,w@qq.com\n")
    r2 = ingest.ingest_file(db, second, actor="alice", source="crm")
    assert r2.mapping == {"电话": "mobile", "客户": "name", "备注": None, "邮箱": "email"}
    assert r2.mapping_version == 2
    v3 = mapping.update(db, "bob", "crm", {"备注": "store"})
    with db.cursor() as cur:
        assert mapping.load(cur, "crm") == {"电话": "mobile", "客户": "name", "备注": "store", "邮箱": "email"}
        assert mapping.load(cur, "crm", version=1) == {"电话": "mobile", "客户": "name", "备注": None}
        events = cur.execute("SELECT actor, detail FROM audit_log WHERE action = 'mapping.change' ORDER BY id").fetchall()
        hist = mapping.history(cur, "crm")
    assert v3 == 3 and list(hist["version"]) == [3, 2, 1]
    assert events[-1][0] == "bob" and '"备注": {"from": null, "to": "store"}' in events[-1][1]
    assert mapping.update(db, "bob", "crm", {"备注": "store"}) == 3  # no change, no new version


def test_mapped_records_view_is_the_contract(db, tmp_path):
    a = csv_file(tmp_path, "a.csv", "手机,姓名,备注\n13800138000,张三,老客户\n")
    b = csv_file(tmp_path, "b.csv", "Mobile,Name\n13912345678,Li Si\n")
    ingest.ingest_file(db, a, actor="t", source="pos")
    ingest.ingest_file(db, b, actor="t", source="crm")
    with db.cursor() as cur:
        rows = cur.execute("SELECT source, row_number, mobile, name, email, extras FROM mapped_records ORDER BY source").fetchall()
    assert rows == [("crm", 1, "13912345678", "Li Si", None, None),
                    ("pos", 1, "13800138000", "张三", None, {"备注": "老客户"})]
    mapping.update(db, "t", "pos", {"备注": "store"})
    with db.cursor() as cur:
        assert cur.execute("SELECT store, extras FROM mapped_records WHERE source = 'pos'").fetchone() == ("老客户", None)


def test_cursor_per_thread_under_concurrency(db, tmp_path):
    path = csv_file(tmp_path, "a.csv", "手机,姓名\n13800138000,张三\n")
    errors = []

    def work(i: int) -> None:
        try:
            if i % 2:
                ingest.ingest_file(db, path, actor="t", source=f"s{i}")
            for _ in range(20):
                with db.cursor() as cur:
                    cur.execute("SELECT count(*) FROM mapped_records").fetchone()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM batches").fetchone()[0] == 4


def test_content_breaks_ties_between_similar_headers():
    """Tmall exports have 联系电话 (mostly landlines) and 联系手机 (mobiles)."""
    headers = ["联系电话", "联系手机", "下单时间"]
    samples = [["0311-46055700", "010-12345678", "0755 12345678"], ["15339833943", "13695385398", "189****2941"],
               ["2024-01-02 10:00:00"] * 3]
    assert [s.field for s in mapping.suggest(headers, samples)] == ["landline", "mobile", "event_time"]


# ---- content, not only shape -----------------------------------------------------------------

def resident_id(region: str, birth: str, seq: int) -> str:
    """A number with a correct GB 11643 check digit; region and birth date as given, valid or not."""
    body = f"{region}{birth}{seq:03d}"
    return body + id_check_char(body)


VALID_IDS = [resident_id(r, b, i) for i, (r, b) in enumerate(
    [("110105", "19491231"), ("440305", "19880215"), ("310101", "19750630"), ("330106", "20010101"),
     ("510104", "19920909"), ("420102", "19660420")])] + ["610104620927690"]  # a 15-digit legacy number
# order numbers, some with a resident ID's shape (region, date, sequence): the check digit gives them away
ORDER_NUMBERS = ["201912150012345678", "202301011234567890", "202311111111111111", "231018093011520386",
                 "100000000000000001", "987651234509876543", "440305202401150012", "320106202403150123"]


@pytest.mark.parametrize("values", [
    ORDER_NUMBERS,
    [resident_id("110105", d, i) for i, d in enumerate(["20241301", "19900230", "00000000", "19991332"])],  # no such day
    [resident_id(r, "19900101", i) for i, r in enumerate(["720101", "770101", "880101", "000101"])],  # no such province
    [v[:17] + ("0" if v[17] != "0" else "1") for v in VALID_IDS[:6]],  # a wrong check digit
], ids=["order-numbers", "bad-birth-date", "unknown-region", "bad-check-digit"])
def test_id_card_by_content_needs_gb11643(values):
    [s] = mapping.suggest(["col_x"], [values])
    assert s.field is None


@pytest.mark.parametrize("header", ["col_x", "备注", "证件号码", "证件号", "ID Number", "national id"])
def test_valid_resident_ids_map_to_id_card_under_a_neutral_or_loose_header(header):
    [s] = mapping.suggest([header], [VALID_IDS])
    assert s.field == "id_card" and s.confidence >= 0.9


@pytest.mark.parametrize("header", ["订单号", "订单编号", "子订单编号", "工单号", "交易号", "交易单号", "流水号", "快递单号",
                                    "order_id", "Order No", "order number", "ticket_id", "Ticket No",
                                    "transaction id", "TXN_ID", "tracking number", "invoice no"])
@pytest.mark.parametrize("values", [[], VALID_IDS, ["13912345678", "13512345678", "13612345678"]],
                         ids=["no-sample", "resident-ids", "mobiles"])
def test_order_ticket_and_transaction_numbers_are_never_a_person_field(header, values):
    """An order or transaction number is an event's (order_id) when its header names one; a ticket,
    tracking or invoice number takes nothing. Never a person field, whatever its values look like."""
    [s] = mapping.suggest([header], [values])
    names_an_order = normalize_header(header) in {"订单号", "订单编号", "子订单编号", "交易号", "交易单号", "流水号",
                                                  "orderid", "orderno", "ordernumber", "transactionid"}
    assert s.field == ("order_id" if names_an_order else None)


def test_a_loose_id_header_needs_resident_ids():
    [s] = mapping.suggest(["ID Number"], [ORDER_NUMBERS])
    assert s.field is None


@pytest.mark.parametrize("header,values", [
    ("national id", ["5304218", "4066625", "4365168", "9239102"]),  # Febrl soc_sec_id
    ("证件号码", ["E12345678", "G87654321", "P1234567", "H0123456"]),  # passports and permits
    ("证件号", ["E12345678", "G87654321", "P1234567", "H0123456"]),
    ("客户证件号码", ["E12345678", "G87654321", "P1234567", "H0123456"]),
    ("soc_sec_id", ["5304218", "4066625", "4365168"]), ("SSN", ["078-05-1120", "219-09-9999", "457-55-5462"]),
    ("passport", ["E12345678", "G87654321", "P1234567"]), ("护照号", ["E12345678", "E98765432", "G87654321"]),
    ("Passport No.", []), ("护照号码", []), ("其他证件号", []), ("social security number", []), ("台胞证", []),
])
def test_other_identity_documents_map_to_other_id(header, values):
    """A passport, social-security or foreign national-ID column is other_id, and so is a loose 证件号 /
    national ID column whose values are other ID numbers, not resident IDs."""
    [s] = mapping.suggest([header], [values])
    assert s.field == "other_id" and s.confidence >= 0.5


def test_a_febrl_like_file_maps_soc_sec_id_to_other_id():
    got = mapping.suggest(["given_name", "surname", "soc_sec_id"],
                          [["michaela", "courtney", "charles"], ["neumann", "painter", "green"],
                           ["1234567", "5304218", "4066625"]])
    assert [s.field for s in got] == ["given_name", "family_name", "other_id"]


@pytest.mark.parametrize("header", ["证件号码", "证件号", "national id"])
def test_a_document_header_of_resident_ids_stays_id_card(header):
    [s] = mapping.suggest([header], [VALID_IDS[:6]])
    assert s.field == "id_card"


@pytest.mark.parametrize("header", ["ID Number", "idno", "备注"])
def test_only_document_headers_fall_back_to_other_id(header):
    """ID number may be any record's number: passports under it stay unmapped, as do plain codes."""
    [s] = mapping.suggest([header], [["E12345678", "G87654321", "P1234567", "H0123456"]])
    assert s.field is None


@pytest.mark.parametrize("header", ["passport_expiry", "护照有效期", "身份证有效期", "护照签发地", "证件类型", "business_no",
                                    "classno"])
def test_other_attributes_of_a_document_are_no_id_number(header):
    [s] = mapping.suggest([header], [[]])
    assert s.field is None


@pytest.mark.parametrize("header", ["年龄段", "年龄区间", "客户年龄段", "age band", "age_range", "Age Group", "AGE-BRACKET"])
def test_age_band_headers(header):
    [s] = mapping.suggest([header], [["25-30岁", "18-24", "30岁以上"]])
    assert s.field == "age_band" and s.confidence >= 0.5


@pytest.mark.parametrize("values", [["25-30岁", "18-24岁", "30岁以上", "18岁以下"], ["90后", "00后", "80後", "85后"],
                                    ["25~30岁", "50+", "60岁及以上", "under 18"]])
def test_age_bands_by_content(values):
    [s] = mapping.suggest(["col_x"], [values])
    assert (s.field, s.method) == ("age_band", "content")


@pytest.mark.parametrize("values", [["9-18", "10-22", "9-21", "8-20"], ["36-38", "39-41", "42-44"], ["25", "31", "47"]],
                         ids=["opening-hours", "sizes", "numbers"])
def test_number_ranges_without_an_age_mark_are_no_age_band_by_content(values):
    [s] = mapping.suggest(["col_x"], [values])
    assert s.field is None


@pytest.mark.parametrize("header", ["称呼", "客户称呼", "尊称", "联系人", "联系人称呼", "Salutation"])
def test_salutation_headers_map_to_name(header):
    [s] = mapping.suggest([header], [[]])
    assert s.field == "name" and s.confidence >= 0.5


@pytest.mark.parametrize("values", [
    ["王先生", "李女士", "张总", "欧阳经理", "赵小姐"],
    ["王先生", "张伟", "李女士", "刘洋", "陈老师"],  # names mixed with salutations
])
def test_salutation_content_maps_to_name(values):
    [s] = mapping.suggest(["col_x"], [values])
    assert (s.field, s.method) == ("name", "content")


def test_a_salutation_column_yields_to_a_full_name_and_bare_salutations_are_gender():
    assert [s.field for s in mapping.suggest(["称呼", "姓名"], [["王先生", "李女士", "张总"], ["王伟", "李娜", "张伟"]])] \
        == [None, "name"]
    assert mapping.suggest(["称呼"], [["先生", "女士", "先生", "女士"]])[0].field == "gender"
    # a shop list is not a name column, though 南 and 东 are surnames
    assert mapping.suggest(["col_x"], [["南山店", "东门店", "万象城店", "海岸城店"]])[0].field is None


REGIONS = ["广东省 深圳市", "广东省深圳市南山区", "浙江省 杭州市", "北京市 朝阳区", "江苏省苏州市"]


@pytest.mark.parametrize("header", ["所在地区", "地区", "省市区", "Region", "所在城市", "省份", "col_x"])
@pytest.mark.parametrize("values", [REGIONS, ["广东省 深圳市", "深圳市", "杭州", "浙江省 杭州市", "北京市 朝阳区", "南京市鼓楼区"]],
                         ids=["regions", "mixed-levels"])
def test_a_region_column_maps_to_address(header, values):
    [s] = mapping.suggest([header], [values])
    assert s.field == "address"


@pytest.mark.parametrize("header,values,field", [
    ("地区", ["深圳市", "杭州", "广州市", "成都"], "city"),
    ("所在城市", ["深圳", "杭州市", "苏州"], "city"),
    ("col_x", ["广东", "浙江省", "江苏省", "四川"], "province"),
    ("城市", ["北京", "上海", "深圳"], "city"),  # municipalities are cities too
    ("地区", ["南山区", "西湖区", "天河区", "武侯区"], "district"),
    ("所在城市", ["南山区", "西湖区", "天河区", "武侯区"], "district"),
    ("城市", ["深圳", "朝阳", "成都", "海淀", "浦东", "Shenzhen", "武汉"], "city"),  # WeChat: districts of municipalities
])
def test_single_divisions_map_to_their_level(header, values, field):
    [s] = mapping.suggest([header], [values])
    assert s.field == field


@pytest.mark.parametrize("header,values", [
    ("地区", ["华南区", "华东区", "华北区"]), ("区域", ["A区", "B区", "C区"]), ("地区编码", ["440305", "330106", "110105"]),
    ("Region", ["APAC", "EMEA", "LATAM"]),
])
def test_a_loose_region_header_needs_divisions(header, values):
    [s] = mapping.suggest([header], [values])
    assert s.field is None


def test_a_street_address_wins_address_over_a_region():
    headers = ["所在地区", "收货地址"]
    samples = [REGIONS[:3], ["广东省深圳市南山区科技园路1号", "浙江省杭州市西湖区文三路2号", "北京市朝阳区建国路3号"]]
    assert [s.field for s in mapping.suggest(headers, samples)] == [None, "address"]


@pytest.mark.parametrize("header,field", [
    ("given_name", "given_name"), ("first_name", "given_name"), ("First Name", "given_name"), ("forename", "given_name"),
    ("surname", "family_name"), ("last_name", "family_name"), ("family_name", "family_name"),
    ("state", "province"), ("date_of_birth", "birth_date"), ("dob", "birth_date"), ("DOB", "birth_date"),
    ("postcode", "postcode"), ("zip", "postcode"), ("ZIP Code", "postcode"),
    ("street", "address"), ("address_1", "address"), ("address", "address"), ("Address Line 1", "address"),
    ("suburb", "city"), ("locality", "city"), ("city", "city"), ("town", "city"),
    ("soc_sec_id", "other_id"), ("ssn", "other_id"), ("passport", "other_id"), ("street_number", None), ("rec_id", None),
    ("收货人编号", None), ("城市编码", None),
])
def test_latin_person_headers(header, field):
    [s] = mapping.suggest([header], [[]])
    assert s.field == field


FEBRL = [  # febrl4a, the first rows
    ["rec-1070-org", "michaela", "neumann", "8", "stanley street", "miami", "winston hills", "4223", "nsw", "19151111", "5304218"],
    ["rec-1016-org", "courtney", "painter", "12", "pinkerton circuit", "bega flats", "richlands", "4560", "vic", "19161214", "4066625"],
    ["rec-4405-org", "charles", "green", "38", "salkauskas crescent", "kela", "dapto", "4566", "nsw", "19480930", "4365168"],
    ["rec-1288-org", "vanessa", "parr", "905", "macquoid place", "broadbridge manor", "south grafton", "2135", "sa", "19951119", "9239102"],
]
FEBRL_HEADERS = ["rec_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state",
                 "date_of_birth", "soc_sec_id"]


def test_febrl_maps_what_the_schema_holds():
    got = {s.header: s.field for s in mapping.suggest(FEBRL_HEADERS, [list(c) for c in zip(*FEBRL)])}
    assert got == {"rec_id": None, "given_name": "given_name", "surname": "family_name", "street_number": None,
                   "address_1": "address", "address_2": None, "suburb": "city", "postcode": "postcode", "state": "province",
                   "date_of_birth": "birth_date", "soc_sec_id": "other_id"}


def test_salutations_regions_and_latin_data_standardize_without_losing_values(db, tmp_path):
    """The auto-mapped columns through standardization: the salutation is split off the name, the region
    is parsed into the address's derived columns, and a foreign state or postcode is invalid (so not
    used) while its raw value stays in mapped_records."""
    cn = csv_file(tmp_path, "cn.csv", "客户称呼,手机号,所在地区,订单号\n王先生,13912345678,广东省 深圳市,201912150012345678\n"
                  "李女士,13512345678,广东省深圳市南山区,202301011234567890\n张总,13612345678,浙江省 杭州市,202311111111111111\n")
    en = csv_file(tmp_path, "en.csv", ",".join(FEBRL_HEADERS) + "\n" + "\n".join(",".join(r) for r in FEBRL) + "\n")
    assert pipeline.load_file(db, "t", cn, source="cn").ingested.mapping == {
        "客户称呼": "name", "手机号": "mobile", "所在地区": "address", "订单号": "order_id"}
    pipeline.load_file(db, "t", en, source="en")
    with db.cursor() as cur:
        cn_rows = cur.execute("SELECT name, name_status, name_salutation, address_status, addr_province, addr_city, "
                              "addr_district, addr_adcode, id_card FROM std_records WHERE source = 'cn' ORDER BY row_number").fetchall()
        en_rows = cur.execute("SELECT given_name, given_name_status, family_name, province, province_status, city, "
                              "postcode_status, birth_date FROM std_records WHERE source = 'en' ORDER BY row_number").fetchall()
        raw = cur.execute("SELECT province, postcode FROM mapped_records WHERE source = 'en' ORDER BY row_number").fetchall()
    assert cn_rows == [("王", "valid_with_warning", "先生", "valid", "广东省", "深圳市", None, "440300", None),
                       ("李", "valid_with_warning", "女士", "valid", "广东省", "深圳市", "南山区", "440305", None),
                       ("张", "valid_with_warning", "总", "valid", "浙江省", "杭州市", None, "330100", None)]
    assert en_rows[0] == ("michaela", "valid", "neumann", None, "invalid", "winston hills", "invalid", "1915-11-11")
    assert raw == [(r[8], r[7]) for r in FEBRL]


def test_other_ids_and_age_bands_standardize_with_the_birth_years_they_imply(db, tmp_path):
    """Auto-mapped 护照号 and 年龄段 columns through standardization and into the golden records: an age
    range gives birth years relative to the year its batch was uploaded (China time), a generation its own."""
    path = csv_file(tmp_path, "p.csv", "姓名,手机号,护照号,年龄段\n张三,13912345678,e 1234 5678,25-30岁\n"
                    "李四,13512345678,G87654321,90后\n王五,13612345678,无,30岁以上\n赵六,13712345678,1234567,18岁以下\n"
                    "钱七,13812345678,11010519491231002X,保密\n")
    loaded = pipeline.load_file(db, "t", path, source="travel")
    assert loaded.ingested.mapping == {"姓名": "name", "手机号": "mobile", "护照号": "other_id", "年龄段": "age_band"}
    with db.cursor() as cur:
        year = cur.execute("SELECT year(uploaded_at + INTERVAL 8 HOUR) FROM batches WHERE source = 'travel'").fetchone()[0]
        rows = cur.execute("SELECT other_id, other_id_status, other_id_reason, age_band, age_band_status, age_birth_min, "
                           "age_birth_max FROM std_records WHERE source = 'travel' ORDER BY row_number").fetchall()
        raw = cur.execute("SELECT other_id, age_band FROM mapped_records ORDER BY row_number LIMIT 1").fetchone()
    assert raw == ("e 1234 5678", "25-30岁")
    assert rows == [
        ("E12345678", "valid", None, "25-30", "valid", year - 31, year - 25),
        ("G87654321", "valid", None, "1990-1999", "valid", 1990, 1999),
        (None, "placeholder", "PLACEHOLDER", "30-", "valid", None, year - 30),
        (None, "placeholder", "OTHER_ID_DUMMY", "0-18", "valid", year - 19, year),
        ("11010519491231002X", "valid_with_warning", "OTHER_ID_IS_RESIDENT_ID", None, "placeholder", None, None)]
    assert [normalizers.age_band_birth_years(r[3], year) for r in rows] == [r[5:] for r in rows]  # SQL = Python
    pipeline.resolve(db, "t", use_model=False)
    with db.cursor() as cur:
        golden = cur.execute("SELECT other_id, age_band FROM golden_records ORDER BY mobile").fetchall()
    assert golden == [("G87654321", "1990-1999"), (None, "30-"), (None, "0-18"), ("11010519491231002X", None),
                      ("E12345678", "25-30")]


# ---- a header yields to the field its values fit -------------------------------------------------

def test_a_tmall_contact_phone_of_landlines_yields_mobile_to_the_receivers_mobile():
    """Tmall: 联系电话 (trailing space) is mostly "-" with a few landlines; 收货人手机 holds mobiles, some
    with Excel's leading quote. Dashes are no sample, and the quote is no part of the number."""
    headers = ["订单编号", "联系电话 ", "收货人手机", "收货人姓名"]
    samples = [[str(1001 + i) for i in range(8)],
               ["-", "-", "0755-88063887", "-", "010-62345678", "-", "021-54321876", "-"],
               ["'13812115790", "13912345678", "'15039833943", "13695385398", "18912342941", "13512345678",
                "'13712345678", "15912345678"],
               ["王伟", "李娜", "张伟", "刘洋", "陈静", "王芳", "赵敏", "孙丽"]]
    got = mapping.suggest(headers, samples)
    assert [s.field for s in got] == ["order_id", "landline", "mobile", "name"]
    assert got[2].confidence > 0.95  # the header and the quoted values agree


def test_an_age_column_is_an_age_band():
    [s] = mapping.suggest(["年龄"], [["70后", "30岁以下", "31-40"]])
    assert s.field == "age_band" and s.confidence >= 0.5


def test_a_mobile_header_keeps_its_field_when_the_values_fit_no_other():
    """Content overrules a header only when the values fit another field: a 手机 column of junk text
    stays mobile (its values are then reported invalid, not silently unmapped)."""
    [s] = mapping.suggest(["手机"], [["不知道", "见备注", "hello", "abc", "客户拒绝提供", "13812345678"]])
    assert (s.field, s.method) == ("mobile", "synonym")


PHONES = ["13912345678", "13512345678", "13612345678", "18612345678"]


@pytest.mark.parametrize("header,values", [
    ("客服姓名", []), ("导购手机", PHONES), ("销售顾问电话", PHONES), ("推荐人昵称", []), ("主播昵称", []),
    ("Agent Email", ["a@qq.com", "b@163.com", "c@x.com"]), ("Contact Owner", []), ("Employer Name", []),
    ("Account Name", []), ("号码归属地", ["广东省 深圳市", "浙江省 杭州市", "北京市"]), ("紧急联系人电话", PHONES),
    ("卖家备注等级", []),
])
def test_another_partys_column_takes_no_person_field(header, values):
    """An agent's, a salesperson's, a referrer's, an influencer's or a company's data is not the customer's."""
    assert mapping.suggest([header], [values])[0].field is None


@pytest.mark.parametrize("header,field", [("企业微信昵称", "nickname"), ("收货人手机", "mobile"), ("门店名称", "store"),
                                          ("客户经理", None)])
def test_the_customers_own_columns_still_map(header, field):
    assert mapping.suggest([header], [[]])[0].field == field


@pytest.mark.parametrize("header", ["会员卡余额", "门店折扣金额", "店铺优惠(元)", "可用余额", "Total Spent", "储值余额"])
def test_money_is_no_person_field_and_a_balance_no_purchase(header):
    assert mapping.suggest([header], [["100.00", "2.50", "30.00"]])[0].field is None


@pytest.mark.parametrize("headers,expected", [
    (["订单创建时间"], ["event_time"]),                        # an order's time, not a registration
    (["订单创建时间", "订单付款时间"], [None, "event_time"]),      # the column naming the order's time outright wins
    (["工单创建时间", "物流更新时间"], [None, None]),              # a ticket's, a delivery's: nobody's
    (["订单号", "创建时间", "更新时间"], ["order_id", "event_time", None]),   # a file of orders
    (["工单编号", "创建时间"], [None, None]),                    # a file of tickets
    (["客户编号", "创建时间", "更新时间"], ["member_card", "registered_at", "updated_at"]),  # a file of customers
    (["入会日期", "subscribe_time"], ["registered_at", None]),
    (["成为会员时间"], ["registered_at"]), (["Created Date"], ["registered_at"]),
])
def test_times_belong_to_what_the_file_or_header_is_about(headers, expected):
    assert [s.field for s in mapping.suggest(headers, [[] for _ in headers])] == expected


def test_the_header_tells_which_of_two_same_shaped_ids():
    ids = ["o" + c * 27 for c in "ABCD"]
    assert mapping.suggest(["客户UnionID"], [ids])[0].field == "wechat_union_id"
    assert mapping.suggest(["用户OpenID"], [ids])[0].field == "wechat_open_id"
    assert mapping.suggest(["col_x"], [ids])[0].field == "wechat_open_id"


def test_a_salutation_of_titles_alone_is_no_name():
    assert mapping.suggest(["Salutation"], [["Mr", "Ms.", "Mrs", "Mr."]])[0].field == "gender"
    assert mapping.suggest(["Salutation", "Last Name"], [["Mr", "Ms.", "Mrs", "Dr."], ["Smith", "Lee", "Wu", "Li"]])[0].field \
        is None
    assert mapping.suggest(["称呼"], [["王先生", "李女士", "张总"]])[0].field == "name"


def test_landlines_written_with_the_country_code_are_no_mobiles():
    landlines = ["+86 755 8888 1234", "+86 10 6552 9988", "+86 21 5050 1234", "+86 571 8765 4321"]
    assert [s.field for s in mapping.suggest(["Phone Number", "Mobile Phone Number"], [landlines, PHONES])] == [
        "landline", "mobile"]


@pytest.mark.parametrize("header,field", [
    ("Shipping Address City", "city"), ("Billing Address Zip", "postcode"), ("收货地址省份", "province"),
    ("Default Address Address1", "address"), ("邮箱地址", "email"), ("下单帐号", "ecommerce_buyer_id"), ("会员名称", "name"),
    ("Accepts Email Marketing", "marketing_consent"),
])
def test_compound_and_variant_headers(header, field):
    assert mapping.suggest([header], [[]])[0].field == field


@pytest.mark.parametrize("values,field", [
    (["晴天🐱", "Coco酱✨", "小仙女🌸", "Sunny846", "阿狸😊", "半夏"], "nickname"),   # a WeCom contact list's names
    (["王伟", "李娜", "张敏", "刘洋", "小仙女🌸"], "name"),                            # a nickname here and there
    (["柠檬", "简单", "知足常乐", "爱吃鱼的月亮", "丽丽", "刘凯", "Amy_1"], "nickname"),  # display names, no symbols
    (["Zhang Wei", "Amy", "LI NA", "王芳", "柠檬"], "name"),                          # Latin names count as names
    (["欧阳娜娜", "阿依古丽·买买提", "司马懿", "诸葛亮", "王伟"], "name"),
    (["甲", "乙", "丙", "丁", "柠檬"], "name"),                                       # single characters tell nothing
])
def test_a_name_column_of_nicknames_is_a_nickname_column(values, field):
    assert mapping.suggest(["客户名称"], [values])[0].field == field


def test_a_wecom_contact_list_maps_its_display_name_remark_name_and_contact_id():
    """备注名 (the name a shop gave the contact) is the name when 客户名称 holds display names, and
    is left alone beside a column of real names; 外部联系人ID and a lead's 用户ID are the source's ids."""
    headers = ["客户名称", "备注名", "外部联系人ID", "用户ID"]
    remarks = ["刘凯", "何姐", "徐博-济南IFS店", "王秀英15205211683", "李丽"]
    ids = ["wmIfT6es3QFF5uxsut6XOA41K54EmIzG", "wmitW0U2dn7WZUE8LXzNG0qeiPNDj9cF", "wmPGKrmTU9NMsxipnf-vK6t3lRXGJKvx"]
    display = mapping.suggest(headers, [["柠檬", "简单", "知足常乐", "Cindy_74", "微信用户"], remarks, ids, []])
    assert [s.field for s in display] == ["nickname", "name", "member_card", None]  # one member_card column
    real = mapping.suggest(["客户名称", "备注名"], [["王伟", "李娜", "张敏", "刘洋"], remarks])
    assert [s.field for s in real] == ["name", None]
    assert mapping.suggest(["用户ID"], [["3652180879", "89abd01de186d01afe5d2861"]])[0].field == "member_card"


def test_a_column_of_latin_salutations_is_a_name_by_content():
    assert mapping.suggest(["Contact"], [["Mr Smith", "Ms Wang", "Mrs Li", "Mr Chen", "Ms Zhao"]])[0].field == "name"


def test_a_buyer_nick_beside_a_buyer_id_is_the_nickname():
    assert [x.field for x in mapping.suggest(["买家ID", "买家昵称"], [[], []])] == ["ecommerce_buyer_id", "nickname"]
    assert [x.field for x in mapping.suggest(["买家昵称"], [[]])] == ["ecommerce_buyer_id"]
    assert [x.field for x in mapping.suggest(["订单编号", "订单日期"], [[], []])] == ["order_id", "event_time"]


@pytest.mark.parametrize("header,values,field", [
    ("Account Email", ["a@qq.com", "b@163.com", "c@x.com"], "email"), ("Account Phone", PHONES, "mobile"),
    ("Buyer Account", [], "ecommerce_buyer_id"), ("会员工作电话", PHONES, "mobile"), ("Owner Phone", PHONES, "mobile"),
    ("消费者注册时间", [], "registered_at"), ("Feedback Name", [], "name"), ("Coffee Shop", [], "store"),
    ("收货地址单元", [], "address"), ("储值卡号", [], "member_card"),
])
def test_words_of_the_refusals_inside_a_customers_own_header_refuse_nothing(header, values, field):
    assert mapping.suggest([header], [values])[0].field == field


def test_a_customer_file_with_a_last_order_column_keeps_its_creation_time():
    assert [x.field for x in mapping.suggest(["客户ID", "创建时间", "最近一笔订单号"], [[], [], []])] == [
        "member_card", "registered_at", None]


@pytest.mark.parametrize("header,field", [
    ("State/Region", "province"), ("Province / State", "province"), ("Phone or Mobile", "mobile"), ("电话、手机", "mobile"),
    ("省、市、区", "address"), ("所在地区(省/市/区)", "address"),
])
def test_a_header_offering_alternatives_for_one_field_takes_it(header, field):
    assert mapping.suggest([header], [[]])[0].field == field


@pytest.mark.parametrize("header,values", [
    ("姓名/编号", ["A001", "A002", "A003", "A004"]), ("Name / ID", ["A001", "A002", "A003", "A004"]),
    ("Status / Tier", ["active", "gold", "silver"]), ("订单号/手机号", PHONES),
])
def test_alternatives_of_different_fields_take_none(header, values):
    assert mapping.suggest([header], [values])[0].field is None


def test_a_column_of_mobiles_and_landlines_is_a_phone_column_by_content():
    mixed = ["13812345678", "0755-86001234", "13912345678", "+86 139 1234 5679", "021-50501234"]
    assert [s.field for s in mapping.suggest(["客户", "客户号码"], [["王先生", "张伟", "李娜"], mixed])] == ["name", "mobile"]
    assert mapping.suggest(["号码"], [["0755-86001234", "021-50501234", "13812345678", "010-65529988"]])[0].field == "landline"
    assert mapping.suggest(["号码"], [["13812345678", "0755-86001234", "A1234", "B2345", "C3456"]])[0].field is None


@pytest.mark.parametrize("header,field", [
    ("创建日期", "registered_at"), ("留资时间", "registered_at"), ("最后更新", "updated_at"), ("修改日期", "updated_at"),
    ("营销许可", "marketing_consent"), ("是否允许营销", "marketing_consent"),
])
def test_more_spellings_of_a_persons_times_and_consent(header, field):
    assert mapping.suggest([header], [[]])[0].field == field


def test_a_column_of_dates_is_a_birth_date_by_content_only_when_its_header_names_no_other_time():
    dates = ["1990-05-12", "1985-11-03", "2001-02-28", "1978-07-19"]
    assert mapping.suggest(["激活日期"], [dates])[0].field is None        # an activation date, not a birthday
    assert mapping.suggest(["Last Visit Date"], [dates])[0].field is None
    assert mapping.suggest(["字段7"], [dates])[0].field == "birth_date"   # a header that says nothing: the values tell
    assert mapping.suggest(["出生时间"], [dates])[0].field == "birth_date"  # a time of birth is one
    assert mapping.suggest(["Birth Time"], [dates])[0].field == "birth_date"
