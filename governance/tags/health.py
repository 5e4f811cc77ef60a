"""Tag health: coverage, drift, freshness, distribution, conflicts and use of every computed tag.

Reads only: each computation leaves a `tag_runs` row per tag (coverage = with_value / oneids, the
value distribution and its PSI against the previous run, written by tags/compute); the library gives
the definitions, permissions and usage; source_tags the conflicts between sources.

A tag is flagged (`flags`, shown on Home) when its coverage fell more than COVERAGE_DROP_POINTS
percentage points since the last run of the previous as-of date (or the previous run, while all are
of one date), or its latest PSI is above PSI_BOUND.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from governance.i18n import DEFAULT_LANG, t
from governance.store.schema import channel_label
from governance.store.storage import one
from governance.tags import library, source_tags
from governance.tags.definitions import TagDefinition

COVERAGE_DROP_POINTS = 10.0  # flagged when coverage falls by more than this many points between runs
PSI_BOUND = 0.25             # flagged when drift against the previous computation passes this
CADENCE_DAYS = {"daily": 1, "weekly": 7, "monthly": 31}  # "every_refresh": due after each golden refresh
TOP_VALUES = 3
REASONS = ("coverage_drop", "psi")


def coverage_drop_points(before: float | None, now: float | None) -> float | None:
    """How many percentage points coverage fell from `before` to `now` (negative: it rose)."""
    if before is None or now is None or pd.isna(before) or pd.isna(now):
        return None
    return round((float(before) - float(now)) * 100, 6)


def reasons(coverage_before: float | None, coverage: float | None, drift: float | None) -> list[str]:
    """Why a tag is flagged: 'coverage_drop' (fell more than COVERAGE_DROP_POINTS), 'psi' (above PSI_BOUND)."""
    out = []
    drop = coverage_drop_points(coverage_before, coverage)
    if drop is not None and drop > COVERAGE_DROP_POINTS:
        out.append("coverage_drop")
    if drift is not None and not pd.isna(drift) and float(drift) > PSI_BOUND:
        out.append("psi")
    return out


def _runs(cur: duckdb.DuckDBPyConnection, codes: list[str], last: int | None = 2) -> pd.DataFrame:
    """tag_runs of `codes`, newest first per tag (`k` = 1 for the newest). `base` marks the run the
    newest is compared with: the last run of an earlier as-of date, or the run before it while every
    run is of one date (so refreshes within a day cannot hide a drop from the day before between them).
    With `last` = 2, only the newest and its base."""
    columns = ["tag_code", "run_id", "tag_version", "as_of", "mode", "started_at", "oneids", "with_value", "psi",
               "distribution", "coverage", "k", "base"]
    if not codes:
        return pd.DataFrame(columns=columns)
    marks = ", ".join("?" for _ in codes)
    limit = "" if last is None else "WHERE k = 1 OR base"
    frame = cur.execute(
        f"SELECT {', '.join(columns)} FROM (SELECT *, (as_of < newest AND j = 1) OR (k = 2 AND oldest = newest) AS base "
        f"FROM (SELECT *, row_number() OVER (PARTITION BY tag_code, as_of < newest ORDER BY run_id DESC) AS j "
        f"FROM (SELECT tag_code, run_id, tag_version, as_of, mode, started_at, oneids, with_value, psi, distribution, "
        f"with_value / nullif(oneids, 0) AS coverage, "
        f"row_number() OVER (PARTITION BY tag_code ORDER BY run_id DESC) AS k, "
        f"max(as_of) OVER (PARTITION BY tag_code) AS newest, min(as_of) OVER (PARTITION BY tag_code) AS oldest "
        f"FROM tag_runs WHERE tag_code IN ({marks})))) {limit} ORDER BY tag_code, run_id DESC", codes).df()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date  # a China date, not a timestamp
    return frame


def _latest_pair(runs: pd.DataFrame, code: str) -> tuple[dict | None, dict | None]:
    """The tag's newest run and the run it is compared with (see `_runs`)."""
    mine = runs[runs["tag_code"] == code]
    now = mine[mine["k"] == 1]
    before = mine[mine["base"].astype(bool)]
    return (now.iloc[0].to_dict() if len(now) else None, before.iloc[0].to_dict() if len(before) else None)


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def flags(cur: duckdb.DuckDBPyConnection, role: str | None = None) -> list[dict]:
    """Computed tags whose coverage dropped more than 10 points against the previous run, or whose
    PSI is above 0.25; one dict per tag: code, name_zh, name_en, reasons (list of REASONS), coverage,
    coverage_before, drop_points, psi, as_of, run_id. With `role`, only tags that role may view."""
    tags = [tag for tag in library.computed(cur) if role is None or library.can_view(cur, role, tag.code)]
    runs = _runs(cur, [tag.code for tag in tags])
    out = []
    for tag in tags:
        now, before = _latest_pair(runs, tag.code)
        if now is None:
            continue
        coverage, drift = _num(now["coverage"]), _num(now["psi"])
        coverage_before = _num(before["coverage"]) if before else None
        why = reasons(coverage_before, coverage, drift)
        if why:
            out.append({"code": tag.code, "name_zh": tag.name_zh, "name_en": tag.name_en, "reasons": why,
                        "coverage": coverage, "coverage_before": coverage_before,
                        "drop_points": coverage_drop_points(coverage_before, coverage), "psi": drift,
                        "as_of": now["as_of"], "run_id": int(now["run_id"])})
    return out


