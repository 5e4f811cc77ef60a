"""The Upload page takes .xls and .ods workbooks: the uploader accepts them, the sheet can be chosen,
the title row is skipped, and the batch loads."""
from __future__ import annotations

import pytest
from spreadsheets import ODS_SHEETS, write_ods, write_xls

from helpers import app_test
from helpers import visible_text as texts

UPLOAD = "pages/upload.py"


def test_uploader_accepts_old_excel_and_opendocument(app_db):
    """The uploader takes any type (the page refuses the unsupported ones in the UI language) and
    names the spreadsheet types it reads."""
    at = app_test(app_db, "steward").run()
    at.switch_page(UPLOAD).run()
    uploader = at.file_uploader(key="upload_file")
    assert not uploader.allowed_type and "XLSX/XLS/ODS" in uploader.label


@pytest.mark.parametrize("name", ["门店会员.xls", "会员.ods"])
def test_upload_a_workbook_choose_its_sheet_and_confirm(app_db, tmp_path, name):
    path = write_xls(tmp_path / name) if name.endswith(".xls") else write_ods(tmp_path / name, ODS_SHEETS)
    at = app_test(app_db, "steward").run()
    at.switch_page(UPLOAD).run()
    at.text_input(key="upload_new_source").input("门店")
    at.selectbox(key="upload_channel").set_value("pos")
    at.file_uploader(key="upload_file").set_value((name, path.read_bytes(), "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="upload_sheet").options == ["会员", "其他"]
    assert "header on line 3" in texts(at) and "13800138000" not in texts(at)  # the preview is masked
    at.selectbox(key="upload_sheet").set_value("其他").run()
    assert "header on line 1" in texts(at)
    at.selectbox(key="upload_sheet").set_value("会员").run()
    at.button(key="upload_confirm").click().run()
    assert not at.exception, at.exception
    with app_db.cursor() as cur:
        assert cur.execute("SELECT file_format, sheet, row_count FROM batches").fetchall() == [
            (name.rsplit(".", 1)[1], "会员", 2)]


def test_an_order_export_maps_its_event_columns_and_the_picker_offers_event_fields(app_db):
    """Order columns are suggested as event fields (an order number never as a resident ID), and the
    field picker lists the event fields after the person fields, labelled as purchases."""
    import json
    from decimal import Decimal

    csv = "订单号,手机号,实付金额,订单状态\n440305199003071234,13800138000,\"¥1,197.60\",已退款\n".encode()
    at = app_test(app_db, "steward", "zh").run()
    at.switch_page(UPLOAD).run()
    at.text_input(key="upload_new_source").input("抖音")
    at.selectbox(key="upload_channel").set_value("douyin")
    at.file_uploader(key="upload_file").set_value(("orders.csv", csv, "text/csv")).run()
    assert not at.exception, at.exception
    [editor] = [d for d in at.dataframe if "field" in d.value.columns]
    assert editor.value["field"].tolist() == ["order_id", "mobile", "amount", "order_status"]
    options = json.loads(editor.proto.columns)["field"]["type_config"]["options"]
    labels = {o["value"]: o["label"] for o in options}
    assert labels["amount"] == "消费 · 金额" and labels["order_id"] == "消费 · 订单号" and labels["mobile"] == "手机号"
    at.button(key="upload_confirm").click().run()
    assert not at.exception, at.exception
    with app_db.cursor() as cur:
        assert cur.execute("SELECT order_id, amount, order_status FROM std_events").fetchall() == [
            ("440305199003071234", Decimal("1197.60"), "refunded")]
        assert cur.execute("SELECT id_card FROM std_records").fetchall() == [(None,)]
