"""Tag health: PSI, the coverage-drop and drift flags, the summary per tag, and the health charts.

Health only reads: the tests write tag_runs and tag_values rows as a computation would."""
from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from governance.store.schema import channel_label
from governance.store.util import utcnow
from governance.tags import compute, health, library
from governance.tags.definitions import TagDefinition
from governance.ui import charts

AS_OF = date(2025, 6, 30)


@pytest.fixture
def cur(db):
    with db.transaction() as c:
        library.ensure_builtins(c)
        yield c


def add_run(cur, code: str, run_id: int, oneids: int, with_value: int, psi: float | None = None,
            as_of: date = AS_OF, started_at: datetime | None = None, distribution: dict | None = None) -> None:
    cur.execute("INSERT INTO tag_runs VALUES (?, ?, 1, ?, 'full', ?, 0.1, ?, ?, 0, ?, ?, 't')",
                [run_id, code, as_of, started_at or utcnow(), oneids, with_value,
                 json.dumps(distribution) if distribution else None, psi])


def add_values(cur, code: str, values: dict[str, int], start: int = 0) -> None:
    n = start
    for value, count in values.items():
        for _ in range(count):
            cur.execute("INSERT INTO tag_values VALUES (?, ?, ?, NULL, 1, ?, ?, NULL)",
                        [f"O{n:04d}", code, value, AS_OF, utcnow()])
            n += 1


def add_sensitive_tag(cur, code: str = "health_interest") -> None:
    cur.execute("INSERT INTO tag_definitions (code, version, name_zh, name_en, category, value_type, allowed_values, "
                "business_definition, technical_definition, owner, sensitivity, refresh_cadence, status, builtin, "
                "created_by, created_at) VALUES (?, 1, '健康关注', 'Health interest', 'preference', 'boolean', '[]', "
                "'', ?, 'system', 'sensitive', 'every_refresh', 'published', false, 'system', ?)",
                [code, json.dumps({"when": {"field": "age", "gte": 60}}), utcnow()])


# ---- PSI ------------------------------------------------------------------------------------------

def test_psi_on_a_hand_example():
    # (0.7 − 0.5)·ln(0.7/0.5) + (0.3 − 0.5)·ln(0.3/0.5) = 0.2·0.33647 + 0.2·0.51083
    assert compute.psi([0.5, 0.5], [0.7, 0.3]) == pytest.approx(0.169460, abs=1e-6)
    assert compute.psi([0.25, 0.75], [0.25, 0.75]) == 0.0


def test_psi_floors_an_empty_bin():
    expected = (0.5 - 1e-4) * math.log(0.5 / 1e-4) + (0.5 - 1.0) * math.log(0.5 / 1.0)
    assert compute.psi([1.0, 0.0], [0.5, 0.5]) == pytest.approx(expected)


def test_run_distribution_reads_objects_and_lists():
    assert health.run_distribution('{"active": 0.6, "dormant": 0.4}') == {"active": 0.6, "dormant": 0.4}
    assert health.run_distribution([{"value": "a", "oneids": 3}, {"bin": "1", "share": 0.5}]) == {"a": 3.0, "1": 0.5}
    stored = {"kind": "shares", "counts": {"active": 3, "new": 1}, "shares": {"active": 0.75, "new": 0.25}, "total": 4}
    assert health.run_distribution(json.dumps(stored)) == {"active": 0.75, "new": 0.25}
    deciles = {"kind": "deciles", "edges": [10, 10, 20], "counts": [2, 0, 1, 1], "shares": [0.5, 0, 0.25, 0.25]}
    assert health.run_distribution(deciles) == {"≤ 10": 0.5, "≤ 20": 0.25, "> 20": 0.25}


# ---- flags ------------------------------------------------------------------------------------------

def test_coverage_drop_flag_fires_at_11_points_not_at_9(cur):
    add_run(cur, "age_band", 1, 100, 61)
    add_run(cur, "age_band", 2, 100, 50)       # 61% → 50%: 11 points
    add_run(cur, "city_tier", 3, 100, 61)
    add_run(cur, "city_tier", 4, 100, 52)      # 61% → 52%: 9 points
    add_run(cur, "lifecycle_stage", 5, 100, 50)
    add_run(cur, "lifecycle_stage", 6, 100, 70)  # rose
    flagged = health.flags(cur)
    assert [f["code"] for f in flagged] == ["age_band"]
    flag = flagged[0]
    assert flag["reasons"] == ["coverage_drop"] and flag["drop_points"] == pytest.approx(11.0)
    assert (flag["coverage_before"], flag["coverage"], flag["run_id"]) == (0.61, 0.5, 2)
    assert "11.0" in health.flag_text(flag, "en") and "年龄段" in health.flag_text(flag, "zh")