def flag_text(flag: dict, lang: str = DEFAULT_LANG) -> str:
    """One line for a flagged tag in `lang`: its name and why (coverage fell by N points, PSI x)."""
    parts = []
    if "coverage_drop" in flag["reasons"]:
        parts.append(t("tags.health.flag.coverage_drop", lang, points=f"{flag['drop_points']:.1f}",
                       before=f"{flag['coverage_before']:.0%}", now=f"{flag['coverage']:.0%}"))
    if "psi" in flag["reasons"]:
        parts.append(t("tags.health.flag.psi", lang, psi=f"{flag['psi']:.2f}"))
    name = flag["name_zh"] if lang == "zh" else flag["name_en"]
    return f"{name}{'：' if lang == 'zh' else ': '}" + ("；" if lang == "zh" else "; ").join(parts)


CHINA = ZoneInfo("Asia/Shanghai")


def _today() -> date:
    """Today in China time (as compute.today)."""
    return datetime.now(CHINA).date()


def _last_refresh(cur: duckdb.DuckDBPyConnection) -> datetime | None:
    row = cur.execute("SELECT max(ts) FROM golden_builds").fetchone()
    return row[0] if row else None


def overdue(tag: TagDefinition, as_of: date | None, computed_at: datetime | None, today: date,
            last_refresh: datetime | None) -> bool:
    """Whether a tag's values are older than its refresh cadence allows: never computed; for
    'every_refresh', computed before the latest golden refresh; else as of more than 1 (daily), 7
    (weekly) or 31 (monthly) days before today (China time)."""
    if as_of is None or computed_at is None or pd.isna(as_of):
        return True
    if tag.refresh_cadence in CADENCE_DAYS:
        as_of_date = as_of.date() if isinstance(as_of, datetime) else as_of
        return (today - as_of_date).days > CADENCE_DAYS[tag.refresh_cadence]
    return last_refresh is not None and pd.Timestamp(computed_at) < pd.Timestamp(last_refresh)


def value_label(tag: TagDefinition, value: str, lang: str = DEFAULT_LANG) -> str:
    """A stored value as people read it: the allowed value's label, a channel's name for the preferred
    channel (its values are channel codes), else as stored."""
    if tag.technical.get("template") == "preferred_channel":
        return channel_label(value, lang)
    return str(tag.value_label(value, lang))


