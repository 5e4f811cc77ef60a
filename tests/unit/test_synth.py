"""Tests for governance.synth: the seeded multi-channel demo/benchmark data generator."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from governance.synth import (
    CHANNELS,
    ChannelFile,
    Workspace,
    generate_workspace,
    make_id_card,
    write_benchmark_csv,
    write_workspace,
)

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def _valid_id(number: str) -> bool:
    """Independent GB 11643 MOD 11-2 check."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    return "10X98765432"[sum(int(c) * w for c, w in zip(number, _WEIGHTS)) % 11] == number[17]


def _table(f: ChannelFile) -> tuple[list, list[list]]:
    """(header, data rows) of one channel file, the way an ingest would see it."""
    if f.encoding == "xlsx":
        wb = openpyxl.load_workbook(io.BytesIO(f.data))
        values = [list(r) for r in wb.active.iter_rows(values_only=True)]
        return values[0], values[1:]
    lines = list(csv.reader(io.StringIO(f.data.decode(f.encoding))))
    if f.channel == "pos":
        lines = lines[2:]  # title line + blank line above the header
    return lines[0], lines[1:]


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return generate_workspace(3000)


@pytest.fixture(scope="module")
def files(ws: Workspace) -> dict[str, ChannelFile]:
    return {f.channel: f for f in ws.files}


@pytest.fixture(scope="module")
def tables(ws: Workspace) -> dict[str, tuple[list, list[list]]]:
    return {f.source: _table(f) for f in ws.files}


# --- ID cards --------------------------------------------------------------


def test_make_id_card_known_vector() -> None:
    assert make_id_card("110105", date(1949, 12, 31), 2) == "11010519491231002X"


@pytest.mark.parametrize(
    ("region", "birth", "seq"),
    [("440305", date(1990, 1, 2), 123), ("310115", date(2015, 2, 28), 0), ("510107", date(1960, 12, 31), 999)],
)
def test_make_id_card_checksum(region: str, birth: date, seq: int) -> None:
    number = make_id_card(region, birth, seq)
    assert len(number) == 18
    assert number.startswith(region + birth.strftime("%Y%m%d") + f"{seq:03d}")
    assert _valid_id(number)


@pytest.mark.parametrize(("region", "seq"), [("11010", 1), ("11010a", 1), ("110105", 1000), ("110105", -1)])
def test_make_id_card_rejects_bad_input(region: str, seq: int) -> None:
    with pytest.raises(ValueError):
        make_id_card(region, date(1990, 1, 1), seq)


# --- determinism -------------------------------------------------------------


def test_same_seed_same_bytes() -> None:
    a, b = generate_workspace(300, seed=5), generate_workspace(300, seed=5)
    assert [f.data for f in a.files] == [f.data for f in b.files]
    assert a.truth == b.truth
    assert a.customers == b.customers


def test_different_seed_different_bytes() -> None:
    a, b = generate_workspace(300, seed=5), generate_workspace(300, seed=6)
    for fa, fb in zip(a.files, b.files):
        assert fa.data != fb.data


# --- files -------------------------------------------------------------------


def test_channels_mapping() -> None:
    assert {"wechat_mp", "douyin", "tmall", "jd", "pos", "crm", "member"} <= set(CHANNELS)
    assert CHANNELS["wechat_mp"][0] == "微信小程序"
    assert CHANNELS["pos"][0] == "门店POS"
    assert all(len(v) == 2 for v in CHANNELS.values())


def test_five_files_with_expected_encodings(ws: Workspace) -> None:
    got = {f.channel: f.encoding for f in ws.files}
    assert got == {"wechat_mp": "utf-8-sig", "douyin": "utf-8", "tmall": "xlsx", "pos": "gb18030", "crm": "utf-8"}
    for f in ws.files:
        assert f.channel in CHANNELS
        assert re.fullmatch(r"[a-z0-9_]+", f.source)
        assert f.file_name.endswith(".xlsx" if f.encoding == "xlsx" else ".csv")
    assert len({f.source for f in ws.files}) == 5


def test_total_rows_in_expected_range(ws: Workspace) -> None:
    assert 4000 <= len(ws.truth) <= 5000


