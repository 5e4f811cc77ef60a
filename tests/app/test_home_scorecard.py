"""Home's governance scorecard panel: measures, the trend over refreshes, the labelled download and the
flagged tags, for every role in both languages."""
from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from governance import pipeline
from governance.sources import ingest
from governance.store.util import utcnow
from governance.tags import library, scorecard
from helpers import app_test, visible_text

TITLE = {"zh": "治理记分卡", "en": "Governance scorecard"}
DUPLICATE = {"zh": "重复率", "en": "Duplicate rate"}
HEADER = {"zh": "重复率（%）", "en": "Duplicate rate (%)"}
FILE = {"zh": "治理记分卡.csv", "en": "governance-scorecard.csv"}
FLAG = {"zh": "城市等级：覆盖率下降 40.0 个百分点（90% → 50%）", "en": "City tier: coverage fell 40.0 points (90% → 50%)"}
SECRET_FLAG = {"zh": "健康关注", "en": "Health interest"}


def _run(cur, code: str, with_value: int) -> None:
    cur.execute("INSERT INTO tag_runs VALUES (nextval('tag_run_seq'), ?, 1, current_date, 'full', ?, 0.1, 100, ?, 0, "
                "NULL, NULL, 't')", [code, utcnow(), with_value])


@pytest.fixture
def scored(app_db, tmp_path):
    """Two OneIDs over four records (one across POS and CRM), two recorded refreshes, and two tags whose
    coverage fell: city_tier (normal) and a sensitive one analysts never see."""
    for name, channel, rows in (("pos", "pos", ["王芳,13912345678,11010519491231002X"]),
                                ("crm", "crm", ["王芳,13912345678,11010519491231002X",
                                                "李雷,13512345678,440524188001010014",
                                                "李雷,13512345678,440524188001010014"])):
        path = tmp_path / f"{name}.csv"
        path.write_text("姓名,手机,身份证\n" + "\n".join(rows) + "\n", encoding="utf-8")
        ingest.ingest_file(app_db, path, actor="steward", source=name, channel=channel)
    pipeline.resolve(app_db, "steward", use_model=False)
    with app_db.transaction() as cur:
        library.ensure_builtins(cur)
        for table in ("scorecard_history", "tag_runs"):  # a known history: the two runs and refreshes below
            cur.execute(f"DELETE FROM {table}")
        cur.execute("INSERT INTO tag_definitions (code, version, name_zh, name_en, category, value_type, "
                    "allowed_values, business_definition, technical_definition, owner, sensitivity, refresh_cadence, "
                    "status, builtin, created_by, created_at) VALUES ('health_interest', 1, '健康关注', "
                    "'Health interest', 'preference', 'boolean', '[]', '', ?, 'system', 'sensitive', "
                    "'every_refresh', 'published', false, 'system', ?)",
                    [json.dumps({"when": {"field": "age", "gte": 60}}), utcnow()])
        _run(cur, "city_tier", 90)
        _run(cur, "city_tier", 50)
        _run(cur, "health_interest", 90)
        _run(cur, "health_interest", 10)
        scorecard.record(cur, "resolve")
        scorecard.record(cur, "refresh")
    return app_db


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", ["admin", "steward", "analyst"])
def test_home_panel_for_every_role_and_language(scored, downloads, role, lang):
    at = app_test(scored, role, lang=lang).run()
    assert not at.exception
    assert TITLE[lang] in [s.value for s in at.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[DUPLICATE[lang]] == "50.0%"
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    trend = [c for c in charts if len(c["data"]) == 5]      # one line per measure
    assert trend and [len(trace["x"]) for trace in trend[0]["data"]] == [2] * 5   # two recorded refreshes
    assert at.download_button(key="scorecard_csv") and at.download_button(key="scorecard_xlsx")
    name, data = downloads["scorecard_csv"]
    assert name == FILE[lang]
    frame = pd.read_csv(io.BytesIO(data()), encoding="utf-8-sig")  # type: ignore[operator]
    assert list(frame[HEADER[lang]]) == [50.0, 50.0, 50.0]   # two refreshes, then now
    warnings = [w.value for w in at.warning]
    assert FLAG[lang] in warnings
    assert any(SECRET_FLAG[lang] in w for w in warnings) == (role != "analyst")  # sensitive tags: never analysts


def test_home_panel_before_any_refresh_is_recorded(scored, downloads):
    with scored.transaction() as cur:
        cur.execute("DELETE FROM scorecard_history")
        cur.execute("DELETE FROM tag_runs")
    at = app_test(scored, "analyst", lang="zh").run()
    assert not at.exception
    shown = visible_text(at)
    assert "还没有记录过刷新" in shown and "没有标签需要关注" in shown
    assert at.download_button(key="scorecard_csv")          # the measures now are still downloadable
    _, data = downloads["scorecard_csv"]
    assert len(pd.read_csv(io.BytesIO(data()), encoding="utf-8-sig")) == 1  # type: ignore[operator]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_home_with_the_panel_reads_in_one_language(scored, lang):
    from test_one_language import offences, shown, workspace_data  # the one-language check of every page

    with scored.transaction() as cur:
        scorecard.record(cur, "survivorship")  # a trigger code, shown by its label
    data = workspace_data(scored)
    at = app_test(scored, "steward", lang=lang).run()
    assert not at.exception
    found = offences(shown(at, data.headers), lang, data.values, data.headers)
    assert not found, "\n".join(found)
