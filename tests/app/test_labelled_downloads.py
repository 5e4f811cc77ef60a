"""Files for people in the UI language: the Quality page's failing records, a customer's records,
the Export page's files (labels by default, codes on request), the access package's button and file
name, and an upload of an unsupported type refused in one line."""
from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest

from governance import pipeline
from governance.golden import survivorship
from governance.jobs import runner as jobs
from governance.privacy import dsr
from governance.sources import ingest
from governance.sources.readers import SUPPORTED
from governance.standardize.normalizers import REASONS
from helpers import MOBILE, app_test, load_generated, visible_text


def fetched(downloads, key: str) -> tuple[str | None, bytes]:
    name, data = downloads[key]
    return name, data()  # type: ignore[operator]


def csv_frame(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


@pytest.fixture
def golden(app_db, tmp_path):
    load_generated(app_db, tmp_path / "d", 120, seed=5)
    survivorship.build_golden(app_db)
    return app_db


def test_quality_failing_records_download_in_chinese(app_db, tmp_path, downloads):
    path = tmp_path / "crm.csv"
    path.write_text("会员号,姓名,手机\nM1,张伟,13888888888\nM2,王芳,1391234567\nM3,李娜,13800138000\n", encoding="utf-8")
    ingest.ingest_file(app_db, path, actor="steward", channel="crm")
    pipeline.refresh_quality(app_db, "steward")
    at = app_test(app_db, "steward", lang="zh").run()
    at.switch_page("pages/quality.py").run()
    at.selectbox(key="drill_field").set_value("mobile").run()
    assert not at.exception
    name, data = fetched(downloads, "drill_csv")
    assert name == "未通过记录-手机号.csv"
    frame = csv_frame(data)
    assert list(frame.columns) == ["数据源", "批次", "行号", "原始值", "标准化值", "状态", "原因"]
    assert set(frame["状态"]) <= {"无效", "占位值", "有效（有警告）"} and "占位值" in set(frame["状态"])
    assert REASONS["MOBILE_DUMMY"][0] in set(frame["原因"]) and "MOBILE_DUMMY" not in data.decode("utf-8-sig")
    assert frame["原始值"].str.contains("*", regex=False).all()  # still masked
    assert not any(MOBILE.search(v) for v in frame["原始值"])
    name, data = fetched(downloads, "drill_xlsx")
    assert name == "未通过记录-手机号.xlsx" and b"xl/worksheets/sheet2.xml" in data  # the columns sheet


def test_customer360_records_download_in_chinese(golden, downloads):
    with golden.cursor() as cur:
        oneid = cur.execute("SELECT oneid FROM golden_records WHERE record_count > 1 ORDER BY oneid LIMIT 1").fetchone()[0]
    at = app_test(golden, "steward", lang="zh").run()
    at.switch_page("pages/customer360.py").run()
    at.text_input(key="c360_query").input(oneid).run()
    assert not at.exception
    name, data = fetched(downloads, "c360_download")
    assert name == f"{oneid}-源记录-已脱敏.csv"
    frame = csv_frame(data)
    assert {"OneID", "数据源", "归并依据", "姓名", "手机号"} <= set(frame.columns)
    assert not {"oneid", "placed_by", "name", "mobile"} & set(frame.columns)
    assert not set(frame["归并依据"]) & {"mobile_and_name", "singleton", "review"}
    assert not MOBILE.search(data.decode("utf-8-sig"))


def prepare(at, db):
    at.button(key="export_prepare").click().run()
    assert not at.exception
    jobs.runner(db).drain()
    return at.run()


def test_export_page_gives_labels_by_default_and_codes_on_request(golden):
    at = app_test(golden, "steward", lang="zh").run()
    at.switch_page("pages/export.py").run()
    assert not at.exception
    assert at.toggle(key="export_codes").value is False
    prepare(at, golden)
    exports = golden.path.parent / "exports"
    (first,) = sorted(exports.glob("*.csv"))
    header = first.read_bytes().decode("utf-8-sig").splitlines()[0]
    assert header.startswith("OneID,姓名,姓,名,手机号,") and "渠道" in header.split(",")
    manifest = json.loads((exports / f"{first.name}.manifest.json").read_text(encoding="utf-8"))
    assert manifest["labels"] is True and manifest["language"] == "zh"
    at.toggle(key="export_codes").set_value(True).run()
    prepare(at, golden)
    (second,) = set(exports.glob("*.csv")) - {first}
    assert second.read_bytes().decode("utf-8-sig").splitlines()[0].startswith("oneid,name,family_name,")
    at.selectbox(key="export_format").set_value("parquet").run()
    assert not at.exception
    assert "export_codes" not in [t.key for t in at.toggle]
    assert "Parquet 文件始终使用字段代码和原始代码。" in visible_text(at)


def test_access_package_download_reads_in_chinese(golden, downloads):
    with golden.cursor() as cur:
        oneid = cur.execute("SELECT oneid FROM golden_records ORDER BY oneid LIMIT 1").fetchone()[0]
    request_id = dsr.create(golden, "steward", "access", "申请人", oneids=[oneid])
    dsr.verify(golden, "steward", request_id, "checked")
    at = app_test(golden, "admin", lang="zh").run()
    at.switch_page("pages/requests.py").run()
    at.button(key="dsr_access").click().run()
    jobs.runner(golden).drain()
    at.run()
    assert not at.exception
    button = at.download_button(key="dsr_download")
    assert button.label == "下载查阅复制数据包（ZIP，含中文说明）"
    name, data = fetched(downloads, "dsr_download")
    assert name == f"查阅复制数据包-{request_id}.zip"
    assert zipfile.ZipFile(io.BytesIO(data)).namelist()[0] == "说明.txt"
    at = app_test(golden, "admin", lang="en").run()
    at.switch_page("pages/requests.py").run()
    assert at.download_button(key="dsr_download").label == "Download the access package (ZIP, with a plain-language summary)"


@pytest.mark.parametrize("lang, expected", [
    ("zh", "不支持 .pdf 文件，文件未保存。支持的类型：" + "、".join(e.lstrip(".") for e in SUPPORTED) + "。"),
    ("en", ".pdf files are not supported; nothing was stored. Supported types: "
           + ", ".join(e.lstrip(".") for e in SUPPORTED) + "."),
])
def test_an_unsupported_upload_is_refused_in_the_ui_language(app_db, lang, expected):
    at = app_test(app_db, "steward", lang=lang).run()
    at.switch_page("pages/upload.py").run()
    at.text_input(key="upload_new_source").input("门店")
    at.file_uploader(key="upload_file").set_value(("会员.pdf", b"%PDF-1.4 not a table", "application/pdf")).run()
    assert not at.exception
    assert [e.value for e in at.error] == [expected]
    assert not at.session_state["_staged_uploads"] if "_staged_uploads" in at.session_state else True
    assert "upload_confirm" not in [b.key for b in at.button]
    with app_db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM batches").fetchone()[0] == 0
