"""Files for people and files for systems: labelled headers and values in the UI language (golden
records, crosswalk, lineage, failing records, a customer's records), the XLSX columns sheet, Parquet
and the CLI keeping codes, the manifest saying which, and masks unchanged by labelling."""
from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from governance import cli, pipeline
from governance.exports import datasets
from governance.exports.datasets import ExportRequest
from governance.golden import customer360 as c360
from governance.golden import survivorship
from governance.oneid import resolve
from governance.privacy import consent
from governance.quality import drill
from governance.sources import ingest
from governance.standardize.normalizers import REASONS
from helpers import MOBILE

# 张伟 buys on Tmall and in the WeChat mini-program (one OneID, two channels); 李娜 only on Tmall;
# 王芳's mobile is a dummy (MOBILE_DUMMY).
TMALL = "姓名,手机号,性别\n张伟,13867541230,男\n李娜,13912345678,女\n王芳,13888888888,女\n"
WXMP = "姓名,手机号\n张伟,13867541230\n"


@pytest.fixture
def shop(db, tmp_path):
    (tmp_path / "tmall.csv").write_text(TMALL, encoding="utf-8")
    (tmp_path / "wxmp.csv").write_text(WXMP, encoding="utf-8")
    ingest.ingest_file(db, tmp_path / "tmall.csv", actor="t", channel="tmall")
    ingest.ingest_file(db, tmp_path / "wxmp.csv", actor="t", channel="wechat_mp")
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    survivorship.build_golden(db)
    consent.import_from_sources(db, "t")
    return db


def export(db, tmp_path, name: str, **kw) -> tuple[datasets.Manifest, bytes]:
    kw.setdefault("role", "steward")
    manifest = datasets.run_export(db, ExportRequest(kw.pop("dataset", "golden"), "t", format=name.rsplit(".", 1)[1], **kw),
                                  tmp_path / name)
    return manifest, (tmp_path / name).read_bytes()


