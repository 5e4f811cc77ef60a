"""CSV edge cases: line breaks inside quoted cells (headers too), a lone CR, and rows too big to load.
Every row is stored, or the file is refused with one clear line; never a lost row, never a traceback."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance.sources import ingest, readers
from governance.store.errors import IngestError
from governance.store.storage import open_database
from helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
ROWS = [(1, "张三", "13800138000", "甲"), (2, "李四", "13912345678", "乙")]


def raw_rows(db, batch_id: int) -> list[tuple]:
    with db.cursor() as cur:
        table = cur.execute("SELECT table_name FROM batches WHERE batch_id = ?", [batch_id]).fetchone()[0]
        return cur.execute(f"SELECT * FROM {table} ORDER BY _row").fetchall()


def columns(db, batch_id: int) -> list[tuple[str, str]]:
    with db.cursor() as cur:
        return cur.execute("SELECT header, header_raw FROM batch_columns WHERE batch_id = ? ORDER BY position",
                           [batch_id]).fetchall()


def two_row_csv(newline: str, in_header: str, prefix: str = "") -> str:
    return (f'{prefix}姓名,"手机号{in_header}(必填)",备注{newline}'
            f"张三,13800138000,甲{newline}李四,13912345678,乙{newline}")


# ---------------------------------------------------------------- a line break inside a header cell

@pytest.mark.parametrize("newline,in_header,encoding", [
    ("\n", "\n", "utf-8"),
    ("\r\n", "\r\n", "utf-8"),
    ("\r\n", "\n", "utf-8"),     # Excel: CRLF between rows, LF inside a cell
    ("\n", "\n", "gb18030"),
    ("\r\n", "\r\n", "gb18030"),
    ("\r\n", "\n", "gb18030"),
    ("\n", "\r", "utf-8"),       # a lone CR inside the header cell
    ("\r", "\r", "utf-8"),       # old Mac line ends
    ("\n", "\n", "utf-16"),
], ids=lambda v: repr(v))
def test_line_break_in_a_header_cell_keeps_every_row(db, tmp_path, newline, in_header, encoding):
    path = tmp_path / "template.csv"
    path.write_bytes(two_row_csv(newline, in_header).encode(encoding))
    result = ingest.ingest_file(db, path, actor="t")
    assert result.rows == 2
    assert raw_rows(db, result.batch_id) == ROWS
    headers = columns(db, result.batch_id)
    # the header is one cell; its line break is shown as a space, and the raw header keeps it
    assert [h for h, _ in headers] == ["姓名", "手机号 (必填)", "备注"]
    assert headers[1][1].replace("\r\n", "\n").replace("\r", "\n") == "手机号\n(必填)"
    assert result.mapping["手机号 (必填)"] == "mobile"


def test_two_line_header_below_title_lines(db, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(two_row_csv("\n", "\n", prefix="会员导入模板\n\n"), encoding="utf-8")
    result = ingest.ingest_file(db, path, actor="t")
    assert raw_rows(db, result.batch_id) == ROWS
    with db.cursor() as cur:
        assert cur.execute("SELECT header_line, notes FROM batches").fetchone() == (3, "skipped_lines:2")


@pytest.mark.parametrize("title", [
    "导出时间：2024-06-01,导出人：客服部,,\n",     # cells of a label and its value, as wide as half the header
    "会员导出,2024年6月,,\n",                   # a title naming no field above the header that names two
    "客户列表\n导出时间: 2024-06-01,共2条\n",
])
def test_a_title_line_as_wide_as_half_the_header_is_skipped(db, tmp_path, title):
    path = tmp_path / "export.csv"
    path.write_text(title + "编号,姓名,手机号,备注\n1,张三,13800138000,甲\n2,李四,13912345678,乙\n", encoding="utf-8")
    result = ingest.ingest_file(db, path, actor="t")
    assert raw_rows(db, result.batch_id) == [(n, str(n), *rest) for n, *rest in ROWS]
    assert (result.mapping["姓名"], result.mapping["手机号"]) == ("name", "mobile")


def test_a_header_of_unknown_labels_is_still_the_header(db, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("甲列,乙列,丙列\n1,张三,13800138000\n2,李四,13912345678\n", encoding="utf-8")
    result = ingest.ingest_file(db, path, actor="t")
    assert [h for h, _ in columns(db, result.batch_id)] == ["甲列", "乙列", "丙列"] and result.rows == 2


def test_line_break_in_every_header_cell_and_many_rows(db, tmp_path):
    header = ",".join(f'"列{i}\n(必填)"' for i in range(5))
    body = "".join(",".join(f"r{r}c{c}" for c in range(5)) + "\r\n" for r in range(1, 501))
    path = tmp_path / "wide.csv"
    path.write_text(header + "\r\n" + body, encoding="utf-8", newline="")
    result = ingest.ingest_file(db, path, actor="t")
    assert result.rows == 500
    rows = raw_rows(db, result.batch_id)
    assert rows[0] == (1, "r1c0", "r1c1", "r1c2", "r1c3", "r1c4") and rows[-1][0:2] == (500, "r500c0")


# ---------------------------------------------------------------- a CR inside a quoted field

@pytest.mark.parametrize("text", [
    '姓名,手机号,备注\n张三,13800138000,"甲\r乙"\n李四,13912345678,乙\n',
    '姓名,手机号,备注\r\n张三,13800138000,"甲\r乙"\r\n李四,13912345678,乙\r\n',
    '姓名,手机号,备注\r张三,13800138000,"甲\r乙"\r李四,13912345678,乙\r',
    '姓名,手机号,备注\n张三,13800138000,"甲\r\n乙"\n李四,13912345678,乙\n',  # CRLF inside an LF file
], ids=["lf-file", "crlf-file", "cr-file", "crlf-in-lf-file"])
def test_cr_inside_a_quoted_field_loads_as_a_line_feed(db, tmp_path, text):
    path = tmp_path / "notes.csv"
    path.write_bytes(text.encode("utf-8"))
    result = ingest.ingest_file(db, path, actor="t")
    assert raw_rows(db, result.batch_id) == [(1, "张三", "13800138000", "甲\n乙"), (2, "李四", "13912345678", "乙")]
    with db.cursor() as cur:
        assert "line_breaks_normalised" in cur.execute("SELECT notes FROM batches").fetchone()[0]


def test_cr_in_the_first_cell_of_a_headerless_file(db, tmp_path):
    path = tmp_path / "nohead.csv"
    path.write_bytes('"张\r三",13800138000,110105194912310021\n李四,13912345678,440524188001010014\n'.encode())
    result = ingest.ingest_file(db, path, actor="t")
    assert [r[1] for r in raw_rows(db, result.batch_id)] == ["张\n三", "李四"]


FANS = [("o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "王小明", "1", "深圳", "广东", "中国"),
        ("oQx0Fj3nW8_kLp2RrT5uV7yZa1Bc", "李娜", "2", "广州", "广东", "中国"),
        ("oAb9Cd8Ef7_Gh6Ij5Kl4Mn3Op2Qr", "张伟", "1", "杭州", "浙江", "中国"),
        ("oZy1Xw2Vu3_Ts4Rq5Po6Nm7Lk8Ji", "刘芳", "2", "成都", "四川", "中国")]


@pytest.mark.parametrize("header", [None, ("openid", "昵称", "性别", "城市", "省份", "国家"),
                                    ("粉丝标识", "顾客", "类别", "所在城", "省", "国")])
def test_an_export_without_a_header_loads_its_first_customer_as_a_record(db, tmp_path, header):
    """A fan list exported without a header starts with a customer whose cells are words (a name,
    a city): they are values like those below them, so the row is a record, not the columns'
    names (which would show the customer on screen as headers and keep them out of erasure).
    A header, known words or not, stays a header."""
    path = tmp_path / "fans.csv"
    path.write_text("\n".join(",".join(r) for r in ([header] if header else []) + FANS) + "\n", encoding="utf-8")
    result = ingest.ingest_file(db, path, actor="t")
    assert [r[1:] for r in raw_rows(db, result.batch_id)] == FANS
    headers = [h for h, _ in columns(db, result.batch_id)]
    assert headers == (list(header) if header else headers) and not set(headers) & set(FANS[0])


@pytest.mark.parametrize("header", [("姓名", "手机", "2023年消费金额", "2024年消费金额"),
                                    ("会员ID", "手机号", "近180天消费", "近365天消费")])
def test_a_header_with_years_or_day_counts_stays_a_header(db, tmp_path, header):
    """Digits in half the headers (a year, a window of days) do not make the row a record when
    other cells are headers the mapping knows."""
    path = tmp_path / "spend.csv"
    path.write_text(",".join(header) + "\n张三,13800138000,100,200\n李四,13900139000,300,400\n", encoding="utf-8")
    result = ingest.ingest_file(db, path, actor="t")
    assert [h for h, _ in columns(db, result.batch_id)] == list(header)
    assert [r[1] for r in raw_rows(db, result.batch_id)] == ["张三", "李四"]
    assert result.mapping[header[1]] == "mobile"


def test_consistent_line_breaks_inside_values_are_kept_verbatim(db, tmp_path):
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes('姓名,备注\r\n张三,"甲\r\n乙"\r\n李四,丙\r\n'.encode())
    excel = tmp_path / "excel.csv"
    excel.write_bytes('姓名,备注\r\n张三,"甲\n乙"\r\n李四,丙\r\n'.encode())
    assert raw_rows(db, ingest.ingest_file(db, crlf, actor="t").batch_id)[0] == (1, "张三", "甲\r\n乙")
    assert raw_rows(db, ingest.ingest_file(db, excel, actor="t").batch_id)[0] == (1, "张三", "甲\n乙")


def test_newline_count_across_pieces():
    def style(*pieces: str) -> str:
        count = readers.NewlineCount()
        for piece in pieces:
            count.feed(piece)
        return count.style
    assert style("a\n", "b\n") == "lf"
    assert style("a\r", "\nb\r\n") == "crlf"  # a CRLF split between two pieces
    assert style("x", "a\r\n") == "crlf"
    assert style("a\n", "b\r\n") == style("a\r\n", "b\n") == style("a\rb") == style("a\r", "b") == "mixed"


def test_rows_out_of_step_with_the_header_are_refused_not_dropped(db, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text("姓名,手机号,备注\n张三,13800138000,甲\n李四,13912345678,乙\n", encoding="utf-8")
    plan = ingest.prepare(db, path)
    plan.file.data_skip_lines += 1  # as if the header were found one row too low
    with pytest.raises(IngestError, match="do not start with the row after the header on line 1"):
        ingest.ingest(db, plan, actor="t")
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM batches").fetchone()[0] == 0


# ---------------------------------------------------------------- rows too big

def test_oversized_row_after_the_sample_gets_its_size(db, tmp_path):
    path = tmp_path / "late.csv"
    body = "".join(f"张{i},138{i:08d},甲\n" for i in range(300))
    path.write_text("姓名,手机号,备注\n" + body + "王五,13800000000," + "x" * (3 * MB) + "\n李四,1,乙\n",
                    encoding="utf-8")
    with pytest.raises(IngestError, match=r"^late\.csv: line 302 is 3\.0 MB long; a row may be at most 2 MB\."):
        ingest.ingest_file(db, path, actor="t")


def test_unclosed_quote_over_the_row_limit(db, tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('姓名,备注\n张三,"' + ("x" * 1000 + "\n") * 3000 + "李四,乙\n", encoding="utf-8")
    with pytest.raises(IngestError, match="the row starting at line 2 runs over 2 MB.*never closed"):
        ingest.ingest_file(db, path, actor="t")


def test_a_row_just_under_the_limit_loads(db, tmp_path):
    path = tmp_path / "near.csv"
    field = "x" * (2 * MB - 100)  # readers.MAX_ROW_BYTES
    path.write_text(f"姓名,备注\n张三,{field}\n李四,乙\n", encoding="utf-8")
    result = ingest.ingest_file(db, path, actor="t")
    assert [len(r[2]) for r in raw_rows(db, result.batch_id)] == [len(field), 1]


@pytest.fixture
def store(tmp_path) -> Path:
    path = tmp_path / "x.duckdb"
    code, _, err = run_cli(path, "init", "--no-demo")
    assert code == 0, err
    return path


REFUSED = {
    "five_mb_field.csv": (f"姓名,手机号,备注\n张三,13800138000,{'x' * (5 * MB)}\n李四,13912345678,乙\n",
                          "five_mb_field.csv: line 2 is 5.0 MB long; a row may be at most 2 MB."),
    "commas.csv": (",,,,\n" * 10, "commas.csv: the file has no values, only delimiters and blank lines."),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_cli_refuses_with_one_line(store, tmp_path, name):
    text, message = REFUSED[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli(store, "ingest", str(path))
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err


def test_cli_loads_a_1mb_header_cell_and_a_200k_character_field(store, tmp_path):
    big_header = tmp_path / "big_header.csv"
    big_header.write_text(f"姓名,手机号,{'备' * (MB // 3)}\n张三,13800138000,甲\n李四,13912345678,乙\n", encoding="utf-8")
    long_field = tmp_path / "long_field.csv"
    long_field.write_text(f"姓名,手机号,备注\n张三,13800138000,{'x' * 200_000}\n李四,13912345678,乙\n", encoding="utf-8")
    results = []
    for path in (big_header, long_field):
        code, out, err = run_cli(store, "ingest", str(path))
        assert code == 0 and "Traceback" not in err, err
        results.append(json.loads(out))
    assert [r["rows"] for r in results] == [2, 2]
    assert results[0]["renamed_headers"][0]["reason"] == "truncated"
    db = open_database(store)
    try:
        assert [len(r[3]) for r in raw_rows(db, results[1]["batch_id"])] == [200_000, 1]
        assert [h for h, _ in columns(db, results[0]["batch_id"])][2] == "备" * 128
    finally:
        db.close()


# ---------------------------------------------------------------- encodings beyond UTF-8 and GBK

BIG5_TEXT = ("姓名,手機號碼,地址,備註\n陳大文,91234567,香港九龍旺角彌敦道123號,老顧客\n"
             "林美玲,98765432,台北市大安區忠孝東路四段200號,會員生日禮物\n黃志明,92345678,新竹市東區光復路二段101號,喜歡咖啡\n")


def test_a_big5_export_is_read_as_big5_and_its_traditional_headers_map(db, tmp_path):
    """GB18030 decodes almost any bytes, so a Big5 file (Hong Kong, Taiwan) used to load as rare
    characters; it is told apart by how common its characters read either way."""
    path = tmp_path / "members_big5.csv"
    path.write_bytes(BIG5_TEXT.encode("big5"))
    plan = ingest.prepare(db, path)
    assert plan.file.encoding == "big5" and plan.mapping()["手機號碼"] == "mobile"
    result = ingest.ingest(db, plan, actor="t")
    assert [r[1] for r in raw_rows(db, result.batch_id)] == ["陳大文", "林美玲", "黃志明"]


def test_a_gbk_export_of_traditional_and_rare_names_stays_gb18030(db, tmp_path):
    path = tmp_path / "pos_gbk.csv"
    path.write_bytes("姓名,手机,地址\n欧阳娜娜,13800138000,广东省深圳市南山区科技园\n諸葛亮,13900139000,四川省成都市武侯区\n"
                     "龑,13700137000,浙江省杭州市西湖区文三路\n".encode("gb18030"))
    assert ingest.prepare(db, path).file.encoding == "gb18030"


def test_a_utf8_file_with_a_line_in_another_encoding_is_refused_naming_the_line(db, tmp_path):
    """Two exports pasted together: decoding it all as GB18030 would turn every UTF-8 row into
    garbage without a word, so the file is refused where the encoding changes."""
    path = tmp_path / "joined.csv"
    path.write_bytes(("姓名,手机\n" + "张三,13800138000\n" * 40).encode() + "李四,13900139000\n".encode("gbk"))
    with pytest.raises(IngestError, match=r"UTF-8 up to line 42 \(byte \d+\).*mixes encodings"):
        ingest.prepare(db, path)
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM batches").fetchone()[0] == 0


@pytest.mark.parametrize("label", ["合计", "总计：", "Total", "GRAND TOTAL"])
def test_a_closing_totals_row_is_no_customer(db, tmp_path, label):
    path = tmp_path / "members.csv"
    path.write_text(f"会员号,姓名,余额\nM1,王伟,100.00\nM2,李娜,50.00\n{label},,150.00\n", encoding="utf-8")
    result = ingest.ingest_file(db, path, actor="t", source="pos", channel="pos")
    assert result.rows == 2 and "totals_row_dropped" in result.notes
    with db.cursor() as cur:
        assert cur.execute(f"SELECT count(*) FROM raw.batch_{result.batch_id}").fetchone()[0] == 2
        assert cur.execute("SELECT row_count, notes FROM batches").fetchone() == (2, "totals_row_dropped")


def test_a_customer_row_named_like_a_total_elsewhere_stays(db, tmp_path):
    path = tmp_path / "members.csv"  # 合计 not in the last row, or not in its first filled cell
    path.write_text("会员号,姓名\n合计,王伟\nM2,李娜\nM3,合计\nTotal,陈静\n", encoding="utf-8")
    assert ingest.ingest_file(db, path, actor="t", source="pos", channel="pos").rows == 4  # Total beside a name: a customer