def test_psi_flag_fires_at_026_not_at_02(cur):
    add_run(cur, "age_band", 1, 100, 60)
    add_run(cur, "age_band", 2, 100, 60, psi=0.26)
    add_run(cur, "city_tier", 3, 100, 60)
    add_run(cur, "city_tier", 4, 100, 60, psi=0.2)
    flagged = health.flags(cur)
    assert [(f["code"], f["reasons"], f["psi"]) for f in flagged] == [("age_band", ["psi"], 0.26)]
    assert "0.26" in health.flag_text(flagged[0], "en")


def test_only_the_latest_pair_of_runs_counts(cur):
    add_run(cur, "age_band", 1, 100, 90)
    add_run(cur, "age_band", 2, 100, 50, psi=0.9)   # a drop and drift, since recovered
    add_run(cur, "age_band", 3, 100, 52, psi=0.01)
    add_run(cur, "city_tier", 4, 100, 20, psi=0.3)  # a first run can drift against nothing: PSI still counts
    assert [(f["code"], f["reasons"]) for f in health.flags(cur)] == [("city_tier", ["psi"])]


def test_refreshes_within_a_day_compare_with_the_day_before(cur):
    """Two 6-point drops on one as-of date add up against the previous date's last run."""
    day_before = AS_OF - timedelta(days=1)
    add_run(cur, "age_band", 1, 100, 90, as_of=day_before)
    add_run(cur, "age_band", 2, 100, 80, as_of=day_before)
    add_run(cur, "age_band", 3, 100, 74)
    add_run(cur, "age_band", 4, 100, 68)
    flagged = health.flags(cur)
    assert [(f["code"], f["coverage_before"], f["coverage"]) for f in flagged] == [("age_band", 0.8, 0.68)]
    assert health.summary(cur, "steward").set_index("code").loc["age_band", "coverage_before"] == 0.8


def test_flags_leave_out_tags_the_role_may_not_view_and_retired_ones(cur):
    add_sensitive_tag(cur)
    add_run(cur, "health_interest", 1, 100, 90)
    add_run(cur, "health_interest", 2, 100, 10)
    add_run(cur, "age_band", 3, 100, 90)
    add_run(cur, "age_band", 4, 100, 10)
    cur.execute("UPDATE tag_definitions SET status = 'retired' WHERE code = 'age_band'")
    assert [f["code"] for f in health.flags(cur)] == ["health_interest"]
    assert [f["code"] for f in health.flags(cur, "steward")] == ["health_interest"]
    assert health.flags(cur, "analyst") == []


# ---- summary ---------------------------------------------------------------------------------------

def test_summary_per_tag(cur):
    add_run(cur, "lifecycle_stage", 1, 10, 10, as_of=AS_OF - timedelta(days=1))
    add_run(cur, "lifecycle_stage", 2, 10, 8, psi=0.12)
    add_values(cur, "lifecycle_stage", {"active": 4, "dormant": 2, "churned": 1, "new": 1})
    add_run(cur, "rfm_monetary_365", 3, 10, 3)
    for i, amount in enumerate(("100", "250.5", "1000")):
        cur.execute("INSERT INTO tag_values VALUES (?, 'rfm_monetary_365', ?, ?, 1, ?, ?, NULL)",
                    [f"O{i:04d}", amount, amount, AS_OF, utcnow()])
    cur.execute("INSERT INTO export_manifests VALUES (1, ?, 'steward', 'steward', 'tag_values', 'csv', 'f.csv', 8, 99, "
                "true, NULL, NULL, ['oneid'], ?, 'x')", [utcnow(), json.dumps({"tags": ["lifecycle_stage"]})])
    frame = health.summary(cur, "steward", "zh").set_index("code")
    assert list(frame.columns) == health.SUMMARY_COLUMNS[1:]
    assert set(frame.index) == {t.code for t in library.computed(cur)}
    row = frame.loc["lifecycle_stage"]
    assert row["tag_name"] == "生命周期阶段"
    assert (row["coverage"], row["coverage_before"], row["coverage_change"], row["psi"]) == pytest.approx(
        (0.8, 1.0, -20.0, 0.12))
    assert row["flagged"] and row["flag_reasons"] == "coverage_drop"
    assert row["distribution"] == "活跃 50% · 沉睡 25% · 流失 12% · …"
    assert row["exports"] == 1 and row["audiences"] == 0 and pd.isna(row["conflicts"])
    assert row["as_of"] == AS_OF and not pd.isna(row["computed_at"])
    money = frame.loc["rfm_monetary_365"]
    assert money["distribution"] == "100–1,000，中位数 250.5" and pd.isna(money["coverage_before"])
    assert not money["flagged"]
    never = frame.loc["age_band"]
    assert pd.isna(never["coverage"]) and never["overdue"] and never["distribution"] == ""
    assert frame.loc["member_tier", "conflicts"] == 0   # a source-mapping tag: sources compared (none here)
    add_run(cur, "preferred_channel", 4, 10, 2)
    add_run(cur, "preferred_channel", 5, 10, 2)
    add_values(cur, "preferred_channel", {"tmall": 2})
    channel = health.summary(cur, "steward", "zh").set_index("code").loc["preferred_channel"]
    assert channel["distribution"] == f"{channel_label('tmall', 'zh')} 100%" != "tmall 100%"  # channel codes as names
    assert str(channel["coverage_change"]) == "0.0"
    english = health.summary(cur, "steward", "en").set_index("code")
    assert english.loc["lifecycle_stage", "distribution"].startswith("active 50% · dormant 25%")


