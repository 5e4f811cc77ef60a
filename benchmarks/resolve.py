"""OneID benchmark: the full resolve (rules, Splink training and prediction, constrained clustering,
stable OneIDs) on generated multi-channel data with ground truth, next to a bare Splink 5 run with the
same comparisons (train + predict + cluster) on the same records, in the same run.
Targets: full resolve within 1.5x bare Splink's time; peak memory under 6 GiB at 1M; F1 at least bare Splink's.

`--incremental` instead resolves the store in full once, adds a batch of about 10,000 records (half of
them copies of existing customers' rows, half new people) and times, on two copies of that store,
the incremental resolve plus golden refresh against a full resolve (the same saved model, every pair
scored again) plus golden refresh, then plain Splink scoring the same batch (term frequencies,
predict_between, predict_within). The issue's target, incremental <= 10% of full, is below that floor
at 1M; the restated one: incremental <= 2x plain Splink's scoring of the batch (docs/benchmarks.md).

    python benchmarks/resolve.py [--customers 70000]      # about 100,000 records
    python benchmarks/resolve.py --customers 700000 --data /tmp/bench1m [--repeat 3]   # about 1,000,000; reuse the data
    python benchmarks/resolve.py --customers 700000 --data /tmp/bench1m --incremental [--repeat 3]

`--engine spark` (needs requirements-spark.txt and Java 17) trains the model once in process, then runs a
full resolve with it on two copies of the store, scoring on DuckDB and on Spark (`--spark-master`,
default local[2]), and prints both times, both peak memories (this process; the Spark JVM) and
whether the pairs, match weights (within 1e-9) and OneIDs are the same.

    python benchmarks/resolve.py --customers 700000 --data /tmp/bench1m --engine spark
"""
from __future__ import annotations

import argparse
import json
import logging
import pickle
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this folder's profile.py would stand in for the standard library's (PySpark imports cProfile)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def bare_splink(db) -> tuple[float, dict[int, int]]:
    from governance.oneid import model
    from helpers import plain_splink

    data = model._input(db)
    started = time.perf_counter()
    con, linker, predictions = plain_splink(data, 0.6)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold_match_probability=0.99)
    rows = con.sql(f"SELECT unique_id, cluster_id FROM {clusters.physical_name}").fetchall()
    seconds = time.perf_counter() - started
    con.close()  # its tables would stay in memory through the next runs
    return seconds, dict(rows)


def bare_splink_batch(db, model_json: str, new: set[int]) -> tuple[float, float, int]:
    """Plain Splink's own part of an incremental run, the floor under Steward's, as Splink documents it:
    the saved model's term frequencies over the store, then the batch scored against the store
    (predict_between) and within itself (predict_within), from records already in memory;
    (seconds in all, of which term frequencies, pairs)."""
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc
    from splink import DuckDBAPI

    from governance.oneid import model
    from governance.oneid.resolve import REVIEW_LOW

    records = model._input(db)
    fresh = pc.is_in(records["unique_id"], pa.array(sorted(new), pa.int64()))
    batch, store = records.filter(fresh), records.filter(pc.invert(fresh))
    saved = json.loads(model_json)
    started = time.perf_counter()
    con = duckdb.connect()
    api = DuckDBAPI(connection=con)
    linker = model.linker_for(api.register(records), saved)
    for column in model.tf_columns(saved):
        linker.table_management.compute_tf_table(column)
    frequencies = time.perf_counter() - started
    frame = api.register(batch)
    between = linker.inference.predict_between(api.register(store), frame, threshold_match_probability=REVIEW_LOW)
    within = linker.inference.predict_within(frame, threshold_match_probability=REVIEW_LOW)
    seconds = time.perf_counter() - started
    pairs = len(between.as_pandas_dataframe()) + len(within.as_pandas_dataframe())
    con.close()
    return seconds, frequencies, pairs


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


