"""Quality benchmark: standardize + profile 1,000,000 generated records, next to a single DuckDB
full-table scan counting each field's non-null values (the completeness counts a scan can compute
without standardizing) and a scan that also discounts the listed placeholders (how far its counts
are from the profile's is printed), in the same run; then the Quality page's
render time (AppTest) at 1,000,000 and at 10,000 records.
Targets: standardize + profile at most 5x the scan; page render at 1M within 2x of 10k.

    python benchmarks/profile.py [--rows 1000000] [--small 10000]
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def build_store(path: Path, rows: int) -> Path:
    from governance import synth
    from governance.sources import ingest
    from governance.store.storage import open_database

    csv = ROOT / "data" / "benchmarks" / f"customers_{rows}.csv"
    if not csv.exists():
        csv.parent.mkdir(parents=True, exist_ok=True)
        synth.write_benchmark_csv(csv, rows)
    db = open_database(path)
    ingest.ingest_file(db, csv, actor="benchmark", source="crm_benchmark", channel="crm")
    return csv


# The least any standardization must do: one format check per value. Timed to show where the floor
# lies next to the completeness scan (these checks are not the product's rules).
FORMAT_CHECKS = {"mobile": "1[3-9][0-9]{9}", "id_card": "[0-9]{17}[0-9Xx]", "email": "[^@ ]+@[^@ ]+[.][a-z]+",
                 "birth_date": "[0-9]{4}-[0-9]{2}-[0-9]{2}", "registered_at": "[0-9]{4}-[0-9]{2}-[0-9]{2} .+"}


def present_sql(field: str) -> str:
    """A scan's best guess at a present value: not blank and not a listed placeholder, in any case.
    The profile's completeness also discounts dummies, spreadsheet errors and full-width or
    zero-width forms, which need standardizing. (One regexp per field was the fastest form tried: at
    1M, 0.55 s against 1.2 to 2.0 s for lower(trim(x)) NOT IN the list or an anti-join, best of 3.)"""
    from governance.standardize import normalizers as N

    listed = sorted(N.PLACEHOLDERS | (N._NAME_PLACEHOLDERS if field == "name" else set()), key=len, reverse=True)
    alternatives = "|".join(re.escape(p).replace("'", "''") for p in listed)
    return f"NOT regexp_full_match({field}, '\\s*(?i:{alternatives})?\\s*')"


def time_pipeline(path: Path) -> dict:
    from governance import pipeline
    from governance.quality import profile
    from governance.store.schema import FIELD_NAMES
    from governance.store.storage import open_database

    db = open_database(path)
    with db.cursor() as cur:
        started = time.perf_counter()
        cur.execute("SELECT " + ", ".join(f"count({f})" for f in FIELD_NAMES) + " FROM mapped_records").fetchall()
        scan = time.perf_counter() - started
        started = time.perf_counter()
        cur.execute("SELECT " + ", ".join(f"count({f}) FILTER (WHERE regexp_full_match({f}, '{FORMAT_CHECKS[f]}'))"
                                          if f in FORMAT_CHECKS else f"count({f})" for f in FIELD_NAMES)
                    + " FROM mapped_records").fetchall()
        floor = time.perf_counter() - started
        started = time.perf_counter()
        near = cur.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {present_sql(f)})" for f in FIELD_NAMES)
                           + " FROM mapped_records").fetchone()
        near_scan = time.perf_counter() - started
    started = time.perf_counter()
    std = pipeline.standardize(db, "benchmark")
    std_seconds = time.perf_counter() - started
    started = time.perf_counter()
    run = profile.run_profile(db, "benchmark")
    profile_seconds = time.perf_counter() - started
    with db.cursor() as cur:
        present = dict(cur.execute("SELECT field, sum(records - missing) FROM profile_fields WHERE run_id = ? "
                                   "GROUP BY field", [run.run_id]).fetchall())
    off = sum(abs(n - present.get(f, 0)) for f, n in zip(FIELD_NAMES, near))
    return {"scan": scan, "floor": floor, "near_scan": near_scan, "near_off": off, "present": sum(present.values()),
            "standardize": std_seconds, "profile": profile_seconds, "records": std.records,
            "new_values": std.new_values, "sql_values": std.sql_values, "score": run.score}


def time_page(path: Path, repeat: int = 3) -> float:
    """Best-of-n render time of the Quality page for a signed-in analyst."""
    from streamlit.runtime.pages_manager import PagesManager

    from governance.access import auth
    from governance.store.storage import open_database
    from helpers import app_test

    original = PagesManager.__init__

    def warm(self, *a, **k):
        original(self, *a, **k)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = warm
    os.environ["STEWARD_DB"] = str(path)
    db = open_database(path)
    with db.cursor() as cur:
        exists = auth.get_user(cur, "bench")
    if not exists:
        auth.create_user(db, "system", "bench", "bench-password-1", "analyst")
    best = float("inf")
    for _ in range(repeat):
        at = app_test(db, "bench").run()
        started = time.perf_counter()
        at.switch_page("pages/quality.py").run()
        best = min(best, time.perf_counter() - started)
        assert not at.exception, at.exception
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    args = parser.parse_args()
    from helpers import scratch_secrets

    scratch_secrets()
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.duckdb", Path(tmp) / "small.duckdb"
        build_store(big, args.rows)
        result = time_pipeline(big)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        build_store(small, args.small)
        time_pipeline(small)
        page_big, page_small = time_page(big), time_page(small)
    total = result["standardize"] + result["profile"]
    print(f"records: {result['records']:,}  distinct values standardized: {result['new_values']:,} "
          f"({result['sql_values']:,} by SQL fast paths)  score {result['score']}")
    print(f"duckdb completeness scan: {result['scan']:.2f} s")
    print(f"one format regexp per field, no standardization: {result['floor']:.2f} s "
          f"= {result['floor'] / result['scan']:.1f}x the scan")
    print(f"a scan also discounting listed placeholders: {result['near_scan']:.2f} s; its completeness counts "
          f"miss the profile's by {result['near_off']:,} of {result['present']:,} present values")
    print(f"standardize: {result['standardize']:.2f} s   profile: {result['profile']:.2f} s   total {total:.2f} s")
    print(f"ratio: {total / result['scan']:.1f}x the scan (target <= 5x), {total / result['near_scan']:.1f}x the "
          f"placeholder scan; peak memory {peak:.0f} MiB")
    print(f"quality page render: {page_big:.2f} s at {args.rows:,}  vs  {page_small:.2f} s at {args.small:,}  "
          f"-> {page_big / page_small:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
