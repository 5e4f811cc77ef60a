"""Low-risk classes in the default masking policy: gender, province and city reach every
role, so exports can be segmented; an address stays masked. A store that already holds data keeps
the policy it has (migration 15 touches only new stores)."""
from __future__ import annotations

import io

import duckdb
import pandas as pd
import pytest

from governance import pipeline
from governance.access import auth, masking
from governance.exports import datasets
from governance.exports.datasets import ExportRequest
from governance.golden import survivorship
from governance.oneid import resolve
from governance.sources import ingest
from governance.store import migrations
from governance.store.storage import open_database

CRM = ("会员卡号,姓名,手机号,性别,省份,城市,区县,地址\n"
       "M1,张伟,13867541230,男,北京,北京市,朝阳区,北京市朝阳区建国路1号\n"
       "M2,李娜,13912345678,女,广东,广州市,天河区,广东省广州市天河区体育西路3号\n")


@pytest.fixture
def store(db, tmp_path):
    (tmp_path / "crm.csv").write_text(CRM, encoding="utf-8")
    ingest.ingest_file(db, tmp_path / "crm.csv", actor="t", channel="crm")
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    survivorship.build_golden(db)
    return db


@pytest.mark.parametrize("role", auth.ROLES)
def test_a_new_store_shows_gender_to_every_role(db, role):
    with db.cursor() as cur:
        policy = masking.load_policy(cur)
    assert policy.rule("gender", role) == masking.Rule("full")
    assert masking.mask_value("gender", "2", role, policy) == "2"
    assert masking.mask_value("address", "北京市朝阳区建国路88号", role, policy) == "北京市朝阳区*****"
    assert masking.mask_value("province", "北京", role, policy) == "北京"   # not a personal-data field
    assert masking.mask_value("mobile", "13812341234", role, policy) == "138****1234"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_analysts_masked_export_shows_gender_province_and_city_and_masks_the_address(store, tmp_path, fmt):
    out = tmp_path / f"golden.{fmt}"
    manifest = datasets.run_export(store, ExportRequest("golden", "analyst", format=fmt, role="analyst"), out)
    assert manifest.masked
    if fmt == "xlsx":
        frame = pd.read_excel(out, dtype=str).fillna("")
    else:
        frame = pd.read_csv(io.BytesIO(out.read_bytes()), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    rows = frame.set_index("name")[["gender", "province", "city", "district", "address", "mobile"]].to_dict("index")
    assert rows["张*"]["gender"] == "1" and rows["李*"]["gender"] == "2"          # GB/T 2261.1 codes, not "*"
    assert (rows["张*"]["province"], rows["张*"]["city"], rows["张*"]["district"]) == ("北京市", "北京市", "朝阳区")
    assert rows["张*"]["address"] == "北京市朝阳区*****" and rows["李*"]["address"].endswith("*****")
    assert rows["张*"]["mobile"] == "138****1230"


def test_a_store_with_data_keeps_its_gender_rule(tmp_path):
    """A store made before migration 15 that holds a batch: its gender rule stays as stored."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
                "applied_at TIMESTAMP NOT NULL DEFAULT now()::TIMESTAMP)")
    for migration in migrations.migrations()[:14]:
        con.execute(migration.sql)
        con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [migration.version, migration.name])
    con.execute("INSERT INTO batches VALUES (1, 'crm', 'crm', 'crm.csv', 'csv', 'utf-8', NULL, 'x', 1, 1, 1, 1, "
                "'raw_1', 't', now()::TIMESTAMP, NULL)")
    con.close()
    db = open_database(path)
    try:
        with db.cursor() as cur:
            policy = masking.load_policy(cur)
            assert cur.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] >= 15
        assert {policy.rule("gender", role) for role in auth.ROLES} == {masking.Rule("partial")}
        assert masking.mask_value("gender", "2", "analyst", policy) == "*"
    finally:
        db.close()