def test_summary_hides_sensitive_tags_from_analysts(cur):
    add_sensitive_tag(cur)
    assert "health_interest" in set(health.summary(cur, "steward")["code"])
    assert "health_interest" not in set(health.summary(cur, "analyst")["code"])


def test_overdue_by_cadence():
    def tag(cadence: str) -> TagDefinition:
        return TagDefinition("x", "x", "x", "basic", "boolean", {"when": {"field": "age", "gte": 1}},
                             refresh_cadence=cadence)

    today, at = date(2025, 7, 10), datetime(2025, 7, 1, 12)
    assert not health.overdue(tag("daily"), date(2025, 7, 9), at, today, None)
    assert health.overdue(tag("daily"), date(2025, 7, 8), at, today, None)
    assert not health.overdue(tag("weekly"), date(2025, 7, 3), at, today, None)
    assert health.overdue(tag("weekly"), date(2025, 7, 2), at, today, None)
    assert health.overdue(tag("monthly"), date(2025, 6, 8), at, today, None)
    assert not health.overdue(tag("every_refresh"), date(2025, 7, 1), at, today, at - timedelta(hours=1))
    assert health.overdue(tag("every_refresh"), date(2025, 7, 1), at, today, at + timedelta(hours=1))
    assert health.overdue(tag("daily"), None, None, today, None)  # never computed


def test_runs_oldest_first(cur):
    add_run(cur, "age_band", 7, 10, 5)
    add_run(cur, "age_band", 9, 10, 8, psi=0.3)
    frame = health.runs(cur, "age_band")
    assert list(frame["run_id"]) == [7, 9] and list(frame["coverage"]) == [0.5, 0.8]


# ---- charts ------------------------------------------------------------------------------------------

def test_health_charts(cur):
    add_run(cur, "age_band", 1, 10, 5)
    add_run(cur, "age_band", 2, 10, 8, psi=0.3)
    add_run(cur, "age_band", 3, 10, 8, psi=0.1)
    runs = health.runs(cur, "age_band")
    fig = charts.tag_coverage_runs(runs, "coverage")
    assert list(fig.data[0].y) == [0.5, 0.8, 0.8] and len(set(fig.data[0].x)) == 3
    fig = charts.tag_psi(runs, "psi")
    assert list(fig.data[0].y) == [0.3, 0.1]                # the first run has no PSI
    assert fig.data[0].marker.color[0] != fig.data[0].marker.color[1]  # above the bound in red
    add_values(cur, "lifecycle_stage", {"active": 3, "dormant": 1})
    tag = library.get(cur, "lifecycle_stage")
    dist = health.distribution(cur, tag, "zh")
    fig = charts.tag_distribution(dist, "dist")
    assert list(fig.data[0].x) == ["活跃", "沉睡"] and list(fig.data[0].y) == [3, 1]


def test_scorecard_trend_chart():
    history = pd.DataFrame({"recorded_at": [datetime(2025, 7, 1, 8), datetime(2025, 7, 1, 8)],
                            "trigger": ["refresh", "refresh"], "duplicate_rate": [0.5, 0.4],
                            "quality_score": [80.0, 90.0]})
    fig = charts.scorecard_trend(history, {"duplicate_rate": "dup", "quality_score": "quality"}, "t")
    assert [tr.name for tr in fig.data] == ["dup", "quality"]
    assert list(fig.data[1].y) == [0.8, 0.9] and len(set(fig.data[0].x)) == 2  # same minute, two refreshes
