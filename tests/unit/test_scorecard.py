"""The governance scorecard: measures on a hand-built store, recorded history, JSON, CLI and downloads."""
from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from governance import cli, pipeline
from governance.access import auth
from governance.privacy import consent
from governance.sources import ingest
from governance.store.util import utcnow
from governance.tags import library, scorecard

HEADER = "姓名,手机,身份证"
WANG = "王芳,13912345678,11010519491231002X"
LI = "李雷,13512345678,440524188001010014"


def load(db, tmp_path: Path, name: str, channel: str, rows: list[str]) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source=name, channel=channel)


@pytest.fixture
def store(db, tmp_path):
    """4 records, 2 OneIDs: 王芳 in POS and CRM (two channels), 李雷 twice in CRM (one channel)."""
    load(db, tmp_path, "pos", "pos", [WANG])
    load(db, tmp_path, "crm", "crm", [WANG, LI, LI])
    pipeline.resolve(db, "t", use_model=False)  # computes the tags and records a scorecard too
    auth.create_user(db, "steward", "steward", "steward-pass-123", "steward")
    with db.transaction() as cur:  # start from no computation and no recorded scorecard
        for table in ("scorecard_history", "tag_runs", "tag_values", "tag_history", "tag_inputs"):
            cur.execute(f"DELETE FROM {table}")
    return db


def oneid_of(cur, name: str) -> str:
    return cur.execute("SELECT oneid FROM golden_records WHERE name = ?", [name]).fetchone()[0]


def add_run(cur, code: str, oneids: int, with_value: int) -> None:
    cur.execute("INSERT INTO tag_runs VALUES (nextval('tag_run_seq'), ?, 1, ?, 'full', ?, 0.1, ?, ?, 0, NULL, NULL, 't')",
                [code, date(2025, 6, 30), utcnow(), oneids, with_value])


def add_value(cur, oneid: str, code: str, value: str) -> None:
    cur.execute("INSERT INTO tag_values VALUES (?, ?, ?, NULL, 1, ?, ?, NULL)", [oneid, code, value, date(2025, 6, 30),
                                                                                utcnow()])


def test_duplicate_and_identification_rate_on_a_hand_built_store(store):
    with store.cursor() as cur:
        m = scorecard.measures(cur)
    assert (m["records"], m["oneids"]) == (4, 2)
    assert m["duplicate_rate"] == pytest.approx(0.5)       # (4 − 2) / 4
    assert m["identification_rate"] == pytest.approx(0.5)  # 王芳's two records span POS and CRM; 李雷's do not
    assert m["tag_coverage"] is None                        # no tag computed yet
    assert m["consent_coverage"] == 0.0                     # nobody's marketing consent is on record
    assert m["quality_score"] is None                        # never profiled


def test_an_empty_store_has_no_rates(db):
    with db.cursor() as cur:
        m = scorecard.measures(cur)
    assert m == {"records": 0, "oneids": 0, "duplicate_rate": None, "identification_rate": None, "quality_score": None,
                 "tag_coverage": None, "consent_coverage": None}


def test_quality_tag_and_consent_coverage(store):
    pipeline.refresh_quality(store, "t")
    with store.transaction() as cur:
        library.ensure_builtins(cur)
        wang, li = oneid_of(cur, "王芳"), oneid_of(cur, "李雷")
        add_run(cur, "age_band", 2, 1)             # half the OneIDs have an age band
        add_value(cur, wang, "age_band", "60_plus")
        add_run(cur, "city_tier", 2, 2)            # all have a city tier
        add_value(cur, wang, "city_tier", "tier1")
        add_value(cur, li, "city_tier", "tier1")
        # lifecycle_stage is published but never computed: it does not count
    consent.withdraw(store, "steward", li, "marketing")  # a withdrawal is a state on record too
    consent.grant(store, "steward", wang, "analytics")   # not marketing: does not count
    with store.cursor() as cur:
        m = scorecard.measures(cur)
        score = cur.execute("SELECT score FROM profile_runs ORDER BY run_id DESC LIMIT 1").fetchone()[0]
    assert m["quality_score"] == pytest.approx(float(score)) and m["quality_score"] > 0
    assert m["tag_coverage"] == pytest.approx((0.5 + 1.0) / 2)
    assert m["consent_coverage"] == pytest.approx(0.5)


def test_record_twice_keeps_history_by_refresh(store, tmp_path):
    with store.transaction() as cur:
        first = scorecard.record(cur, "refresh")
    load(store, tmp_path, "tmall", "tmall", [LI])  # 李雷 now spans CRM and Tmall: 5 records, 2 OneIDs
    pipeline.resolve(store, "t", use_model=False)  # the pipeline records its own row in between
    with store.transaction() as cur:
        second = scorecard.record(cur, "batch 3")
        frame = scorecard.history(cur)
        report = scorecard.as_json(cur)
    assert first["duplicate_rate"] == pytest.approx(0.5) and first["identification_rate"] == pytest.approx(0.5)
    assert second["records"] == 5 and second["duplicate_rate"] == pytest.approx(3 / 5)
    assert second["identification_rate"] == pytest.approx(1.0)
    assert (frame["trigger"].iloc[0], frame["trigger"].iloc[-1]) == ("refresh", "batch 3")
    assert frame["recorded_at"].is_monotonic_increasing
    assert report["duplicate_rate"] == pytest.approx(0.6) and report["identification_rate"] == pytest.approx(1.0)
    history = report["history"]
    assert (history["duplicate_rate"][0]["value"], history["duplicate_rate"][-1]["value"]) == pytest.approx((0.5, 0.6))
    assert [h["trigger"] for h in history["identification_rate"]] == list(frame["trigger"])
    assert (history["records"][0]["value"], history["records"][-1]["value"]) == (4, 5)
    assert [r["recorded_at"] for r in report["refreshes"]] == sorted(r["recorded_at"] for r in report["refreshes"])
    json.dumps(report)  # plain JSON


def test_cli_scorecard_json(store, capsys):
    with store.transaction() as cur:
        scorecard.record(cur, "refresh")
    path = str(store.path)
    store.close()
    assert cli.main(["--db", path, "scorecard", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["duplicate_rate"] == 0.5 and report["identification_rate"] == 0.5
    assert [h["value"] for h in report["history"]["identification_rate"]] == [0.5]
    assert cli.main(["--db", path, "scorecard"]) == 0
    out = capsys.readouterr().out
    assert "duplicate rate 50.0%" in out and "refresh" in out


@pytest.mark.parametrize("lang, header, now", [("zh", "重复率（%）", "当前"), ("en", "Duplicate rate (%)", "now")])
def test_downloads_are_labelled_in_the_ui_language(store, lang, header, now):
    with store.transaction() as cur:
        scorecard.record(cur, "refresh")
        csv = scorecard.to_csv(cur, lang)
        xlsx = scorecard.to_xlsx(cur, lang)
    frame = pd.read_csv(io.BytesIO(csv))
    assert header in frame.columns
    assert list(frame[header]) == [50.0, 50.0]               # the recorded refresh, then now, in percent
    assert frame.iloc[-1, 1] == now
    sheets = pd.read_excel(io.BytesIO(xlsx), sheet_name=None)
    assert len(sheets) == 2 and header in next(iter(sheets.values())).columns
