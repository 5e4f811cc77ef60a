"""Small .xls and .ods workbooks for tests: .xls written with xlwt (test-only; python-calamine, which
reads them, cannot write), .ods zipped by hand from a minimal content.xml (`write_ods`)."""
from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import xlwt

TITLE = "会员名单（2024年导出）"
HEADER = ["姓名", "手机号", "身份证号", "金额", "生日"]
# what is stored for the rows written below
EXPECTED = [
    (1, "张伟", "13800138000", "11010519491231002X", "12.5", "2024-01-02"),
    (2, "欧阳娜娜", "13912345678", "440524188001010014", "3", "1991-05-06"),
]


def write_xls(path: Path, *, mobile_as_number: bool = True) -> Path:
    """Sheet 会员: a title in B1, a blank row, the header on row 3, two data rows; sheet 其他 after it."""
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("会员")
    ws.write(0, 1, TITLE)
    for col, text in enumerate(HEADER):
        ws.write(2, col, text)
    day = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    rows = [("张伟", 13800138000, "11010519491231002X", 12.5, datetime(2024, 1, 2)),
            ("欧阳娜娜", 13912345678.0, "440524188001010014", 3.0, datetime(1991, 5, 6))]
    for r, (name, mobile, id_no, amount, birthday) in enumerate(rows, start=3):
        ws.write(r, 0, name)
        ws.write(r, 1, mobile if mobile_as_number else str(int(mobile)))
        ws.write(r, 2, id_no)
        ws.write(r, 3, amount)
        ws.write(r, 4, birthday, day)
    other = wb.add_sheet("其他")
    for r, row in enumerate([["门店", "电话"], ["静安店", 2162345678]]):
        for c, value in enumerate(row):
            other.write(r, c, value)
    wb.save(str(path))
    return path


_ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')


def _ods_cell(value: object) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, tuple):  # (formula, the result saved with it)
        formula, result = value
        return (f'<table:table-cell table:formula="{escape(formula)}" office:value-type="float" '
                f'office:value="{result}"><text:p>{result}</text:p></table:table-cell>')
    if isinstance(value, date):
        return (f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
                f"<text:p>{value.isoformat()}</text:p></table:table-cell>")
    if isinstance(value, (int, float)):
        return (f'<table:table-cell office:value-type="float" office:value="{value!r}">'
                f"<text:p>{value}</text:p></table:table-cell>")
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'


def write_ods(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """The smallest OpenDocument spreadsheet: mimetype (first, stored), manifest and content.xml."""
    tables = "".join(
        f'<table:table table:name="{escape(name)}">'
        + "".join("<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>" for row in rows)
        + "</table:table>" for name, rows in sheets.items())
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} office:version="1.2">'
               f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


ODS_SHEETS: dict[str, list[list[object]]] = {
    "会员": [
        [None, TITLE],
        [],
        HEADER + ["积分"],
        ["张伟", 13800138000, "11010519491231002X", 12.5, date(2024, 1, 2), ("of:=1+1", 2)],
        ["欧阳娜娜", 13912345678.0, "440524188001010014", 3.0, date(1991, 5, 6), ("of:=[.D5]*10", 30)],
    ],
    "其他": [["门店", "电话"], ["静安店", 2162345678]],
}
