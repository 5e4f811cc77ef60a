"""Exports (golden, crosswalk, lineage): masking in every format, unmasked rules, consent, minors,
the sensitive-field rule, formula neutralization, manifests and the CLI."""
from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import datetime

import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from governance import cli, pipeline
from governance.exports import datasets
from governance.exports.datasets import ExportFilter, ExportRequest
from governance.golden import survivorship
from governance.oneid import resolve
from governance.privacy import consent
from governance.sources import ingest
from governance.store import tabular
from governance.store.errors import GovernanceError, PermissionDenied
from helpers import ID_NUMBER, MOBILE, mask_exports_in_python

# Five people in two channels. 张伟 is an adult with marketing consent and two mobiles; 李娜 is a
# minor (born 2016) with marketing consent; 王芳 refused marketing; 赵敏 gave none; 欧阳娜娜 is an
# adult with consent whose name and address start with formula characters.
CRM = ("会员卡号,姓名,手机号,身份证号,营销同意,省份,地址\n"
       "M1,张伟,13867541230,11010519491231002X,是,北京,北京市朝阳区建国路1号\n"
       "M2,李娜,13912345678,110105201601010014,是,上海,上海市徐汇区漕溪北路2号\n"
       "M3,王芳,13512345678,,否,广东,广东省广州市天河区体育西路3号\n"
       "M4,赵敏,13612345678,,,浙江,浙江省杭州市西湖区文三路4号\n"
       "M5,欧阳娜娜,13712345678,,是,,=HYPERLINK(\"http://x\")\n")
POS = "会员卡号,姓名,手机号\nP1,张伟,13867541231\n"


def oneid_of(db, mobile: str) -> str:
    with db.cursor() as cur:
        return cur.execute("SELECT oneid FROM golden_records WHERE contains(mobile, ?)", [mobile]).fetchone()[0]


@pytest.fixture
def people(db, tmp_path):
    (tmp_path / "crm.csv").write_text(CRM, encoding="utf-8")
    (tmp_path / "pos.csv").write_text(POS, encoding="utf-8")
    ingest.ingest_file(db, tmp_path / "crm.csv", actor="t", channel="crm")
    ingest.ingest_file(db, tmp_path / "pos.csv", actor="t", channel="pos")
    pipeline.standardize(db, "t")
    # the two 张伟 rows share a name but not a mobile: join them by a steward approval
    with db.cursor() as cur:
        left, right = [r[0] for r in cur.execute(
            "SELECT batch_id * 4294967296 + row_number FROM std_records WHERE name = '张伟' ORDER BY batch_id").fetchall()]
        cur.execute("INSERT INTO review_decisions VALUES (1, ?, ?, 'approve', 't', now(), NULL, NULL, NULL)", [left, right])
    resolve.resolve(db, "t", use_model=False)
    survivorship.build_golden(db)
    consent.import_from_sources(db, "t")
    return db


def export(db, tmp_path, name="out.csv", **kw) -> tuple[datasets.Manifest, bytes]:
    fmt = name.rsplit(".", 1)[1]
    manifest = datasets.run_export(db, ExportRequest(kw.pop("dataset", "golden"), kw.pop("actor", "t"), format=fmt, **kw),
                                  tmp_path / name)
    return manifest, (tmp_path / name).read_bytes()