def test_pos_file_is_gb18030_with_title(files: dict[str, ChannelFile]) -> None:
    data = files["pos"].data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    lines = data.decode("gb18030").splitlines()
    assert lines[0] == "门店会员消费明细"
    assert lines[1] == ""
    assert lines[2].split(",")[:3] == ["会员卡号", "姓名", "手机"]


def test_wechat_file_has_bom_and_ids(files: dict[str, ChannelFile], tables: dict) -> None:
    assert files["wechat_mp"].data.startswith(b"\xef\xbb\xbf")
    header, rows = tables["wechat_mp_member"]
    assert header[:3] == ["openid", "unionid", "appid"]
    assert all(re.fullmatch(r"o[A-Za-z0-9_-]{27}", r[0]) for r in rows)
    assert len({r[2] for r in rows}) == 1 and re.fullmatch(r"wx[0-9a-f]{16}", rows[0][2])
    assert 0.6 <= sum(1 for r in rows if r[1]) / len(rows) <= 0.8
    assert {r[6] for r in rows} <= {"0", "1", "2"}
    followers = [r for r in rows if not r[4] and not r[5]]
    assert len(followers) / len(rows) > 0.2


def test_douyin_has_masked_mobiles(tables: dict) -> None:
    header, rows = tables["douyin_orders"]
    for col in ("抖音号", "用户昵称", "收货人", "收货手机", "收货地址", "下单时间"):
        assert col in header
    mobiles = [r[header.index("收货手机")] for r in rows]
    assert sum(bool(re.fullmatch(r"1\d\d\*{4}\d{4}", m)) for m in mobiles) / len(mobiles) > 0.3
    assert any(a.startswith("广东省深圳市南山区") for a in (r[header.index("收货地址")] for r in rows))


def test_tmall_xlsx_has_numeric_mobile_cells(tables: dict) -> None:
    header, rows = tables["tmall_orders"]
    for col in ("买家会员名", "收货人姓名", "联系手机", "收货地址", "订单创建时间"):
        assert col in header
    mobiles = [r[header.index("联系手机")] for r in rows]
    numeric = [m for m in mobiles if isinstance(m, int)]
    assert len(numeric) > 50
    assert all(_MOBILE.match(str(m)) for m in numeric)
    assert any(isinstance(m, str) and "****" in m for m in mobiles)


