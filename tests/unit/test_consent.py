"""The consent ledger: import from source columns, manual records, current state, expiry, audit, CLI."""
from __future__ import annotations

from datetime import timedelta

import pytest

from governance import cli, pipeline
from governance.oneid import resolve
from governance.privacy import consent
from governance.sources import ingest
from governance.store.errors import GovernanceError
from governance.store.util import utcnow

CRM = ("会员卡号,姓名,手机号,营销同意,最后更新时间\n"
       "M1,张伟,13867541230,是,2026-01-02 10:00:00\n"
       "M2,李娜,13912345678,否,\n"
       "M3,王芳,13512345678,,\n"
       "M4,张伟,13867541230,Y,2026-03-01 09:00:00\n")


@pytest.fixture
def ledger(db, tmp_path):
    (tmp_path / "crm.csv").write_text(CRM, encoding="utf-8")
    ingest.ingest_file(db, tmp_path / "crm.csv", actor="t", channel="crm")
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    return db


def oneid_of(db, row: int) -> str:
    with db.cursor() as cur:
        return cur.execute("SELECT oneid FROM crosswalk WHERE row_number = ?", [row]).fetchone()[0]


def test_standardization_imports_the_flag_once_per_row_as_of_the_rows_update(ledger):
    with ledger.cursor() as cur:
        rows = cur.execute("SELECT row_number, purpose, state, channel, method, evidence_ref, actor, recorded_at::VARCHAR "
                           "FROM consent_records ORDER BY row_number").fetchall()
        assert rows[0] == (1, "marketing", "granted", "crm", "source_import", "batch 1 row 1", "t", "2026-01-02 10:00:00")
        assert rows[1][:3] == (2, "marketing", "withdrawn")
        zhang = oneid_of(ledger, 1)
        assert oneid_of(ledger, 4) == zhang  # both 张伟 rows are one person: one current state
        assert consent.current(cur, zhang) == {"marketing": "granted"}
        assert consent.current(cur, oneid_of(ledger, 3)) == {}
        assert cur.execute("SELECT actor, detail FROM audit_log WHERE action = 'consent.import'").fetchall() == [
            ("t", '{"granted": 2, "records": 3, "withdrawn": 1}')]
    assert consent.import_from_sources(ledger, "alice").records == 0  # idempotent
    pipeline.standardize(ledger, "t", batch_ids=[1])  # a re-standardization imports nothing again
    with ledger.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM consent_records").fetchone()[0] == 3


def test_latest_record_wins_and_a_grant_expires(ledger):
    consent.import_from_sources(ledger, "t")
    zhang = oneid_of(ledger, 1)
    consent.withdraw(ledger, "bob", zhang, "marketing", method="verbal")
    consent.grant(ledger, "bob", zhang, "analytics", expires_at=utcnow() - timedelta(days=1))
    consent.grant(ledger, "bob", zhang, "third_party_sharing", expires_at=utcnow() + timedelta(days=30))
    with ledger.cursor() as cur:
        assert consent.current(cur, zhang) == {"marketing": "withdrawn", "analytics": "expired",
                                               "third_party_sharing": "granted"}
        assert consent.history(cur, zhang)["state"].tolist()[:3] == ["granted", "granted", "withdrawn"]
        assert len(consent.history(cur, zhang)) == 5  # two imports and three manual records
        summary = consent.summary(cur)
        assert summary.query("purpose == 'marketing'").set_index("state")["people"].to_dict() == {"withdrawn": 2}
        actions = [r[0] for r in cur.execute("SELECT action FROM audit_log WHERE action LIKE 'consent.%' "
                                             "AND action <> 'consent.import' ORDER BY id").fetchall()]
        assert actions == ["consent.withdrawn", "consent.grant", "consent.grant"]


def test_a_manual_record_follows_the_person_through_a_merge(ledger):
    li, wang = oneid_of(ledger, 2), oneid_of(ledger, 3)
    consent.grant(ledger, "t", wang, "marketing")
    with ledger.cursor() as cur:
        left, right = [r[0] for r in cur.execute(
            "SELECT rec_id FROM crosswalk WHERE row_number IN (2, 3) ORDER BY row_number").fetchall()]
        cur.execute("INSERT INTO review_decisions VALUES (1, ?, ?, 'approve', 't', now(), NULL, NULL, NULL)", [left, right])
    resolve.resolve(ledger, "t", use_model=False)
    merged = oneid_of(ledger, 3)
    assert oneid_of(ledger, 2) == merged and merged in (li, wang)
    with ledger.cursor() as cur:
        assert consent.current(cur, merged) == {"marketing": "granted"}


def test_bad_input_is_refused(ledger):
    with pytest.raises(GovernanceError, match="purpose"):
        consent.grant(ledger, "t", oneid_of(ledger, 1), "newsletter")
    with pytest.raises(GovernanceError, match="No person"):
        consent.grant(ledger, "t", "OID9999999999", "marketing")
    with pytest.raises(GovernanceError, match="method"):
        consent.grant(ledger, "t", oneid_of(ledger, 1), "marketing", method="telepathy")


def test_cli_consent_import_grant_withdraw_list(ledger, capsys):
    path = str(ledger.path)
    zhang = oneid_of(ledger, 1)
    assert cli.main(["--db", path, "consent", "import", "--actor", "ops"]) == 0
    # standardization already imported the three flags, so an explicit import finds nothing new
    assert "imported 0 consent records (0 granted, 0 withdrawn)" in capsys.readouterr().out
    assert cli.main(["--db", path, "consent", "grant", zhang, "guardian", "--method", "written", "--notice-version",
                     "v2", "--evidence", "form 7", "--expires", "2099-12-31", "--actor", "ops"]) == 0
    assert cli.main(["--db", path, "consent", "withdraw", zhang, "marketing", "--actor", "ops"]) == 0
    capsys.readouterr()
    assert cli.main(["--db", path, "consent", "list", "--oneid", zhang]) == 0
    out = capsys.readouterr().out
    assert "guardian" in out and "withdrawn" in out and "form 7" in out
    with pytest.raises(SystemExit) as refused:  # argparse's own one line and status
        cli.main(["--db", path, "consent", "grant", zhang, "marketing", "--expires", "soon"])
    assert refused.value.code == 2 and "soon is not a date" in capsys.readouterr().err
    with ledger.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM audit_log WHERE actor = 'ops' AND action LIKE 'consent.%'").fetchone()[0] == 2  # an empty import is not audited