def csv_frame(data: bytes) -> pd.DataFrame:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def xlsx_rows(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def all_text(fmt: str, data: bytes) -> str:
    if fmt == "csv":
        return data.decode("utf-8-sig")
    if fmt == "xlsx":
        return "\n".join(" ".join(str(v) for v in row if v is not None) for row in xlsx_rows(data))
    return pq.read_table(io.BytesIO(data)).to_pandas().to_string()


def test_golden_has_one_row_per_oneid_with_derived_attributes(people, tmp_path):
    manifest, data = export(people, tmp_path)
    frame = csv_frame(data)
    assert manifest.row_count == len(frame) == 5 and frame["oneid"].is_unique
    zhang = frame[frame["name"] == "张*"].iloc[0]
    assert zhang["record_count"] == "2" and zhang["channels"] == "crm,pos" and zhang["consent_marketing"] == "granted"
    assert zhang["mobile"] == "138****1230 | 138****1231"  # every value of a multi-valued field masked
    assert set(frame.columns) >= {"is_minor", "completeness", "first_seen", "last_seen", "channel_count"}


# Datasets of personal fields; tag values carry none (their masking: tests/unit/test_tags_pipeline.py).
PERSON_DATASETS = [d for d in datasets.DATASETS if d != "tag_values"]


@pytest.mark.parametrize("dataset", PERSON_DATASETS)
@pytest.mark.parametrize("fmt", tabular.FORMATS)
def test_every_format_and_dataset_is_masked_by_default(people, tmp_path, dataset, fmt):
    manifest, data = export(people, tmp_path, f"x.{fmt}", dataset=dataset)
    assert manifest.masked and manifest.row_count > 0
    text = all_text(fmt, data)
    assert not MOBILE.search(text) and not ID_NUMBER.search(text)
    if fmt != "parquet":  # the raw bytes too (parquet pages are compressed, so read its values above)
        assert b"13867541230" not in data and b"11010519491231002X" not in data
    if dataset != "crosswalk":
        assert "138****1230" in text


def test_unmasked_needs_the_role_and_a_purpose_and_is_audited(people, tmp_path):
    with pytest.raises(PermissionDenied):
        export(people, tmp_path, masked=False, purpose="audit sample", role="analyst")
    with pytest.raises(GovernanceError, match="purpose"):
        export(people, tmp_path, masked=False, role="steward")
    assert not (tmp_path / "out.csv").exists()
    manifest, data = export(people, tmp_path, masked=False, purpose="audit sample", role="steward", actor="steward")
    assert "13867541230 | 13867541231" in data.decode("utf-8-sig")
    with people.cursor() as cur:
        rows = cur.execute("SELECT actor, action, object_id, detail FROM audit_log WHERE action LIKE 'export.%'").fetchall()
    assert [(a, act, oid) for a, act, oid, _ in rows] == [("steward", "export.unmasked", str(manifest.id))]
    assert json.loads(rows[0][3])["purpose"] == "audit sample"


def test_marketing_excludes_no_consent_refusals_and_minors_unless_a_guardian_consents(people, tmp_path):
    def names(**kw):
        return sorted(csv_frame(export(people, tmp_path, masked=False, role="steward", **kw)[1])["name"])

    assert names(purpose="audit") == ["张伟", "李娜", "欧阳娜娜", "王芳", "赵敏"]
    assert names(purpose="marketing: 618 SMS") == ["张伟", "欧阳娜娜"]  # 李娜 is a minor, 王芳 refused, 赵敏 never said
    consent.grant(people, "steward", oneid_of(people, "13912345678"), consent.GUARDIAN, method="written")
    assert names(purpose="marketing") == ["张伟", "李娜", "欧阳娜娜"]
    with people.cursor() as cur:
        assert datasets.count_rows(cur, ExportRequest("golden", "t", purpose="marketing")) == 3


def test_withdrawal_removes_the_person_from_the_next_marketing_export_at_once(people, tmp_path):
    zhang = oneid_of(people, "13867541230")
    first = csv_frame(export(people, tmp_path, purpose="marketing")[1])
    assert zhang in set(first["oneid"])
    consent.withdraw(people, "steward", zhang, "marketing", method="electronic", evidence_ref="ticket 42")
    second = csv_frame(export(people, tmp_path, purpose="marketing")[1])
    assert zhang not in set(second["oneid"]) and len(second) == len(first) - 1
    consent.import_from_sources(people, "t")  # a re-import does not bring the old grant back
    assert zhang not in set(csv_frame(export(people, tmp_path, purpose="marketing")[1])["oneid"])
    # the crosswalk and lineage follow the same rule
    assert zhang not in set(csv_frame(export(people, tmp_path, dataset="crosswalk", purpose="marketing")[1])["oneid"])
    assert zhang not in set(csv_frame(export(people, tmp_path, dataset="lineage", purpose="marketing")[1])["oneid"])
    with people.cursor() as cur:
        assert cur.execute("SELECT actor, object_id FROM audit_log WHERE action = 'consent.withdrawn'").fetchall() == [
            ("steward", zhang)]


def test_a_sensitive_field_needs_its_separate_consent_for_any_purpose(people, tmp_path):
    zhang = oneid_of(people, "13867541230")

    def ids(dataset="golden"):
        frame = csv_frame(export(people, tmp_path, dataset=dataset, masked=False, role="admin", purpose="audit")[1])
        if dataset == "lineage":
            frame = frame[frame["field"] == "id_card"]
            return set(frame["value"]) - {""}
        return set(frame["id_card"]) - {""}

    assert ids() == set() and ids("lineage") == set()
    consent.grant(people, "admin", zhang, "sensitive_id_card", method="written", notice_version="v3")
    assert ids() == {"11010519491231002X"} and ids("lineage") == {"11010519491231002X"}
    masked = csv_frame(export(people, tmp_path)[1])  # no purpose, masked: the masked form stays
    assert "110105********002X" in set(masked["id_card"])


def test_another_id_number_is_sensitive_and_masked_and_an_age_band_is_shown(db, tmp_path):
    (tmp_path / "t.csv").write_text("姓名,手机号,护照号,年龄段\n张伟,13867541230,E12345678,25-30岁\n", encoding="utf-8")
    pipeline.load_file(db, "t", tmp_path / "t.csv", channel="crm")
    pipeline.resolve(db, "t", use_model=False)

    def row(**kw) -> tuple[str, str]:
        frame = csv_frame(export(db, tmp_path, **kw)[1])
        return frame.loc[0, "other_id"], frame.loc[0, "age_band"]

    assert row() == ("E*****678", "25-30")  # masked by default: the other_id class keeps 1 + 3
    assert row(masked=False, role="admin", purpose="audit") == ("", "25-30")  # withheld without the separate consent
    consent.grant(db, "admin", oneid_of(db, "13867541230"), "sensitive_id_card", method="written", notice_version="v3")
    assert row(masked=False, role="admin", purpose="audit") == ("E12345678", "25-30")


def test_filters_fields_and_count(people, tmp_path):
    def run(**kw):
        request = ExportRequest("golden", "t", **kw)
        with people.cursor() as cur:
            count = datasets.count_rows(cur, request)
        frame = csv_frame(export(people, tmp_path, **kw)[1])
        assert count == len(frame)
        return frame

    assert len(run(filter=ExportFilter(channels=("pos",)))) == 1
    assert sorted(run(filter=ExportFilter(provinces=("浙江省", "广东省")))["name"]) == ["王*", "赵*"]
    assert len(run(filter=ExportFilter(consent="marketing"))) == 3
    assert len(run(filter=ExportFilter(min_completeness=1.0))) == 0
    assert list(run(fields=("oneid", "province")).columns) == ["oneid", "province"]
    with pytest.raises(GovernanceError, match="Unknown fields"):
        run(fields=("oneid", "password"))
    with pytest.raises(GovernanceError, match="Unknown consent purpose"):
        run(filter=ExportFilter(consent="marketing) OR (true"))


def test_formulas_are_neutralized_and_round_trip_through_openpyxl(people, tmp_path):
    kw = dict(masked=False, role="steward", purpose="audit", fields=("oneid", "name", "address"))
    _, data = export(people, tmp_path, "f.xlsx", **kw)
    rows = xlsx_rows(data)
    cells = [c for row in rows for c in row if isinstance(c, str)]
    assert "'=HYPERLINK(\"http://x\")" in cells
    wb = load_workbook(io.BytesIO(data))
    assert all(c.data_type != "f" for row in wb.active.iter_rows() for c in row)
    text = csv_frame(export(people, tmp_path, "f.csv", **kw)[1])
    assert "'=HYPERLINK(\"http://x\")" in set(text["address"])
    frame = pd.DataFrame({"a": ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "ok", None]})
    wb = load_workbook(io.BytesIO(tabular.to_xlsx_bytes(frame)))
    values = [c.value for c in wb.active["A"]][1:]
    # XML stores a CR as a line feed; the quote prefix is what matters
    assert values[:5] == ["'=1+1", "'+1", "'-1", "'@x", "'\tx"] and values[5] in ("'\rx", "'\nx") and values[6] == "ok"
    assert all(c.data_type == "s" for c in wb.active["A"] if c.value is not None)
    back = pd.read_csv(io.BytesIO(tabular.to_csv_bytes(frame)), encoding="utf-8-sig", dtype=str)["a"].tolist()
    assert back[:7] == ["'=1+1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "ok"]


def test_manifest_file_row_and_checksum(people, tmp_path):
    flt = ExportFilter(channels=("crm",), min_completeness=0.1)
    manifest, data = export(people, tmp_path, "m.parquet", filter=flt, fields=("oneid", "mobile"), purpose="analytics",
                            actor="steward", role="steward")
    on_disk = json.loads((tmp_path / "m.parquet.manifest.json").read_text(encoding="utf-8"))
    assert on_disk["sha256"] == hashlib.sha256(data).hexdigest() == manifest.sha256
    assert on_disk | {"created_at": None} == {
        "id": 1, "file": "m.parquet", "dataset": "golden", "format": "parquet", "actor": "steward", "role": "steward",
        "created_at": None, "purpose": "analytics", "consent_purpose": "analytics", "masked": True,
        "fields": ["oneid", "mobile"], "filter": {"channels": ["crm"], "min_completeness": 0.1},
        "rules": ["masked", "consent:analytics=granted", "minors_under_14:guardian_consent",
                  "sensitive:id_card:sensitive_id_card", "sensitive:other_id:sensitive_id_card"],
        "row_count": 0, "bytes": len(data), "sha256": manifest.sha256, "labels": False, "language": "zh"}
    assert pq.read_table(tmp_path / "m.parquet").column_names == ["oneid", "mobile"]  # empty, with its schema
    with people.cursor() as cur:
        row = cur.execute("SELECT purpose, actor, dataset, row_count, masked, fields, filter, checksum, file_name "
                          "FROM export_manifests").fetchall()
    assert row == [("analytics", "steward", "golden", 0, True, ["oneid", "mobile"],
                    '{"channels": ["crm"], "min_completeness": 0.1}', manifest.sha256, "m.parquet")]


def test_export_streams_in_chunks_with_progress(people, tmp_path):
    seen = []
    manifest = datasets.run_export(people, ExportRequest("lineage", "t"), tmp_path / "l.csv",
                                  progress=lambda done, total: seen.append((done, total)), chunk_rows=4)
    assert len(seen) > 2 and seen[-1] == (manifest.row_count, manifest.row_count)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(csv_frame((tmp_path / "l.csv").read_bytes())) == manifest.row_count  # one header only


def test_no_golden_records_yet_is_a_clear_error(db, tmp_path):
    with pytest.raises(GovernanceError, match="no golden records"):
        datasets.run_export(db, ExportRequest("golden", "t"), tmp_path / "g.csv")


def test_cli_export_golden_masked_unmasked_and_marketing(people, tmp_path, capsys):
    from governance.access import auth

    auth.create_user(people, "t", "sam", "steward-pass-123", "steward")
    auth.create_user(people, "t", "ann", "analyst-pass-123", "analyst")
    path = str(people.path)
    out = tmp_path / "g.xlsx"
    assert cli.main(["--db", path, "export", "golden", "--out", str(out), "--fields", "oneid,name,mobile",
                     "--filter", "channel=crm,pos", "--actor", "ann"]) == 0
    rows = xlsx_rows(out.read_bytes())
    assert rows[0] == ("oneid", "name", "mobile") and len(rows) == 6
    assert not MOBILE.search(all_text("xlsx", out.read_bytes()))
    assert json.loads((tmp_path / "g.xlsx.manifest.json").read_text())["format"] == "xlsx"
    out = tmp_path / "g.csv"
    assert cli.main(["--db", path, "export", "golden", "--out", str(out), "--unmasked", "--purpose", "x",
                     "--actor", "ann"]) == 2
    assert "pii.unmasked" in capsys.readouterr().err
    assert cli.main(["--db", path, "export", "golden", "--out", str(out), "--unmasked", "--purpose", "marketing",
                     "--actor", "sam"]) == 0
    assert sorted(csv_frame(out.read_bytes())["name"]) == ["张伟", "欧阳娜娜"]
    assert "unmasked" in capsys.readouterr().out


@pytest.mark.parametrize("dataset", PERSON_DATASETS)
def test_masking_in_sql_writes_the_same_file_as_masking_in_python(people, tmp_path, monkeypatch, dataset):
    """The masks run in the export's SQL; a role whose policy mixes methods, kept lengths and the
    keyed hash gets byte for byte the file the Python masks write."""
    from governance.access import masking

    for cls, method, start, end in (("mobile", "partial", 2, 2), ("name", "hidden", None, None),
                                    ("address", "full", None, None), ("wechat_id", "partial", 0, 6),
                                    ("id_card", "hash", None, None)):
        masking.set_rule(people, "admin", cls, "analyst", method, start, end)
    request = dict(dataset=dataset, role="analyst")
    _, in_sql = export(people, tmp_path, "sql.csv", **request)
    mask_exports_in_python(monkeypatch.setattr, people, dataset, "analyst")
    _, in_python = export(people, tmp_path, "python.csv", **request)
    assert in_sql == in_python and b"13867541230" not in in_sql
    if dataset != "crosswalk":
        assert "13*******30".encode() in in_sql and "欧阳娜娜".encode() not in in_sql
        assert re.search(rb'"[0-9a-f]{16}"', in_sql)  # a keyed hash of an ID number


def test_a_list_cell_that_joins_into_a_formula_is_neutralized_and_numbers_are_not():
    from governance.store import tabular

    frame = pd.DataFrame({"competing": [["=1+1", "+cmd|' /C calc'!A0"], ["x"]], "n": [-5, 3]})
    lines = tabular.to_csv_bytes(frame).decode("utf-8-sig").splitlines()
    assert lines[1].startswith("\"'=1+1 | ") and lines[1].endswith(",\"-5\"") and lines[2].startswith("\"x\"")


def test_two_exports_in_one_second_get_two_files(people):
    """The file name has the time to the second: a second export then (another steward's, say) gets
    its own file instead of failing on the first one's."""
    when = datetime(2026, 12, 5, 9, 30, 0)
    request = ExportRequest("golden", "alice", format="csv")
    first, _ = datasets.export_to_dir(people, request, when=when)
    second, manifest = datasets.export_to_dir(people, ExportRequest("golden", "bob", format="csv"), when=when)
    assert first.name == "steward-golden-20261205-093000-masked.csv"
    assert second.name == "steward-golden-20261205-093000-masked-2.csv" and manifest.file == second.name
    assert first.read_bytes() != b"" and second.is_file()
