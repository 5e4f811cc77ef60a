"""OneID benchmark: the full resolve (rules, Splink training and prediction, constrained clustering,
stable OneIDs) on generated multi-channel data with ground truth, next to a bare Splink 5 run with the
same comparisons (train + predict + cluster) on the same records, in the same run.
Targets: full resolve within 1.5x bare Splink's time; peak memory under 6 GiB at 1M; F1 at least bare Splink's.

    python benchmarks/resolve.py [--customers 70000]      # about 100,000 records
    python benchmarks/resolve.py --customers 700000 --data /tmp/bench1m   # about 1,000,000; reuse the data next time
"""
from __future__ import annotations

import argparse
import logging
import pickle
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def bare_splink(db) -> tuple[float, dict[int, int]]:
    import duckdb
    from splink import DuckDBAPI, Linker

    from governance.oneid import model

    data = model._input(db)
    started = time.perf_counter()
    con = duckdb.connect()
    linker = Linker(DuckDBAPI(connection=con).register(data), model.settings(), log_level=logging.ERROR)
    model._train(linker, model.U_MAX_PAIRS, 42)
    predictions = linker.inference.predict(threshold_match_probability=0.6)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold_match_probability=0.99)
    rows = con.sql(f"SELECT unique_id, cluster_id FROM {clusters.physical_name}").fetchall()
    return time.perf_counter() - started, dict(rows)


def prepare(customers: int, directory: Path) -> tuple[dict[int, str], str]:
    """Generate, ingest and standardize into directory/bench.duckdb; keep the truth beside it."""
    from governance import pipeline, synth
    from governance.oneid.links import rec_id
    from governance.sources import ingest
    from governance.store.storage import open_database

    started = time.perf_counter()
    workspace = synth.generate_workspace(customers, seed=99)
    db = open_database(directory / "bench.duckdb")
    batch_of = {}
    for spec, path in zip(workspace.files, synth.write_workspace(workspace, directory / "files")):
        batch_of[spec.source] = ingest.ingest_file(db, path, actor="bench", source=spec.source, channel=spec.channel).batch_id
    prepared = time.perf_counter() - started
    started = time.perf_counter()
    std = pipeline.standardize(db, "bench")
    truth_of = {rec_id(batch_of[s], r): c for s, r, c in workspace.truth}
    db.close()
    (directory / "truth.pkl").write_bytes(pickle.dumps(truth_of))
    return truth_of, (f"records {std.records:,} from {customers:,} customers (generate + ingest {prepared:.1f} s, "
                      f"standardize {time.perf_counter() - started:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=70_000)
    parser.add_argument("--data", type=Path, help="keep the generated, standardized store here and reuse it next time")
    args = parser.parse_args()
    from helpers import pair_closure, scratch_secrets

    scratch_secrets()
    logging.getLogger("splink").setLevel(logging.ERROR)
    from governance.oneid import resolve
    from governance.store.storage import open_database

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp) / "data"
        data.mkdir(parents=True, exist_ok=True)
        if (data / "truth.pkl").exists():
            truth_of = pickle.loads((data / "truth.pkl").read_bytes())
            prepared = f"records {len(truth_of):,} reused from {data}"
        else:
            truth_of, prepared = prepare(args.customers, data)
        shutil.copy(data / "bench.duckdb", Path(tmp) / "run.duckdb")   # every run starts from the same store
        db = open_database(Path(tmp) / "run.duckdb")
        bare_seconds, bare_clusters = bare_splink(db)
        started = time.perf_counter()
        result = resolve.resolve(db, "bench")
        ours_seconds = time.perf_counter() - started
        with db.cursor() as cur:
            ours_clusters = dict(cur.execute("SELECT rec_id, oneid FROM crosswalk").fetchall())
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ours, bare = pair_closure(ours_clusters, truth_of), pair_closure(bare_clusters, truth_of)
    print(prepared)
    print("resolve stages: " + "  ".join(f"{k} {v:.2f} s" for k, v in result.timings.items()))
    print(f"pairs scored {result.model_pairs:,}  auto-links {result.auto_links:,}  queue {result.queue:,}  "
          f"rule/decision links {result.links - result.auto_links:,}  OneIDs {result.clusters:,}")
    print(f"bare Splink:   {bare_seconds:7.2f} s   precision {bare[0]:.4f} recall {bare[1]:.4f} F1 {bare[2]:.4f}")
    print(f"Steward:       {ours_seconds:7.2f} s   precision {ours[0]:.4f} recall {ours[1]:.4f} F1 {ours[2]:.4f}")
    print(f"time ratio {ours_seconds / bare_seconds:.2f}x (target <= 1.5x); F1 {'>=' if ours[2] >= bare[2] else '<'} "
          f"bare Splink; peak memory {peak:.0f} MiB")


if __name__ == "__main__":
    main()