def test_crm_headers_and_dirty_values(tables: dict, ws: Workspace) -> None:
    header, rows = tables["crm_members"]
    assert header == [
        "Customer ID", "Name", "Mobile", "Email", "ID Number", "Gender", "Birthday", "Province",
        "City", "District", "Address", "Postcode", "Register Time", "Update Time", "Marketing Opt-in",
    ]
    assert {r[5] for r in rows} <= {"M", "F", "Male", "Female", ""}
    assert {r[14] for r in rows} <= {"Y", "N", "是", "否", "", "1", "0"}
    ids = [r[4] for r in rows]
    assert any(len(i) == 15 and i.isdigit() for i in ids)
    assert any(i.endswith("x") for i in ids)
    assert any(len(i) == 18 and i[:17].isdigit() and not _valid_id(i.upper()) for i in ids)
    assert any(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", r[1]) for r in rows)  # pinyin names
    assert any(r[3].endswith(("qq.con", "gmial.com", "qq.comm", "163.cm")) for r in rows)


# --- ground truth -----------------------------------------------------------


def test_truth_covers_every_data_row(ws: Workspace, tables: dict) -> None:
    by_source: dict[str, list[int]] = defaultdict(list)
    for source, row_number, _ in ws.truth:
        by_source[source].append(row_number)
    assert set(by_source) == set(tables)
    for source, (_, rows) in tables.items():
        assert sorted(by_source[source]) == list(range(1, len(rows) + 1)), source
    known = {c["customer_id"] for c in ws.customers}
    assert {cid for _, _, cid in ws.truth} <= known


def test_truth_rows_match_customer_data(ws: Workspace, tables: dict) -> None:
    """Spot-check that truth points at the right person: CRM ID numbers belong to that customer."""
    people = {c["customer_id"]: c for c in ws.customers}
    _, rows = tables["crm_members"]
    checked = 0
    for source, row_number, cid in ws.truth:
        if source == "crm_members":
            number = rows[row_number - 1][4]
            if len(number) == 18 and _valid_id(number):
                assert number == people[cid]["id_card"]
                checked += 1
    assert checked > 100


def test_rows_are_shuffled(ws: Workspace) -> None:
    crm = [cid for source, _, cid in ws.truth if source == "crm_members"]
    assert crm != sorted(crm)


def test_about_a_quarter_in_several_sources(ws: Workspace) -> None:
    sources: dict[str, set[str]] = defaultdict(set)
    for source, _, cid in ws.truth:
        sources[cid].add(source)
    assert len(sources) == len(ws.customers)  # every customer appears somewhere
    multi = sum(1 for s in sources.values() if len(s) >= 2) / len(ws.customers)
    assert 0.18 <= multi <= 0.33
    assert max(len(s) for s in sources.values()) <= 4


def test_within_channel_duplicates(ws: Workspace, tables: dict) -> None:
    counts = Counter((source, cid) for source, _, cid in ws.truth)
    for source, (_, rows) in tables.items():
        extra = sum(n - 1 for (s, _), n in counts.items() if s == source)
        assert 0.02 <= extra / len(rows) <= 0.07, source


def test_customers_are_consistent(ws: Workspace) -> None:
    assert len(ws.customers) == 3000
    for c in ws.customers:
        assert _valid_id(c["id_card"])
        assert c["id_card"][6:14] == c["birth_date"].replace("-", "")
        assert int(c["id_card"][16]) % 2 == (1 if c["gender"] == "M" else 0)
        assert c["id_card"][:6] == c["adcode"]
        assert _MOBILE.match(c["mobile"])
    assert len({c["id_card"] for c in ws.customers}) == len(ws.customers)


def test_hard_cases_present(ws: Workspace) -> None:
    mobiles = Counter(c["mobile"] for c in ws.customers)
    shared = [m for m, n in mobiles.items() if n > 1]
    assert shared, "household phones shared by two customers"
    names = Counter(c["name"] for c in ws.customers)
    assert max(names.values()) >= 3  # several 张伟 / 王芳 / 李娜
    assert any(c["birth_date"] >= "2013" for c in ws.customers)  # minors
    assert any(len(c["name"]) >= 3 and c["name"][:2] in {"欧阳", "司马", "诸葛", "上官", "慕容", "司徒", "东方", "皇甫"} for c in ws.customers)
    assert any(c["alt_mobile"] for c in ws.customers)
    assert {c["city"] for c in ws.customers if c["district"] == "鼓楼区"} == {"南京市", "福州市"}  # ambiguous district


def test_small_workspace_still_has_shared_mobile_and_name() -> None:
    small = generate_workspace(40, seed=1)
    assert len({c["mobile"] for c in small.customers}) < 40
    assert len({c["name"] for c in small.customers}) < 40


def test_write_workspace(tmp_path: Path, ws: Workspace) -> None:
    paths = write_workspace(ws, tmp_path / "demo")
    assert [p.name for p in paths] == [f.file_name for f in ws.files]
    for p, f in zip(paths, ws.files):
        assert p.read_bytes() == f.data
    with open(tmp_path / "demo" / "truth.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["source", "row_number", "customer_id"]
    assert [(s, int(n), c) for s, n, c in rows[1:]] == ws.truth


# --- benchmark ----------------------------------------------------------------


def test_benchmark_csv(tmp_path: Path) -> None:
    path = tmp_path / "bench.csv"
    write_benchmark_csv(path, 5000)
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, data = rows[0], rows[1:]
    assert len(data) == 5000
    assert 11 <= len(header) <= 14 and {"customer_id", "name", "mobile", "id_card"} <= set(header)
    assert all(len(r) == len(header) for r in data)
    ids = [r[header.index("id_card")] for r in data]
    assert sum(_valid_id(i) for i in ids) / len(ids) > 0.9
    dup = 1 - len(set(ids)) / len(ids)
    assert 0.1 <= dup <= 0.3



def test_benchmark_csv_deterministic(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    write_benchmark_csv(a, 1000)
    write_benchmark_csv(b, 1000)
    write_benchmark_csv(c, 1000, seed=8)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_benchmark_csv_zero_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    write_benchmark_csv(path, 0)
    assert path.read_text(encoding="utf-8").count("\n") == 1
