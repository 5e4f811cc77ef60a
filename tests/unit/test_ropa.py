"""The record of processing on generated data: categories, volumes, sensitive PI, purposes, recipients,
retention, and its XLSX / CSV / PIPIA exports."""
from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from openpyxl import load_workbook

from governance import pipeline
from governance.access import masking
from governance.cli import main
from governance.exports import datasets
from governance.golden import survivorship
from governance.privacy import consent, retention, ropa
from governance.sources import ingest
from governance.store.schema import BY_NAME, pii_fields
from governance.synth import make_id_card
from helpers import load_generated

MINOR_ID = make_id_card("110105", date(2016, 5, 4), 12)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from governance.store.storage import open_database

    tmp = tmp_path_factory.mktemp("ropa")
    database = open_database(tmp / "ropa.duckdb")
    load_generated(database, tmp / "w", 400, seed=11, resolve=False)
    kids = tmp / "=kids.csv"  # a source name that looks like a spreadsheet formula
    kids.write_text(f"姓名,身份证号,手机\n王小明,{MINOR_ID},13912345678\n李大明,11010519491231002X,\n", encoding="utf-8")
    ingest.ingest_file(database, kids, actor="t", channel="crm")
    travel = tmp / "travel.csv"
    travel.write_text("姓名,护照号,年龄段\n张伟,E12345678,25-30岁\n李娜,,90后\n", encoding="utf-8")
    ingest.ingest_file(database, travel, actor="t", channel="other")
    pipeline.standardize(database, "t")
    yield database
    database.close()


def test_categories_and_volumes_follow_the_mapping_and_the_standardized_records(store):
    with store.cursor() as cur:
        record = ropa.build(cur)
        std = cur.execute("SELECT * FROM std_records").df()
        rows = dict(cur.execute("SELECT source, sum(row_count)::BIGINT FROM batches GROUP BY source").fetchall())
        from governance.sources import mapping
        mapped = {s: {f for f in mapping.load(cur, s).values() if f} for s in rows}
    assert set(record.register["source"]) == set(rows) == set(record.sources["source"])
    for src, group in std.groupby("source"):
        classes = {masking.CLASS_OF[f] for f in mapped[src] if f in BY_NAME and BY_NAME[f].pii}  # event fields: no PI
        mine = record.register[record.register["source"] == src].set_index("category")
        assert set(mine.index) == classes, src
        assert len(group) == rows[src] and (mine["records"] == len(group)).all()
        for cls, row in mine.iterrows():
            held = [int((~group[f + "_status"].isin(["missing", "placeholder"])).sum())
                    for f in masking.CLASS_FIELDS[cls]]
            assert row["records_with_value"] == max(held), (src, cls)
            assert row["sensitive"] == any(BY_NAME[f].sensitive for f in masking.CLASS_FIELDS[cls])
    crm = record.register[(record.register["source"] == "crm_members") & (record.register["category"] == "mobile")]
    assert 0 < crm["records_with_value"].iloc[0] <= crm["records"].iloc[0]
    assert set(record.register["category"]) <= set(masking.CLASSES) and "gender" in set(record.register["category"])
    assert all(f in pii_fields() for fields in record.register["fields"] for f in fields.split(", "))


def test_sensitive_fields_and_minors_are_listed(store):
    with store.cursor() as cur:
        record = ropa.build(cur)
        minors = dict(cur.execute("SELECT source, count(*) FILTER (WHERE is_minor) FROM std_records GROUP BY 1").fetchall())
    sensitive = record.sensitive.set_index(["source", "category"])
    assert sensitive.loc[("=kids", "id_card"), "records_with_value"] == 2
    assert sensitive.loc[("=kids", "minors"), "records_with_value"] == minors["=kids"] == 1
    assert "Art. 28" in sensitive.loc[("=kids", "minors"), "basis"]
    assert ("crm_members", "id_card") in sensitive.index
    assert dict(zip(record.sources["source"], record.sources["minors"])) == minors
    assert record.sources.set_index("source").loc["=kids", "sensitive_categories"] == "id_card, minors"
    assert sensitive.loc[("travel", "other_id"), "records_with_value"] == 1
    assert "passport" in sensitive.loc[("travel", "other_id"), "basis"]
    register = record.register.set_index(["source", "category"])
    assert register.loc[("travel", "birth_date"), ["fields", "records_with_value", "sensitive"]].tolist() == [
        "age_band", 2, False]


def test_without_consent_exports_or_retention_they_read_not_set(store):
    with store.cursor() as cur:
        record = ropa.build(cur)
    assert set(record.register["retention"]) == {ropa.NOT_SET} and set(record.register["purposes"]) == {ropa.NOT_SET}
    assert record.purposes.empty and record.recipients.empty and record.retention.empty


