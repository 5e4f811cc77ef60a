"""Ingest benchmark: our ingest of a generated 1,000,000-row CSV against DuckDB's own
`read_csv` (all columns as text) on the same file, in the same run, each in a fresh process
so that peak memory is its own; each is run --repeat times, alternating, and the best
times are compared. Target: at most 2x DuckDB's time, peak memory under 2 GiB.

    python benchmarks/ingest.py [--rows 1000000]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_duckdb(csv: Path, workdir: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(workdir / "plain.duckdb"))
    started = time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar = true)", [str(csv)])
    seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    return {"seconds": seconds, "rows": rows, "peak_mib": peak_mib()}


def run_steward(csv: Path, workdir: Path) -> dict:
    from governance.sources import ingest
    from governance.store.storage import open_database

    db = open_database(workdir / "steward.duckdb")
    started = time.perf_counter()
    result = ingest.ingest_file(db, csv, actor="benchmark", channel="crm")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": result.rows, "peak_mib": peak_mib()}


def child(kind: str, csv: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", kind, "--csv", str(csv)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best of each is compared")
    parser.add_argument("--child", choices=["duckdb", "steward"])
    parser.add_argument("--csv")
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            run = run_duckdb if args.child == "duckdb" else run_steward
            print(json.dumps(run(Path(args.csv), Path(tmp))))
        return

    from governance import synth

    csv = ROOT / "data" / "benchmarks" / f"customers_{args.rows}.csv"
    if not csv.exists():
        csv.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        synth.write_benchmark_csv(csv, args.rows)
        print(f"generated {csv.name} ({csv.stat().st_size / 1024**2:.0f} MB) in {time.perf_counter() - started:.1f} s")
    runs = {"duckdb": [], "steward": []}
    for _ in range(args.repeat):  # alternate, so that machine noise hits both alike
        for kind in runs:
            runs[kind].append(child(kind, csv))
    plain, ours = (min(r, key=lambda x: x["seconds"]) | {"all": [round(x["seconds"], 2) for x in r]}
                   for r in runs.values())
    assert plain["rows"] == ours["rows"] == args.rows, (plain, ours)
    ratio = ours["seconds"] / plain["seconds"]
    print(f"rows: {args.rows:,}  file: {csv.stat().st_size / 1024**2:.0f} MB")
    print(f"duckdb read_csv (all text): {plain['seconds']:.2f} s  {args.rows / plain['seconds']:,.0f} rows/s  "
          f"peak {plain['peak_mib']:.0f} MiB  runs {plain['all']}")
    print(f"steward ingest:             {ours['seconds']:.2f} s  {args.rows / ours['seconds']:,.0f} rows/s  "
          f"peak {ours['peak_mib']:.0f} MiB  runs {ours['all']}")
    print(f"ratio: {ratio:.2f}x (target <= 2.0x); peak memory target < 2048 MiB")
    ok = ratio <= 2.0 and ours["peak_mib"] < 2048
    print("PASS" if ok else "MISS")


if __name__ == "__main__":
    main()
