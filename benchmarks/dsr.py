"""Data-subject request benchmark: on a resolved store of generated customers, the time to build one
person's access package, to erase one person (one transaction: every table, cache, profiles,
tombstone), to standardize a re-upload of a whole file against the tombstones (next to the same
standardize with no tombstone), and a retention scan + apply over one source.
No target was set for these; the figures go in the README.

    python benchmarks/dsr.py [--customers 70000]      # about 100,000 records
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def timed(label: str, fn):
    started = time.perf_counter()
    result = fn()
    print(f"{label:<58} {time.perf_counter() - started:7.2f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=70_000)
    args = parser.parse_args()
    from helpers import scratch_secrets

    scratch_secrets()
    from governance import pipeline
    from governance.golden import survivorship
    from governance.privacy import dsr, retention
    from governance.sources import ingest
    from governance.store.storage import open_database
    from helpers import load_generated

    work = Path(tempfile.mkdtemp(prefix="steward-dsr-bench-"))
    db = open_database(work / "bench.duckdb")
    ws = timed("generate, ingest, standardize, resolve", lambda: load_generated(db, work / "d", args.customers, seed=1))
    timed("golden records + profile", lambda: (survivorship.build_golden(db), pipeline.refresh_quality(db, "bench")))
    with db.cursor() as cur:
        records = cur.execute("SELECT count(*) FROM std_records").fetchone()[0]
        oneid = cur.execute("SELECT oneid FROM crosswalk GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]
    print(f"records: {records:,}")

    def request(kind: str) -> int:
        request_id = dsr.create(db, "bench", kind, "requester", oneids=[oneid])
        dsr.verify(db, "bench", request_id, "benchmark")
        return request_id

    files = timed("access package of one person", lambda: dsr.access_package(db, "bench", request("access")))
    print(f"  {len(files)} files")
    result = timed("erase one person (one transaction)", lambda: pipeline.delete_person(db, "bench", request("deletion")))
    print(f"  {result.records} records, {sum(result.deleted.values())} rows in {len(result.deleted)} tables")
    biggest = max(ws.files, key=lambda f: len(f.data))
    again = ingest.ingest_file(db, work / "d" / biggest.file_name, actor="bench", source=biggest.source,
                               channel=biggest.channel, force=True).batch_id
    with_tombstone = timed(f"standardize a re-upload of {biggest.source}, tombstone active",
                           lambda: pipeline.standardize(db, "bench", [again]))
    with db.transaction() as cur:
        cur.execute("UPDATE dsr_tombstones SET lifted_at = now()::TIMESTAMP")
    timed("the same standardize, no active tombstone", lambda: pipeline.standardize(db, "bench", [again]))
    print(f"  {with_tombstone.records:,} rows, {with_tombstone.suppressed} suppressed")
    with db.transaction() as cur:
        # Both batches of the source (the resolved original and the re-upload) are past retention.
        cur.execute("UPDATE batches SET uploaded_at = uploaded_at - INTERVAL 800 DAY WHERE source = ?", [biggest.source])
    retention.set_policy(db, "bench", "source", biggest.source, 365)
    with db.cursor() as cur:
        found = timed("retention scan", lambda: retention.scan(cur, "source", biggest.source))
    # pipeline.apply_retention runs these two in one transaction; timed apart here
    timed(f"retention apply: erase {found.records:,} records of {found.oneids:,} OneIDs (one transaction)",
          lambda: retention.apply(db, "bench", "source", biggest.source, found.records))
    timed("then the incremental golden refresh", lambda: survivorship.refresh_golden(db))
    db.close()


if __name__ == "__main__":
    main()