def test_purposes_recipients_and_retention_come_from_the_ledger_exports_and_policies(tmp_path):
    from governance.store.storage import open_database

    database = open_database(tmp_path / "x.duckdb")
    load_generated(database, tmp_path / "w", 40, seed=5)
    survivorship.build_golden(database)
    with database.cursor() as cur:  # two people with nothing in the ledger yet
        first, second = [r[0] for r in cur.execute(
            "SELECT oneid FROM crosswalk WHERE oneid NOT IN (SELECT oneid FROM consent_current) "
            "GROUP BY oneid ORDER BY oneid LIMIT 2").fetchall()]
        source = cur.execute("SELECT min(source) FROM sources").fetchone()[0]
        before = {(p, s): n for p, s, n in ropa.build(cur).purposes.values.tolist()}
    consent.grant(database, "steward", first, "marketing")
    consent.grant(database, "steward", first, "analytics")
    consent.grant(database, "steward", second, "marketing")
    consent.withdraw(database, "steward", second, "marketing")
    rows = sum(datasets.run_export(database, datasets.ExportRequest("golden", "steward", purpose="analytics", role="steward"),
                                  tmp_path / f"export{i}.csv").row_count for i in range(2))
    retention.set_policy(database, "steward", "source", source, 730, "contract")
    with database.cursor() as cur:
        record = ropa.build(cur)
    after = {(p, s): n for p, s, n in record.purposes.values.tolist()}
    assert {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)} == {
        ("analytics", "granted"): 1, ("marketing", "granted"): 1, ("marketing", "withdrawn"): 1}
    assert record.recipients[["recipient", "purpose", "exports", "unmasked_exports", "rows"]].values.tolist() == \
        [["steward", "analytics", 2, 0, rows]]
    register = record.register.set_index("source")
    assert set(register.loc[source, "retention"]) == {"730 days"}
    assert set(record.register["purposes"]) == {"analytics, marketing"}
    stub = ropa.pipia_markdown(record)
    assert "- [x] Provision to other processors" in stub and "730" in stub
    database.close()


def test_exports_neutralize_formulas_and_hold_every_table(store):
    with store.cursor() as cur:
        record = ropa.build(cur)
        policy = masking.policy_frame(cur)
    workbook = load_workbook(io.BytesIO(ropa.to_xlsx(record)))
    assert workbook.sheetnames == ["register", "sources", "sensitive", "purposes", "recipients", "retention"]
    sources = [c.value for c in workbook["register"]["A"]][1:]
    assert "'=kids" in sources and "=kids" not in sources
    assert all(c.data_type != "f" for row in workbook["register"].iter_rows() for c in row)
    csv = pd.read_csv(io.BytesIO(ropa.to_csv(record)), encoding="utf-8-sig")
    assert len(csv) == len(record.register) and "'=kids" in set(csv["source"])
    stub = ropa.pipia_markdown(record, policy)
    assert stub.startswith("# Personal information protection impact assessment")
    assert "- [x] Sensitive personal information" in stub and "### Masking policy" in stub
    assert "| crm_members | mobile | mobile |" in stub


def test_cli_writes_each_format_and_audits(store, tmp_path, capsys):
    path = str(store.path)
    store.close()  # the CLI opens the file itself
    try:
        for fmt in ("xlsx", "csv", "md"):
            out = tmp_path / f"ropa.{fmt}"
            assert main(["--db", path, "ropa", "--out", str(out), "--actor", "dpo"]) == 0
            assert out.stat().st_size > 0
        assert "pipia" not in capsys.readouterr().err.lower()
        assert (tmp_path / "ropa.md").read_text(encoding="utf-8").startswith("# Personal information protection")
        assert main(["--db", path, "ropa", "--out", str(tmp_path / "x.txt"), "--format", "csv"]) == 0
    finally:
        from governance.store.storage import open_database
        reopened = open_database(path)
        with reopened.cursor() as cur:
            rows = cur.execute("SELECT actor, object_id FROM audit_log WHERE action = 'ropa.export' ORDER BY id").fetchall()
        reopened.close()
    assert rows[:3] == [("dpo", "xlsx"), ("dpo", "csv"), ("dpo", "md")] and rows[3][1] == "csv"


def test_the_register_follows_each_upload(db, tmp_path):
    def categories():
        with db.cursor() as cur:
            record = ropa.build(cur)
        return {(r.source, r.category): r.records_with_value for r in record.register.itertuples()}

    assert categories() == {}
    first = tmp_path / "pos.csv"
    first.write_text("姓名,手机\n张伟,13912345678\n王芳,\n", encoding="utf-8")
    ingest.ingest_file(db, first, actor="t", channel="pos")
    pipeline.standardize(db, "t")
    assert categories() == {("pos", "name"): 2, ("pos", "mobile"): 1}
    second = tmp_path / "crm.csv"
    second.write_text("邮箱,身份证号\nzhang@qq.com,11010519491231002X\n", encoding="utf-8")
    ingest.ingest_file(db, second, actor="t", channel="crm")
    pipeline.standardize(db, "t")
    assert categories() == {("pos", "name"): 2, ("pos", "mobile"): 1, ("crm", "email"): 1, ("crm", "id_card"): 1}
