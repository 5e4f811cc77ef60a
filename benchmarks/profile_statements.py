"""Profile timings per statement, the original implementation next to the current one, on a copy of
a standardized store; then checks that both runs stored identical rows.

    python benchmarks/profile_statements.py /tmp/b1m_std.duckdb [--work /tmp/prof_work.duckdb] [--rounds 2] \
        [--sources 3]

The source store is never written: it is copied to --work first. The original implementation is
the oracle kept in tests/unit/test_profile_equivalence.py. Rounds alternate old, new, new, old, ...
so a neighbouring job slows both alike; the table shows the best round of each.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "unit"))

PHASES = (  # (phase, predicate on the SQL text), first match wins
    ("profile_status", lambda s: "INSERT INTO profile_status" in s),
    ("distinct/min/max", lambda s: "count(DISTINCT" in s and "min(" in s),
    ("top values", lambda s: "'value'" in s or "top values" in s),
    ("patterns", lambda s: "'pattern'" in s or "patterns" in s),
    ("clean", lambda s: "JOIN mapped_records" in s or "raw_clean" in s),
    ("duplicate rows", lambda s: "hash(" in s),
    ("profile_keys", lambda s: "INSERT INTO profile_keys" in s or "SELECT field FROM profile_status" in s),
    ("rules", lambda s: "AS a0" in s or "rules" in s or "AS failed" in s),
)


def phase_of(sql: str) -> str:
    for name, test in PHASES:
        if test(sql):
            return name
    return "other"


class _Fetching:
    """The result of a timed execute: fetching is timed too (DuckDB may still be computing)."""

    def __init__(self, cur, phase: str, sql: str, log: list):
        self._cur, self._phase, self._sql, self._log = cur, phase, sql, log

    def __getattr__(self, name):
        attr = getattr(self._cur, name)
        if not name.startswith("fetch") and name not in ("df", "arrow"):
            return attr

        def timed_fetch(*args, **kwargs):
            started = time.perf_counter()
            result = attr(*args, **kwargs)
            self._log.append((self._phase, time.perf_counter() - started, self._sql))
            return result
        return timed_fetch


@contextmanager
def timed(db, log: list):
    """Route db.transaction() through a cursor that times every execute and fetch."""
    real = db.transaction

    @contextmanager
    def transaction():
        with real() as cur:
            class Timed:
                def __getattr__(self, name):
                    return getattr(cur, name)

                def execute(self, sql, *args):
                    started = time.perf_counter()
                    cur.execute(sql, *args)
                    phase = phase_of(sql)
                    log.append((phase, time.perf_counter() - started, sql))
                    return _Fetching(cur, phase, sql, log)
            yield Timed()

    db.transaction = transaction
    try:
        yield
    finally:
        db.transaction = real


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "prof_work.duckdb"))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", choices=("old", "new"))
    parser.add_argument("--sources", type=int, default=1,
                        help="spread the copy's std_records over this many sources (row_number modulo), so "
                             "shared keys and per-source top values are exercised at scale")
    args = parser.parse_args()
    from helpers import scratch_secrets

    scratch_secrets()
    if Path(args.work).resolve() == Path(args.store).resolve():
        raise SystemExit("--work must differ from the store")
    shutil.copy(args.store, args.work)

    from test_profile_equivalence import differences, reference_profile, stored_rows

    from governance.quality import profile
    from governance.store.storage import open_database

    db = open_database(args.work)
    if args.sources > 1:  # the copy only: each new source gets its old source's mapping
        with db.transaction() as cur:
            cur.execute(f"UPDATE std_records SET source = source || '_' || (row_number % {args.sources})")
            for table in ("mapping_versions", "mapping_entries"):
                cur.execute(f"INSERT INTO {table} SELECT m.* REPLACE (m.source || '_' || k AS source) FROM {table} m, "
                            f"range({args.sources}) r(k)")
    with db.cursor() as cur:
        print(f"records: {cur.execute('SELECT count(*) FROM std_records').fetchone()[0]:,}")
    runners = {"old": lambda: reference_profile(db, "bench"), "new": lambda: profile.run_profile(db, "bench").run_id}
    order = [args.only] if args.only else ["old", "new"]
    totals: dict[str, list[float]] = {k: [] for k in order}
    phases: dict[str, dict[str, list[float]]] = {k: {} for k in order}
    runs: dict[str, int] = {}
    for round_ in range(args.rounds):
        for kind in order if round_ % 2 == 0 else order[::-1]:
            log: list = []
            started = time.perf_counter()
            with timed(db, log):
                runs[kind] = runners[kind]()
            totals[kind].append(time.perf_counter() - started)
            per: dict[str, float] = {}
            for name, seconds, _sql in log:
                per[name] = per.get(name, 0.0) + seconds
            for name, seconds in per.items():
                phases[kind].setdefault(name, []).append(seconds)
    names = [n for n, _ in PHASES] + ["other"]
    print(f"{'statement':18s} " + " ".join(f"{k + ' (best of ' + str(args.rounds) + ')':>18s}" for k in order))
    for name in names:
        print(f"{name:18s} " + " ".join(f"{min(phases[k].get(name, [0.0])):18.2f}" for k in order))
    print(f"{'total run_profile':18s} " + " ".join(f"{min(totals[k]):18.2f}" for k in order))
    if len(order) == 2:
        with db.cursor() as cur:
            old, new = stored_rows(cur, runs["old"]), stored_rows(cur, runs["new"])
        diff = differences(old, new)
        counts = ", ".join(f"{t} {len(rows)}" for t, rows in old.items())
        print(f"compared runs {runs['old']} (old) and {runs['new']} (new): {counts} rows")
        if diff:
            for table, (only_old, only_new) in diff.items():
                print(f"DIFFERENT {table}: {len(only_old)} rows only in old, {len(only_new)} only in new")
                for row in only_old[:3]:
                    print("   old:", row)
                for row in only_new[:3]:
                    print("   new:", row)
            raise SystemExit(1)
        print("IDENTICAL: every stored row of every compared table")


if __name__ == "__main__":
    main()