def csv_frame(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def zhang(frame: pd.DataFrame, name_column: str) -> pd.Series:
    return frame[frame[name_column] == "张*"].iloc[0]


def test_golden_csv_reads_in_chinese_labels(shop, tmp_path):
    manifest, data = export(shop, tmp_path, "g.csv", labels=True, lang="zh")
    frame = csv_frame(data)
    assert list(frame.columns[:5]) == ["OneID", "姓名", "姓", "名", "手机号"]
    assert {"渠道", "渠道数", "记录数", "未成年人", "性别", "营销同意状态（同意台账）"} <= set(frame.columns)
    assert not {"name", "mobile", "channels", "is_minor", "gender"} & set(frame.columns)
    row = zhang(frame, "姓名")
    assert row["渠道"] == "天猫旗舰店、微信小程序" and row["性别"] == "男" and row["未成年人"] == "否"
    assert manifest.labels and manifest.language == "zh"
    on_disk = json.loads((tmp_path / "g.csv.manifest.json").read_text(encoding="utf-8"))
    assert on_disk["labels"] is True and on_disk["language"] == "zh"


def test_golden_csv_reads_in_english_labels(shop, tmp_path):
    _, data = export(shop, tmp_path, "g.csv", labels=True, lang="en")
    frame = csv_frame(data)
    assert {"OneID", "Name", "Mobile", "Channels", "Channel count", "Gender", "Minor"} <= set(frame.columns)
    row = zhang(frame, "Name")
    assert row["Channels"] == "Tmall store, WeChat mini-program" and row["Gender"] == "male" and row["Minor"] == "no"


def test_labels_leave_the_masks_exactly_as_they_were(shop, tmp_path):
    _, codes = export(shop, tmp_path, "codes.csv")
    _, labelled = export(shop, tmp_path, "labels.csv", labels=True, lang="zh")
    codes_frame, labelled_frame = csv_frame(codes), csv_frame(labelled)
    assert len(codes_frame) == len(labelled_frame) == 3
    for code, label in (("oneid", "OneID"), ("name", "姓名"), ("mobile", "手机号"), ("address", "详细地址")):
        assert codes_frame[code].tolist() == labelled_frame[label].tolist()
    assert "138****1230" in set(labelled_frame["手机号"]) and not MOBILE.search(labelled.decode("utf-8-sig"))


def test_crosswalk_and_lineage_label_channels_link_rules_fields_and_rules(shop, tmp_path):
    _, data = export(shop, tmp_path, "c.csv", dataset="crosswalk", labels=True, lang="zh")
    frame = csv_frame(data)
    assert {"数据源", "行号", "归并依据", "渠道"} <= set(frame.columns)
    assert set(frame["渠道"]) == {"天猫旗舰店", "微信小程序"}
    assert "手机号相同且姓名相符" in set(frame["归并依据"]) and "未与其他记录合并" in set(frame["归并依据"])
    _, data = export(shop, tmp_path, "l.csv", dataset="lineage", labels=True, lang="zh")
    frame = csv_frame(data)
    assert {"字段", "值", "取值规则"} <= set(frame.columns)
    assert {"姓名", "手机号", "性别"} <= set(frame["字段"])
    assert set(frame["取值规则"]) <= {"按渠道信任顺序", "最近更新的值", "出现最多的值", "最完整的值", "汇总全部值", "管家修正"}
    assert set(frame.loc[frame["字段"] == "性别", "值"]) == {"男", "女"}


def test_xlsx_explains_every_column_on_a_second_sheet(shop, tmp_path):
    _, data = export(shop, tmp_path, "g.xlsx", labels=True, lang="zh")
    wb = load_workbook(io.BytesIO(data), read_only=True)
    assert wb.sheetnames[1] == "字段说明"
    header, *rows = list(wb["字段说明"].iter_rows(values_only=True))
    assert header == ("列名", "字段代码", "内容", "代码与名称")
    data_header = next(wb[wb.sheetnames[0]].iter_rows(values_only=True))
    assert [r[0] for r in rows] == list(data_header)  # one row per column, in the file's order
    assert [r[1] for r in rows] == datasets.columns("golden")
    by_code = {r[1]: r for r in rows}
    assert by_code["mobile"][0] == "手机号" and "个人信息" in by_code["mobile"][2]
    assert by_code["channels"][2] and "tmall → 天猫旗舰店" in by_code["channels"][3]
    assert "1 → 男" in by_code["gender"][3] and by_code["oneid"][3] is None
    _, data = export(shop, tmp_path, "g-en.xlsx", labels=True, lang="en")
    wb = load_workbook(io.BytesIO(data), read_only=True)
    header, *rows = list(wb["Columns"].iter_rows(values_only=True))
    assert header == ("Column", "Field code", "What it holds", "Codes and labels")
    assert {r[1]: r for r in rows}["consent_marketing"][3].startswith("granted → ")


def test_parquet_keeps_codes_and_field_names_even_when_labels_are_asked_for(shop, tmp_path):
    manifest, _ = export(shop, tmp_path, "g.parquet", labels=True, lang="zh")
    table = pq.read_table(tmp_path / "g.parquet").to_pandas()
    assert list(table.columns) == datasets.columns("golden")
    assert "tmall,wechat_mp" in set(table["channels"]) and set(table["gender"].dropna()) == {"1", "2"}
    assert not manifest.labels


def test_cli_keeps_codes_unless_labels_are_asked_for(shop, tmp_path, capsys):
    path = str(shop.path)
    out = tmp_path / "g.csv"
    assert cli.main(["--db", path, "export", "golden", "--out", str(out), "--actor", "t"]) == 0
    frame = csv_frame(out.read_bytes())
    assert list(frame.columns) == datasets.columns("golden") and "tmall,wechat_mp" in set(frame["channels"])
    assert json.loads((tmp_path / "g.csv.manifest.json").read_text())["labels"] is False
    assert "codes" in capsys.readouterr().out
    out = tmp_path / "g-zh.csv"
    assert cli.main(["--db", path, "export", "golden", "--out", str(out), "--actor", "t", "--labels", "zh"]) == 0
    frame = csv_frame(out.read_bytes())
    assert frame.columns[1] == "姓名" and "天猫旗舰店、微信小程序" in set(frame["渠道"])
    assert json.loads((tmp_path / "g-zh.csv.manifest.json").read_text())["labels"] is True
    out = tmp_path / "g.parquet"
    assert cli.main(["--db", path, "export", "golden", "--out", str(out), "--actor", "t", "--labels", "zh"]) == 2
    assert "Parquet keeps" in capsys.readouterr().err and not out.exists()


def test_failing_records_download_reads_in_the_ui_language(shop):
    selected = drill.Drill("mobile")
    codes = csv_frame(drill.download(shop, "t", selected, "csv", role="steward"))
    assert list(codes.columns) == ["source", "batch_id", "row_number", "raw_value", "standardized_value", "status", "reason"]
    assert "MOBILE_DUMMY" in set(codes["reason"])
    frame = csv_frame(drill.download(shop, "t", selected, "csv", role="steward", lang="zh"))
    assert list(frame.columns) == ["数据源", "批次", "行号", "原始值", "标准化值", "状态", "原因"]
    dummy = frame[codes["reason"] == "MOBILE_DUMMY"].iloc[0]
    assert dummy["状态"] == "占位值" and dummy["原因"] == REASONS["MOBILE_DUMMY"][0]
    assert frame["原始值"].tolist() == codes["raw_value"].tolist() and not MOBILE.search(",".join(frame["原始值"]))
    english = csv_frame(drill.download(shop, "t", selected, "csv", role="steward", lang="en"))
    assert english.columns[3] == "Raw value" and REASONS["MOBILE_DUMMY"][1] in set(english["Reason"])
    wb = load_workbook(io.BytesIO(drill.download(shop, "t", selected, "xlsx", role="steward", lang="zh")), read_only=True)
    assert wb.sheetnames == ["数据", "字段说明"]
    rows = list(wb["字段说明"].iter_rows(values_only=True))[1:]
    assert [r[1] for r in rows] == list(codes.columns)
    assert "MOBILE_DUMMY → " + REASONS["MOBILE_DUMMY"][0] in {r[1]: r for r in rows}["reason"][3]


def test_customer_records_download_reads_in_the_ui_language(shop):
    with shop.cursor() as cur:
        oneid = cur.execute("SELECT oneid FROM golden_records WHERE record_count = 2").fetchone()[0]
    codes = csv_frame(c360.records_csv(shop, "t", oneid, "steward"))
    assert {"oneid", "record", "placed_by", "name", "mobile"} <= set(codes.columns)
    frame = csv_frame(c360.records_csv(shop, "t", oneid, "steward", lang="zh"))
    assert {"OneID", "数据源", "归并依据", "姓名", "手机号"} <= set(frame.columns)
    assert set(frame["归并依据"]) == {"手机号相同且姓名相符"}
    assert frame["手机号"].tolist() == codes["mobile"].tolist() and not MOBILE.search(",".join(frame["手机号"]))