def distribution(cur: duckdb.DuckDBPyConnection, tag: TagDefinition, lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """The tag's current values: value, label (in `lang`), oneids, share (of OneIDs with a value),
    most frequent first."""
    frame = cur.execute("SELECT value, count(DISTINCT oneid) AS oneids FROM tag_values WHERE tag_code = ? "
                        "GROUP BY value", [tag.code]).df()
    if frame.empty:
        return pd.DataFrame(columns=["value", "label", "oneids", "share"])
    frame["label"] = [value_label(tag, v, lang) for v in frame["value"]]
    total = float(frame["oneids"].sum()) or 1.0
    frame["share"] = frame["oneids"].astype(float) / total
    return frame.sort_values(["oneids", "value"], ascending=[False, True], kind="stable")[
        ["value", "label", "oneids", "share"]].reset_index(drop=True)


def _short(number: Any) -> str:
    return f"{float(number):,.2f}".rstrip("0").rstrip(".")  # 1,000.00 → 1,000; 250.50 → 250.5


def _number_text(cur: duckdb.DuckDBPyConnection, code: str, lang: str) -> str:
    low, mid, high = one(cur, "SELECT min(number), median(number), max(number) FROM tag_values WHERE tag_code = ?",
                         [code])
    if low is None:
        return ""
    return t("tags.health.number_range", lang, low=_short(low), median=_short(mid), high=_short(high))


def distribution_text(cur: duckdb.DuckDBPyConnection, tag: TagDefinition, lang: str = DEFAULT_LANG) -> str:
    """The distribution in a few words: the top values with their shares (labels in `lang`), or a
    number tag's range and median."""
    if tag.value_type == "number":
        return _number_text(cur, tag.code, lang)
    frame = distribution(cur, tag, lang)
    parts = [f"{label} {share:.0%}" for label, share in zip(frame["label"].head(TOP_VALUES), frame["share"])]
    if len(frame) > TOP_VALUES:
        parts.append("…")
    return " · ".join(parts)


SUMMARY_COLUMNS = ["code", "tag_name", "category", "value_type", "version", "coverage", "coverage_before",
                   "coverage_change", "psi", "as_of", "computed_at", "refresh_cadence", "overdue", "distribution",
                   "conflicts", "audiences", "exports", "flagged", "flag_reasons"]


def summary(cur: duckdb.DuckDBPyConnection, role: str, lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """One row per computed tag the role may view (library.computed, library.can_view):
    code, name (in `lang`), category, value_type, version (the computed one); coverage now and before
    (previous run; shares 0–1) and coverage_change (points, negative = fell); psi (latest run);
    freshness: as_of, computed_at, refresh_cadence, overdue; distribution (top values with labels, or
    a number's range); conflicts (OneIDs whose sources disagree, source-mapping tags only); audiences
    and exports using it (library.usage); flagged and flag_reasons (comma-separated REASONS)."""
    tags = [tag for tag in library.computed(cur) if library.can_view(cur, role, tag.code)]
    runs = _runs(cur, [tag.code for tag in tags])
    today, last_refresh = _today(), _last_refresh(cur)
    rows = []
    for tag in tags:
        now, before = _latest_pair(runs, tag.code)
        coverage = _num(now["coverage"]) if now else None
        coverage_before = _num(before["coverage"]) if before else None
        drift = _num(now["psi"]) if now else None
        drop = coverage_drop_points(coverage_before, coverage)
        as_of = now["as_of"] if now else None
        computed_at = now["started_at"] if now else None
        use = library.usage(cur, tag.code)
        why = reasons(coverage_before, coverage, drift)
        rows.append({
            "code": tag.code, "tag_name": tag.label(lang), "category": tag.category, "value_type": tag.value_type,
            "version": tag.version, "coverage": coverage, "coverage_before": coverage_before,
            "coverage_change": None if drop is None else 0.0 - drop + 0.0, "psi": drift,  # no "-0.0"
            "as_of": as_of, "computed_at": computed_at, "refresh_cadence": tag.refresh_cadence,
            "overdue": overdue(tag, as_of, computed_at, today, last_refresh),
            "distribution": distribution_text(cur, tag, lang) if now else "",
            "conflicts": source_tags.conflicts(cur, tag.code) if "source_mapping" in tag.technical else None,
            "audiences": len(use.get("audiences") or []), "exports": int(use.get("exports") or 0),
            "flagged": bool(why), "flag_reasons": ",".join(why)})
    frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    for column in ("conflicts", "audiences", "exports", "version"):
        frame[column] = frame[column].astype("Int64")
    for column in ("coverage", "coverage_before", "coverage_change", "psi"):
        frame[column] = frame[column].astype("float64")
    return frame


def runs(cur: duckdb.DuckDBPyConnection, code: str) -> pd.DataFrame:
    """Every computation of a tag, oldest first: run_id, tag_version, as_of, mode, started_at, oneids,
    with_value, coverage (0–1), psi — for the coverage-over-runs and PSI charts."""
    frame = _runs(cur, [code], last=None)
    return (frame.drop(columns=["k", "base", "distribution", "tag_code"]).sort_values("run_id", kind="stable")
            .reset_index(drop=True))


def run_distribution(value: Any) -> dict[str, float]:
    """A tag_runs.distribution JSON as value (or bin) -> share: compute's {"kind": "shares", "shares":
    {value: share}} or {"kind": "deciles", "edges": [...], "shares": [...]} (bins named "≤ edge", the
    last "> edge"); also a plain {value: share} object or a list of {value|bin, share|oneids|count}."""
    data = json.loads(value) if isinstance(value, str) else value
    if isinstance(data, dict) and "shares" in data:
        shares = data["shares"]
        if isinstance(shares, dict):
            return {str(k): float(v) for k, v in shares.items()}
        edges = [f"≤ {_short(e)}" for e in data.get("edges") or []]
        names = edges + ([f"> {_short(data['edges'][-1])}"] if edges else ["—"])
        out: dict[str, float] = {}
        for name, share in zip(names, shares):  # equal deciles share a bin name
            out[name] = out.get(name, 0.0) + float(share)
        return out
    if isinstance(data, dict):
        return {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float))}
    found: dict[str, float] = {}
    for item in data or []:
        if isinstance(item, dict):
            key = item.get("value", item.get("bin"))
            amount = next((item[k] for k in ("share", "oneids", "count", "n") if k in item), None)
            if key is not None and isinstance(amount, (int, float)):
                found[str(key)] = float(amount)
    return found
