"""Old Excel (.xls) and OpenDocument (.ods) workbooks load like .xlsx: sheet choice, a title row above
the header, Chinese text, and numbers as their exact text (a mobile typed as a number has no ".0").
The workbooks are built by tests/spreadsheets.py."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import xlwt
from spreadsheets import EXPECTED, HEADER, ODS_SHEETS, write_ods, write_xls

from governance.sources import ingest
from governance.store.errors import IngestError
from governance.store.storage import open_database
from helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]


def raw_rows(db, batch_id: int) -> list[tuple]:
    with db.cursor() as cur:
        table = cur.execute("SELECT table_name FROM batches WHERE batch_id = ?", [batch_id]).fetchone()[0]
        return cur.execute(f"SELECT * FROM {table} ORDER BY _row").fetchall()


@pytest.fixture
def store(tmp_path) -> Path:
    path = tmp_path / "x.duckdb"
    code, _, err = run_cli(path, "init", "--no-demo")
    assert code == 0, err
    return path


def batch(db, batch_id: int) -> tuple:
    with db.cursor() as cur:
        return cur.execute("SELECT file_format, sheet, header_line, row_count FROM batches WHERE batch_id = ?",
                           [batch_id]).fetchone()


def headers(db, batch_id: int) -> list[str]:
    with db.cursor() as cur:
        return [r[0] for r in cur.execute("SELECT header FROM batch_columns WHERE batch_id = ? ORDER BY position",
                                          [batch_id]).fetchall()]


def test_xls_loads_below_its_title_row_with_exact_numbers(db, tmp_path):
    result = ingest.ingest_file(db, write_xls(tmp_path / "门店会员.xls"), actor="t", channel="pos")
    assert raw_rows(db, result.batch_id) == EXPECTED
    assert headers(db, result.batch_id) == HEADER
    assert batch(db, result.batch_id) == ("xls", "会员", 3, 2)
    assert result.mapping["手机号"] == "mobile" and result.mapping["身份证号"] == "id_card"


def test_xls_other_sheet_and_missing_sheet(db, tmp_path):
    path = write_xls(tmp_path / "m.xls")
    other = ingest.ingest_file(db, path, actor="t", source="stores", sheet="其他")
    assert raw_rows(db, other.batch_id) == [(1, "静安店", "2162345678")]
    assert batch(db, other.batch_id) == ("xls", "其他", 1, 1)
    with pytest.raises(IngestError, match="no sheet named 'missing'; the sheets are 会员, 其他"):
        ingest.ingest_file(db, path, actor="t", source="s3", sheet="missing")


def test_each_sheet_of_a_workbook_loads_once_into_one_source(db, tmp_path):
    """Two sheets of one file are two sets of rows: the second is no duplicate of the first; the
    same sheet again is."""
    from governance.store.errors import DuplicateFileError

    path = write_xls(tmp_path / "m.xls")
    first = ingest.ingest_file(db, path, actor="t", source="stores")
    second = ingest.ingest_file(db, path, actor="t", source="stores", sheet="其他")
    assert (batch(db, first.batch_id)[1], batch(db, second.batch_id)[1]) == ("会员", "其他")
    with pytest.raises(DuplicateFileError, match=f"as batch {second.batch_id}"):
        ingest.ingest_file(db, path, actor="t", source="stores", sheet="其他")


def test_ods_loads_below_its_title_row_and_formulas_give_their_saved_result(db, tmp_path):
    result = ingest.ingest_file(db, write_ods(tmp_path / "会员.ods", ODS_SHEETS), actor="t", channel="crm")
    assert raw_rows(db, result.batch_id) == [row + (points,) for row, points in zip(EXPECTED, ["2", "30"])]
    assert headers(db, result.batch_id) == HEADER + ["积分"]
    assert batch(db, result.batch_id) == ("ods", "会员", 3, 2)
    other = ingest.ingest_file(db, tmp_path / "会员.ods", actor="t", source="stores", sheet="其他")
    assert raw_rows(db, other.batch_id) == [(1, "静安店", "2162345678")]


def test_an_18_digit_id_typed_as_a_number_is_not_given_invented_digits(db, tmp_path):
    """A number cell holds a double: Excel keeps 15 significant digits of an 18-digit ID typed as a
    number, so the digits are gone in the file; the reader gives the stored number's text, as for .xlsx."""
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("s")
    for c, (head, value) in enumerate([("身份证号", 110105194912310000.0), ("会员号", 9007199254740993),
                                       ("手机", "013800138000")]):
        ws.write(0, c, head)
        ws.write(1, c, value)
    wb.save(str(tmp_path / "ids.xls"))
    result = ingest.ingest_file(db, tmp_path / "ids.xls", actor="t")
    # 2**53 + 1 is not a double: the file holds 2**53, exactly as a 16-digit number
    assert raw_rows(db, result.batch_id) == [(1, "1.1010519491231e+17", "9007199254740992", "013800138000")]


@pytest.mark.parametrize("name,content,message", [
    ("broken.ods", b"PK\x03\x04" + b"\x00" * 100, "broken.ods: not a readable .ods workbook"),
    ("broken.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "broken.xls: not a readable .xls workbook"),
    ("text.xls", "姓名\t手机\n张三\t1\n".encode(), "the extension says .xls but the content is a text file"),
])
def test_unreadable_workbooks_get_one_clear_message(db, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError, match=message):
        ingest.ingest_file(db, path, actor="t")


def test_cli_ingests_xls_and_ods(store, tmp_path):
    xls = write_xls(tmp_path / "pos.xls")
    ods = write_ods(tmp_path / "crm.ods", ODS_SHEETS)
    code, out, err = run_cli(store, "ingest", str(xls), "--channel", "pos")
    assert code == 0 and "Traceback" not in err, err
    code2, out2, err2 = run_cli(store, "ingest", str(ods), "--channel", "crm", "--sheet", "其他")
    assert code2 == 0 and "Traceback" not in err2, err2
    first, second = json.loads(out), json.loads(out2)
    assert (first["rows"], second["rows"]) == (2, 1)
    db = open_database(store)
    try:
        assert raw_rows(db, first["batch_id"]) == EXPECTED
        assert batch(db, second["batch_id"]) == ("ods", "其他", 1, 1)
    finally:
        db.close()
