"""Answer the first N pairs of Steward's review queue from the truth, the way a steward works through
it: `review list` in the product's own order, then `review approve` or `review reject` per pair.

    python benchmarks/independent_scrm/decide.py --db RUNDIR/s.duckdb --data RUNDIR/data --decisions 300
"""
from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--data", required=True, help="the generator's folder (truth.csv)")
    parser.add_argument("--decisions", type=int, required=True)
    args = parser.parse_args()
    with open(Path(args.data) / "truth.csv", encoding="utf-8") as f:
        truth = {(Path(r["file"]).stem, int(r["row_number"])): r["person_id"] for r in csv.DictReader(f)}

    def cli(*words: str) -> str:
        done = subprocess.run([sys.executable, "-m", "governance", "--db", args.db, *words],
                              capture_output=True, text=True, check=True)
        return done.stdout

    listed = cli("review", "list", "--limit", str(args.decisions))
    pairs = re.findall(r"^\s*(\d+:\d+)\s+(\d+:\d+)\s+\S+\s+\S+\s+(\S+)\s+(\S+)\s", listed, re.M)
    approved = 0
    for left, right, source_l, source_r in pairs:
        same = truth.get((source_l, int(left.split(":")[1]))) == truth.get((source_r, int(right.split(":")[1])))
        cli("review", "approve" if same else "reject", left, right, "--comment", "answered from the truth")
        approved += same
    print(f"decisions: {len(pairs)} ({approved} approved, {len(pairs) - approved} rejected)")


if __name__ == "__main__":
    main()
