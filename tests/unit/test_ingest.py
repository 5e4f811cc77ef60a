"""Ingest: every format and encoding, identifiers kept as text, and bad input refused with no trace."""
from __future__ import annotations

import codecs
import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from governance.sources import ingest
from governance.sources.readers import sha256_file
from governance.store.errors import DuplicateFileError, IngestError

HEADER = ["会员卡号", "姓名", "手机号", "身份证号", "生日"]
ROWS = [
    ["M001", "张伟", "13800138000", "11010519491231002X", "1949-12-31"],
    ["M002", "欧阳娜娜", "13912345678", "440524188001010014", "1880-01-01"],
    ["M003", "李四", "", "360426199101010071", "1991/1/1"],
]


def write_csv(path: Path, rows, encoding="utf-8", delimiter=",", prefix_lines=()) -> Path:
    lines = list(prefix_lines) + [delimiter.join(r) for r in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def raw_rows(db, batch_id: int) -> list[tuple]:
    with db.cursor() as cur:
        table = cur.execute("SELECT table_name FROM batches WHERE batch_id = ?", [batch_id]).fetchone()[0]
        return cur.execute(f"SELECT * FROM {table} ORDER BY _row").fetchall()


def counts(db) -> tuple:
    with db.cursor() as cur:
        return cur.execute(
            "SELECT (SELECT count(*) FROM batches), (SELECT count(*) FROM sources), "
            "(SELECT count(*) FROM batch_columns), (SELECT count(*) FROM mapping_versions), "
            "(SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw')").fetchone()


EXPECTED = [(i + 1, *[v or None for v in r]) for i, r in enumerate(ROWS)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_csv_encodings_detected_and_loaded_verbatim(db, tmp_path, encoding):
    path = write_csv(tmp_path / "crm.csv", [HEADER, *ROWS], encoding=encoding)
    result = ingest.ingest_file(db, path, actor="t", channel="crm")
    assert result.rows == 3 and result.columns == 5
    assert raw_rows(db, result.batch_id) == EXPECTED
    detected = "gb18030" if encoding in ("gbk", "gb18030") else encoding
    with db.cursor() as cur:
        assert cur.execute("SELECT encoding FROM batches").fetchone()[0] == detected


def test_encoding_override_is_used_and_checked(db, tmp_path):
    path = write_csv(tmp_path / "pos.csv", [HEADER, *ROWS], encoding="gbk")
    result = ingest.ingest_file(db, path, actor="t", encoding="gbk")
    assert raw_rows(db, result.batch_id)[0][2] == "张伟"
    with pytest.raises(IngestError, match="not valid utf-8"):
        ingest.ingest_file(db, write_csv(tmp_path / "b.csv", [HEADER, *ROWS], encoding="gbk"), actor="t",
                           source="other", encoding="utf-8")


@pytest.mark.parametrize("delimiter,suffix", [("\t", ".tsv"), (";", ".csv"), ("|", ".txt"), ("\t", ".txt")])
def test_delimiter_sniffed(db, tmp_path, delimiter, suffix):
    path = write_csv(tmp_path / f"x{suffix}", [HEADER, *ROWS], delimiter=delimiter)
    result = ingest.ingest_file(db, path, actor="t")
    assert raw_rows(db, result.batch_id) == EXPECTED


def test_title_lines_blank_and_duplicate_headers(db, tmp_path):
    header = [" 会员卡号 ", "姓名", "", "姓名", "手机号"]
    rows = [["M1", "张三", "x", "张三丰", "13800138000"]]
    path = write_csv(tmp_path / "pos.csv", [header, *rows], prefix_lines=["门店会员消费明细", ""])
    result = ingest.ingest_file(db, path, actor="t")
    with db.cursor() as cur:
        headers = [r[0] for r in cur.execute("SELECT header FROM batch_columns ORDER BY position").fetchall()]
        line = cur.execute("SELECT header_line FROM batches").fetchone()[0]
    assert headers == ["会员卡号", "姓名", "column_3", "姓名_2", "手机号"]
    assert line == 3
    reasons = {c.position: c.reason for c in result.header_changes}
    assert reasons == {3: "blank", 4: "duplicate"}
    assert raw_rows(db, result.batch_id) == [(1, "M1", "张三", "x", "张三丰", "13800138000")]


def test_values_keep_spaces_quotes_and_newlines(db, tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('name,note\n" 张三 ","他说""你好""\n第二行"\n李四,\n', encoding="utf-8")
    result = ingest.ingest_file(db, path, actor="t")
    assert raw_rows(db, result.batch_id) == [(1, " 张三 ", '他说"你好"\n第二行'), (2, "李四", None)]


def test_headerless_file_gets_generated_headers(db, tmp_path):
    rows = ROWS + [["M004", "王芳", "13512345678", "", ""]]
    path = write_csv(tmp_path / "nohead.csv", rows)
    result = ingest.ingest_file(db, path, actor="t")
    assert result.rows == 4
    assert [c.header for c in result.header_changes] == [f"column_{i}" for i in range(1, 6)]
    assert result.mapping["column_3"] == "mobile"  # suggested from the content


def test_identifiers_never_become_floats_in_csv(db, tmp_path):
    rows = [["mobile", "id"], ["13800138000", "110105194912310021"], ["013800138000", "000123"]]
    result = ingest.ingest_file(db, write_csv(tmp_path / "ids.csv", rows), actor="t")
    assert [r[1:] for r in raw_rows(db, result.batch_id)] == [("13800138000", "110105194912310021"), ("013800138000", "000123")]


def test_xlsx_numbers_read_back_as_exact_text_and_formulas_not_evaluated(db, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "会员"
    ws.append(["姓名", "手机", "身份证", "金额", "公式", "日期"])
    ws.append(["张伟", 13800138000, "11010519491231002X", 12.5, "=1+1", datetime(2024, 1, 2)])
    ws.append(["李娜", 13912345678.0, 110105194912310021, 3.0, "=HYPERLINK(\"http://x\",\"y\")", datetime(2024, 1, 2, 8, 30)])
    second = wb.create_sheet("其他")
    second.append(["a", "b"])
    second.append(["1", "2"])
    path = tmp_path / "tmall.xlsx"
    wb.save(path)
    result = ingest.ingest_file(db, path, actor="t")
    assert raw_rows(db, result.batch_id) == [
        (1, "张伟", "13800138000", "11010519491231002X", "12.5", "=1+1", "2024-01-02"),
        # an 18-digit number cell holds only 15 significant digits in the file: its stored text comes
        # back unchanged (for standardization to flag), never padded with invented digits
        (2, "李娜", "13912345678", "1.1010519491231e+17", "3", '=HYPERLINK("http://x","y")', "2024-01-02 08:30:00"),
    ]
    other = ingest.ingest_file(db, path, actor="t", source="sheet2", sheet="其他")
    assert raw_rows(db, other.batch_id) == [(1, "1", "2")]
    with pytest.raises(IngestError, match="no sheet named"):
        ingest.ingest_file(db, path, actor="t", source="s3", sheet="missing")


def test_json_lines_and_array_keep_number_text(db, tmp_path):
    lines = [{"name": "张伟", "mobile": 13800138000, "score": 1.10, "tags": ["a"]}, {"name": "李娜", "vip": True}]
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines).replace("1.1", "1.10") + "\n", encoding="utf-8")
    result = ingest.ingest_file(db, path, actor="t")
    assert raw_rows(db, result.batch_id) == [(1, "张伟", "13800138000", "1.10", '["a"]', None), (2, "李娜", None, None, None, "true")]
    array = tmp_path / "arr.json"
    array.write_text(json.dumps(lines, ensure_ascii=False), encoding="utf-8")
    assert ingest.ingest_file(db, array, actor="t").rows == 2


def test_parquet_loaded_as_text(db, tmp_path):
    path = tmp_path / "p.parquet"
    with duckdb.connect() as con:
        con.execute("COPY (SELECT * FROM (VALUES ('张伟', 13800138000::BIGINT, DATE '1990-01-02'), "
                    "('李娜', 13912345678, NULL)) t(name, mobile, birthday)) TO ? (FORMAT parquet)", [str(path)])
    result = ingest.ingest_file(db, path, actor="t")
    assert raw_rows(db, result.batch_id) == [(1, "张伟", "13800138000", "1990-01-02"), (2, "李娜", "13912345678", None)]


def test_same_file_twice_is_refused_unless_forced(db, tmp_path):
    path = write_csv(tmp_path / "crm.csv", [HEADER, *ROWS])
    first = ingest.ingest_file(db, path, actor="t")
    with pytest.raises(DuplicateFileError) as info:
        ingest.ingest_file(db, path, actor="t")
    assert info.value.batch_id == first.batch_id
    assert counts(db)[0] == 1
    again = ingest.ingest_file(db, path, actor="t", force=True)
    assert again.batch_id != first.batch_id
    # the same content into another source is a different matter
    assert ingest.ingest_file(db, path, actor="t", source="crm_copy").rows == 3


BAD_INPUTS = {
    "empty.csv": (b"", "empty"),
    "blank.csv": (b"\n\n  \n", "no content"),
    "binary.csv": (bytes(range(256)) * 10, "binary"),
    "zip.csv": (b"PK\x03\x04" + b"\x00" * 100, "Excel/zip"),
    "fake.xlsx": ("姓名,手机\n张三,1\n".encode(), "content is a text file"),
    "old.xls": (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, ".xls"),
    "data.pdf": (b"%PDF-1.4", "unsupported file type"),
    "ragged.csv": ("a,b,c\n1,2,3\n4,5\n".encode(), "line 3 has 2 fields but the header has 3"),
    "ragged2.csv": ("a,b,c\n1,2,3\n4,5,6,7\n".encode(), "line 3 has 4 fields"),
    "headeronly.csv": ("姓名,手机\n".encode(), "no data rows"),
    "undecodable.csv": ("姓名\n张三\n".encode("gbk") + b"\x81\xff\xfe\n", "not valid gb18030"),
    "bad.jsonl": (b'{"a": 1}\n{oops}\n', "line 2 is not valid JSON"),
    "scalar.jsonl": (b'{"a": 1}\n[1, 2]\n', "line 2 is not a JSON object"),
    "bad.parquet": (b"PAR1" + b"\x00" * 20, "not a readable Parquet"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_gets_a_clear_message_and_changes_nothing(db, tmp_path, name):
    good = write_csv(tmp_path / "good.csv", [HEADER, *ROWS])
    ingest.ingest_file(db, good, actor="t", source="keep")
    before = counts(db)
    content, message = BAD_INPUTS[name]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError, match=message):
        ingest.ingest_file(db, path, actor="t", source="keep")
    assert counts(db) == before
    assert len(raw_rows(db, 1)) == 3


def test_file_over_the_size_limit_is_refused(db, tmp_path, monkeypatch):
    monkeypatch.setenv("STEWARD_MAX_UPLOAD_MB", "1")
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 300_000)
    with pytest.raises(IngestError, match="over the limit of 1 MB"):
        ingest.ingest_file(db, path, actor="t")
    assert counts(db)[0] == 0


def test_hostile_headers_are_data_not_sql(db, tmp_path):
    header = ['"; DROP TABLE batches; --', "<script>alert(1)</script>", "it's", "=cmd|' /C calc'!A0"]
    path = tmp_path / "h.csv"
    path.write_text(",".join('"' + h.replace('"', '""') + '"' for h in header) + "\n1,2,3,4\n", encoding="utf-8")
    result = ingest.ingest_file(db, path, actor="t")
    with db.cursor() as cur:
        stored = [r[0] for r in cur.execute("SELECT header FROM batch_columns ORDER BY position").fetchall()]
        view = cur.execute("SELECT extras FROM mapped_records").fetchone()[0]
    assert stored == header
    assert set(view) == set(header)
    assert raw_rows(db, result.batch_id) == [(1, "1", "2", "3", "4")]


def test_failure_mid_load_rolls_back_everything(db, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "crm.csv", [HEADER, *ROWS])
    plan = ingest.prepare(db, path)

    def broken_save(*args, **kwargs):
        raise IngestError("simulated failure after the rows were written")

    monkeypatch.setattr(ingest.mapping_mod, "save", broken_save)
    with pytest.raises(IngestError, match="simulated"):
        ingest.ingest(db, plan, actor="t")
    assert counts(db) == (0, 0, 0, 0, 0)


def test_batch_records_provenance(db, tmp_path):
    path = write_csv(tmp_path / "微信会员.csv", [HEADER, *ROWS], encoding="utf-8-sig")
    result = ingest.ingest_file(db, path, actor="alice", channel="wechat_mp")
    with db.cursor() as cur:
        row = cur.execute("SELECT source, channel, file_name, sha256, size_bytes, row_count, column_count, uploaded_by "
                          "FROM batches").fetchone()
        audit_row = cur.execute("SELECT actor, action, object_id FROM audit_log WHERE action = 'ingest.batch'").fetchone()
    assert row == ("微信会员", "wechat_mp", "微信会员.csv", sha256_file(path), path.stat().st_size, 3, 5, "alice")
    assert audit_row == ("alice", "ingest.batch", str(result.batch_id))


def test_channel_of_existing_source_cannot_change(db, tmp_path):
    path = write_csv(tmp_path / "crm.csv", [HEADER, *ROWS])
    ingest.ingest_file(db, path, actor="t", channel="crm")
    with pytest.raises(IngestError, match="belongs to channel 'crm'"):
        ingest.ingest_file(db, write_csv(tmp_path / "crm2.csv", [HEADER, ROWS[0]]), actor="t", source="crm", channel="pos")


def test_utf16_without_bom_is_detected(db, tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(codecs.encode("姓名,手机\n张三,13800138000\n", "utf-16-le"))
    result = ingest.ingest_file(db, path, actor="t")
    assert raw_rows(db, result.batch_id) == [(1, "张三", "13800138000")]


def test_an_ambiguous_birth_date_is_read_in_the_order_its_batch_shows(db, tmp_path):
    """03/04/1990 beside 29/01/1991 and 16/01/1973 is 3 April; alone, in another file, it stays 4 March
    (month first, flagged); a file whose dates show month first (01/29/1991) keeps that order."""
    from governance import pipeline

    def dates(name: str, values: list[str]) -> dict[str, tuple]:
        path = write_csv(tmp_path / name, [["会员号", "姓名", "生日"], *[[str(i), "张三", v] for i, v in enumerate(values)]])
        batch_id = pipeline.load_file(db, "t", path, source=name.removesuffix(".csv")).ingested.batch_id
        with db.cursor() as cur:
            return {v: cur.execute("SELECT birth_date, birth_date_reason FROM std_records WHERE batch_id = ? "
                                   "AND row_number = ?", [batch_id, i + 1]).fetchone() for i, v in enumerate(values)}

    day_first = dates("overseas.csv", ["29/01/1991", "16/01/1973", "03/04/1990", "1988-02-27"])
    assert day_first["03/04/1990"] == ("1990-04-03", "DATE_ORDER_OF_COLUMN")
    assert day_first["29/01/1991"] == ("1991-01-29", None)
    assert dates("alone.csv", ["03/04/1990", "1988-02-27"])["03/04/1990"] == ("1990-03-04", "DATE_AMBIGUOUS")
    month_first = dates("us.csv", ["01/29/1991", "12/16/1973", "3.4.1990"])
    assert month_first["3.4.1990"] == ("1990-03-04", "DATE_ORDER_OF_COLUMN")


def test_an_empty_mobile_takes_the_one_number_in_a_note_or_after_the_name(db, tmp_path):
    """A WeCom export keeps phones in 描述 or after the remark name; a mapped number wins, two numbers
    in the notes give none, and a note's number is checked like any mobile."""
    from governance import pipeline

    rows = [["客户名称", "备注名", "备注手机", "描述"],
            ["柠檬", "刘凯", "", "15825855360 老客户"],
            ["简单", "王秀英15205211683", "", ""],
            ["丽丽", "李丽", "", "电话157 4668 7638，K11店扫码"],
            ["Amy", "张敏", "13912345678", "老公 13700001111"],
            ["阿狸", "王芳", "", "13700001111 或 15825855360"],
            ["小鱼", "赵静", "", "13800000000"]]
    path = write_csv(tmp_path / "wecom.csv", rows)
    batch_id = pipeline.load_file(db, "t", path, source="wecom").ingested.batch_id
    with db.cursor() as cur:
        got = cur.execute("SELECT mobile, mobile_status, mobile_reason FROM std_records WHERE batch_id = ? "
                          "ORDER BY row_number", [batch_id]).fetchall()
    assert got[:4] == [("15825855360", "valid_with_warning", "MOBILE_FROM_NOTE"),
                       ("15205211683", "valid_with_warning", "MOBILE_FROM_NOTE"),
                       ("15746687638", "valid_with_warning", "MOBILE_FROM_NOTE"),
                       ("13912345678", "valid", None)]
    assert got[4] == (None, "missing", None) and got[5][1] == "placeholder"
