"""Survivorship rules, their tie order, and lineage."""
from __future__ import annotations

from pathlib import Path

import pytest

from governance import ingest
from governance.golden import survivorship as sv
from governance.oneid import resolve
from governance.standardize import engine

ID = "11010519491231002X"  # a woman born 1949-12-31


def load(db, tmp_path: Path, name: str, channel: str, rows: list[str]) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text("姓名,手机,身份证,邮箱,生日,性别,详细地址,更新时间\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source=name, channel=channel)


@pytest.fixture
def golden(db, tmp_path):
    load(db, tmp_path, "pos", "pos", [f"王芳,13912345678,{ID},wf@qq.com,1950-01-01,男,北京朝阳区,2024-05-01 10:00:00"])
    load(db, tmp_path, "crm", "crm", [f"王 芳,13512345678,{ID},wf@163.com,,女,北京市朝阳区建国路88号1号楼,2023-01-01 09:00:00",
                                       f"王芳芳,13912345678,{ID},无,,,,2022-01-01 09:00:00"])
    engine.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    assert sv.build_golden(db) == 1
    with db.cursor() as cur:
        row = cur.execute("SELECT * FROM golden_records").df().iloc[0]
        lineage = sv.lineage(cur, row["oneid"]).set_index("field")
    return row, lineage


def test_source_priority_with_tie_order(golden):
    row, lineage = golden
    assert row["name"] == "王芳"                     # CRM beats POS; within CRM the newest batch, then row order
    assert lineage.loc["name", "source"] == "crm" and lineage.loc["name", "rule"] == "source_priority"
    assert set(lineage.loc["name", "competing"]) == {"王芳芳"}


def test_id_derived_values_beat_typed_ones(golden):
    row, lineage = golden
    assert row["birth_date"] == "1949-12-31" and row["gender"] == "2"
    assert "1950-01-01" in list(lineage.loc["birth_date", "competing"])


def test_aggregate_keeps_every_valid_value(golden):
    row, lineage = golden
    assert row["mobile"] == "13512345678 | 13912345678"
    assert list(lineage.loc["email", "competing"]) == ["wf@163.com", "wf@qq.com"]   # the placeholder 无 never competes


def test_most_complete_and_most_recent(golden):
    row, lineage = golden
    assert row["address"].startswith("北京市朝阳区建国路88号") and lineage.loc["address", "rule"] == "most_complete"
    assert lineage.loc["updated_at", "source"] == "pos"                            # the latest update wins


def test_profile_attributes(golden):
    row, _ = golden
    assert (row["record_count"], row["channel_count"], list(row["channels"])) == (3, 2, ["crm", "pos"])
    assert 0 < row["completeness"] < 1 and not row["is_minor"]


def test_most_frequent_and_custom_rules(db, golden):
    sv.build_golden(db, {"mobile": sv.SurvivorshipRule("mobile", "most_frequent"),
                         "name": sv.SurvivorshipRule("name", "source_priority", ("pos", "crm"))})
    with db.cursor() as cur:
        name, mobile = cur.execute("SELECT name, mobile FROM golden_records").fetchone()
    assert mobile == "13912345678" and name == "王芳"
    with pytest.raises(ValueError):
        sv.build_golden(db, {"name": sv.SurvivorshipRule("name", "loudest")})
    with pytest.raises(ValueError):
        sv.build_golden(db, {"name": sv.SurvivorshipRule("name", "source_priority", ("crm' OR 1=1 --",))})