def add_batch(db, directory: Path, copies: int, new_people: int) -> int:
    """Ingest and standardize a daily batch: `copies` rows copied from the store's largest raw batch
    (existing customers seen again) and the records of `new_people` generated customers (a new
    store's exports, under sources of their own)."""
    import csv

    from governance import pipeline, synth
    from governance.sources import ingest

    directory.mkdir(parents=True, exist_ok=True)
    with db.cursor() as cur:
        batch_id, table, source, channel = cur.execute(
            "SELECT batch_id, table_name, source, channel FROM batches ORDER BY row_count DESC LIMIT 1").fetchone()
        headers = [h for (h,) in cur.execute("SELECT header FROM batch_columns WHERE batch_id = ? ORDER BY position",
                                             [batch_id]).fetchall()]
        columns = [c for (c,) in cur.execute("SELECT column_name FROM batch_columns WHERE batch_id = ? ORDER BY position",
                                             [batch_id]).fetchall()]
        rows = cur.execute(f"SELECT {', '.join(chr(34) + c + chr(34) for c in columns)} FROM raw.{table.split('.')[-1]} "
                           f"USING SAMPLE {copies} ROWS (reservoir, 7)").fetchall()
    with (directory / "again.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerows(rows)
    ingest.ingest_file(db, directory / "again.csv", actor="bench", source=source, channel=channel)
    workspace = synth.generate_workspace(new_people, seed=123)
    for spec, path in zip(workspace.files, synth.write_workspace(workspace, directory / "new")):
        # sources of their own: a file whose headers differ from a source's saved mapping starts a new
        # mapping version, and the source's earlier batches are standardized again
        ingest.ingest_file(db, path, actor="bench", source=f"{spec.source}_new", channel=spec.channel)
    return pipeline.standardize(db, "bench").records


def incremental(tmp: Path, repeat: int) -> None:
    """Full resolve once, add a batch, then incremental against full on copies of that store."""
    from governance import pipeline
    from governance.oneid import review
    from governance.oneid.links import REC_ID
    from governance.store.storage import open_database

    db = open_database(tmp / "base.duckdb")
    started = time.perf_counter()
    first = pipeline.resolve(db, "bench")
    print(f"first resolve (training) {time.perf_counter() - started:.1f} s, {first.oneid.clusters:,} OneIDs")
    added = add_batch(db, tmp / "batch", 5_000, 3_500)
    with db.cursor() as cur:
        new = {r for (r,) in cur.execute(f"SELECT {REC_ID} FROM std_records WHERE {REC_ID} NOT IN "
                                         "(SELECT rec_id FROM crosswalk)").fetchall()}
        saved = review.latest_model(cur)
    db.close()
    print(f"batch added: {added:,} records")
    times: dict[str, float] = {}
    crosswalks = {}
    for mode in ("incremental", "full"):
        for _ in range(repeat):  # each on a fresh copy of the store; the best time counts
            seconds, resolved, result, golden = _timed_run(tmp, mode)
            if seconds < times.get(mode, float("inf")):
                times[mode] = seconds
            print(f"{mode:12} resolve {resolved:6.2f} s + golden {seconds - resolved:5.2f} s ({golden.mode}, "
                  f"{golden.rebuilt:,} rebuilt) = {seconds:6.2f} s; area {result.area or result.records:,} records; "
                  "stages " + "  ".join(f"{k} {v:.2f}" for k, v in result.timings.items()))
        db = open_database(tmp / f"{mode}.duckdb")
        with db.cursor() as cur:
            crosswalks[mode] = cur.execute("SELECT rec_id, oneid FROM crosswalk ORDER BY rec_id").fetchall()
        db.close()
    same = crosswalks["incremental"] == crosswalks["full"]
    best = f"best of {repeat}, " if repeat > 1 else ""
    print(f"incremental / full = {times['incremental'] / times['full']:.1%} ({best}target <= 10%); same OneIDs: {same}; "
          f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    db = open_database(tmp / "incremental.duckdb")
    seconds, frequencies, pairs = min(bare_splink_batch(db, saved["model_json"], new) for _ in range(repeat))
    db.close()
    print(f"plain Splink scoring the batch alone ({best}term frequencies {frequencies:.2f} s, predict_between + "
          f"predict_within {seconds - frequencies:.2f} s): {seconds:.2f} s = {seconds / times['full']:.1%} of full, "
          f"{pairs:,} pairs; Steward's incremental run = {times['incremental'] / seconds:.2f}x that (target <= 2x)")


def _timed_run(tmp: Path, mode: str):
    """One incremental or full resolve (the last run's saved model) plus golden refresh, in one
    transaction, on a fresh copy of the store: (seconds, of which resolve, its result, the refresh's)."""
    from governance.golden import survivorship
    from governance.oneid import resolve as oneid_resolve
    from governance.oneid import review
    from governance.store.storage import open_database

    shutil.copy(tmp / "base.duckdb", tmp / f"{mode}.duckdb")
    db = open_database(tmp / f"{mode}.duckdb")
    with db.cursor() as cur:
        saved = review.latest_model(cur)
    started = time.perf_counter()
    with db.transaction():
        if mode == "incremental":
            result = oneid_resolve.resolve_changed(db, "bench", saved["model_json"])
        else:
            prediction = oneid_resolve.predict(db, oneid_resolve.REVIEW_LOW, saved["model_json"])
            result = oneid_resolve.resolve(db, "bench", prediction=prediction)
        resolved = time.perf_counter() - started
        golden = survivorship.refresh_golden(db)
    seconds = time.perf_counter() - started
    db.close()
    assert result.mode == mode, result.full_because
    return seconds, resolved, result, golden


def engines(tmp: Path, master: str) -> None:
    """The same full resolve, scored on DuckDB and on Spark, on two copies of one store."""
    from governance import pipeline
    from governance.oneid import model as oneid_model
    from governance.oneid import resolve as oneid_resolve
    from governance.oneid import spark
    from governance.store.storage import open_database

    db = open_database(tmp / "base.duckdb")
    started = time.perf_counter()
    model_json = json.dumps(oneid_model.train(oneid_model._input(db)), ensure_ascii=False)
    db.close()
    print(f"model trained in process: {time.perf_counter() - started:.1f} s")
    results = {}
    for name in ("duckdb", "spark"):
        shutil.copy(tmp / "base.duckdb", tmp / f"{name}.duckdb")
        db = open_database(tmp / f"{name}.duckdb")
        engine = pipeline.scoring_engine(name, master if name == "spark" else None)
        if engine is not None:  # the JVM's start is reported apart
            started = time.perf_counter()
            spark.session(engine.keywords["options"])
            print(f"Spark session ({master}) started in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        result = oneid_resolve.resolve(db, "bench", model_json=model_json, engine=engine)
        seconds = time.perf_counter() - started
        with db.cursor() as cur:
            results[name] = (cur.execute("SELECT rec_l, rec_r, match_weight FROM match_pairs ORDER BY 1, 2").fetchall(),
                             cur.execute("SELECT rec_id, oneid FROM crosswalk ORDER BY rec_id").fetchall())
        db.close()
        memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if engine is not None:  # the JVM's own peak (VmHWM), read before it stops
            pid = spark.session(engine.keywords["options"])._jvm.java.lang.ProcessHandle.current().pid()
            status = Path(f"/proc/{pid}/status").read_text()
            memory = int(status.split("VmHWM:")[1].split()[0]) / 1024
            spark.stop()
        print(f"{name:7} resolve {seconds:7.2f} s (scoring {result.timings['model']:.2f} s), {result.model_pairs:,} pairs, "
              f"{result.clusters:,} OneIDs; peak memory {memory:.0f} MiB ({'this process' if engine is None else 'JVM'})")
    (ours, oneids), (theirs, spark_oneids) = results["duckdb"], results["spark"]
    same_pairs = [p[:2] for p in ours] == [p[:2] for p in theirs]
    worst = max((abs(a[2] - b[2]) for a, b in zip(ours, theirs)), default=0.0) if same_pairs else float("nan")
    print(f"same pairs: {same_pairs}; largest match-weight difference {worst:.2e}; same OneIDs: {oneids == spark_oneids}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=70_000)
    parser.add_argument("--data", type=Path, help="keep the generated, standardized store here and reuse it next time")
    parser.add_argument("--incremental", action="store_true", help="time an incremental resolve against a full one")
    parser.add_argument("--repeat", type=int, default=1, choices=range(1, 11), metavar="1..10",
                        help="time each side this many times, keep the best")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                        help="spark: the same resolve scored on DuckDB and on Spark, side by side")
    parser.add_argument("--spark-master", default="local[2]")
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
        if args.incremental or args.engine == "spark":
            print(prepared)
            shutil.copy(data / "bench.duckdb", Path(tmp) / "base.duckdb")
            return incremental(Path(tmp), args.repeat) if args.incremental else engines(Path(tmp), args.spark_master)
        print(prepared)
        bare_seconds = ours_seconds = float("inf")
        for _ in range(args.repeat):  # bare Splink, then Steward, on a fresh copy each time; the best of each counts
            shutil.copy(data / "bench.duckdb", Path(tmp) / "run.duckdb")
            db = open_database(Path(tmp) / "run.duckdb")
            bare_run, bare_clusters = bare_splink(db)
            started = time.perf_counter()
            result = resolve.resolve(db, "bench")
            ours_run = time.perf_counter() - started
            with db.cursor() as cur:
                ours_clusters = dict(cur.execute("SELECT rec_id, oneid FROM crosswalk").fetchall())
            db.close()
            if args.repeat > 1:
                print(f"run: bare Splink {bare_run:.2f} s, Steward {ours_run:.2f} s = {ours_run / bare_run:.2f}x")
            bare_seconds, ours_seconds = min(bare_seconds, bare_run), min(ours_seconds, ours_run)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ours, bare = pair_closure(ours_clusters, truth_of), pair_closure(bare_clusters, truth_of)
    print("resolve stages: " + "  ".join(f"{k} {v:.2f} s" for k, v in result.timings.items()))
    print(f"pairs scored {result.model_pairs:,}  auto-links {result.auto_links:,}  queue {result.queue:,}  "
          f"rule/decision links {result.links - result.auto_links:,}  OneIDs {result.clusters:,}")
    print(f"bare Splink:   {bare_seconds:7.2f} s   precision {bare[0]:.4f} recall {bare[1]:.4f} F1 {bare[2]:.4f}")
    print(f"Steward:       {ours_seconds:7.2f} s   precision {ours[0]:.4f} recall {ours[1]:.4f} F1 {ours[2]:.4f}")
    best = f" (best of {args.repeat} each)" if args.repeat > 1 else ""
    print(f"time ratio {ours_seconds / bare_seconds:.2f}x{best} (target <= 1.5x); F1 {'>=' if ours[2] >= bare[2] else '<'} "
          f"bare Splink; peak memory {peak:.0f} MiB")


if __name__ == "__main__":
    main()
