"""Export benchmark: a masked CSV export of 1,000,000 golden records (streamed in chunks, with the
consent ledger joined in), next to DuckDB's own `COPY ... TO csv` of the same table. Each export runs
in a fresh process, so its peak memory (ru_maxrss: Python and DuckDB together) is its own.
Target: peak memory under 1 GiB.

The golden records are generated directly in SQL (realistic Chinese names, valid-looking mobiles,
ID numbers, e-mails, addresses and channel ids), because building them from 1M source records
through ingest, standardize and resolve takes minutes (see the other benchmarks).

    python benchmarks/export.py [--rows 1000000] [--format csv|xlsx|parquet] [--unmasked]

The masked export runs twice: with the masks in the export's SQL (as the product does), and with
every value masked in Python chunk by chunk (the reference the SQL masks reproduce), for comparison.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗") + ["欧阳", "司马"]
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华")
PLACES = [("北京市", "北京市", "朝阳区"), ("上海市", "上海市", "徐汇区"), ("广东省", "广州市", "天河区"),
          ("浙江省", "杭州市", "西湖区"), ("四川省", "成都市", "武侯区"), ("江苏省", "南京市", "鼓楼区")]
CHANNELS = ["crm", "pos", "tmall", "douyin", "wechat_mp"]


def build(path: Path, rows: int) -> float:
    from governance.golden import survivorship  # noqa: F401 (the golden tables' owner)
    from governance.store.schema import FIELD_NAMES
    from governance.store.storage import open_database

    db = open_database(path)
    started = time.perf_counter()
    surnames = "[" + ", ".join(f"'{s}'" for s in SURNAMES) + "]"
    given = "[" + ", ".join(f"'{g}'" for g in GIVEN) + "]"
    places = "[" + ", ".join(f"['{a}', '{b}', '{c}']" for a, b, c in PLACES) + "]"
    channels = "[" + ", ".join(f"'{c}'" for c in CHANNELS) + "]"
    values = {
        "name": f"{surnames}[1 + i % {len(SURNAMES)}] || {given}[1 + (i // 7) % {len(GIVEN)}] "
                f"|| CASE WHEN i % 3 = 0 THEN {given}[1 + (i // 11) % {len(GIVEN)}] ELSE '' END",
        "mobile": "'13' || lpad(((i * 7919) % 1000000000)::VARCHAR, 9, '0') "
                  "|| CASE WHEN i % 4 = 0 THEN ' | 15' || lpad(((i * 104729) % 1000000000)::VARCHAR, 9, '0') ELSE '' END",
        "email": "CASE WHEN i % 2 = 0 THEN 'user' || i || '@qq.com' END",
        "id_card": "CASE WHEN i % 3 = 0 THEN '110105' || (1950 + i % 60) || '0101' || lpad((i % 1000)::VARCHAR, 3, '0') "
                   "|| (i % 10)::VARCHAR END",
        "gender": "CASE WHEN i % 2 = 0 THEN '1' ELSE '2' END",
        "birth_date": "(DATE '1950-01-01' + INTERVAL (i % 20000) DAY)::DATE::VARCHAR",
        "province": f"{places}[1 + i % {len(PLACES)}][1]",
        "city": f"{places}[1 + i % {len(PLACES)}][2]",
        "district": f"{places}[1 + i % {len(PLACES)}][3]",
        "address": f"{places}[1 + i % {len(PLACES)}][1] || {places}[1 + i % {len(PLACES)}][3] || '建设路' || (i % 999) || '号'",
        "wechat_open_id": "CASE WHEN i % 2 = 1 THEN 'oAbC' || md5(i::VARCHAR)[1:24] END",
        "wechat_app_id": "CASE WHEN i % 2 = 1 THEN 'wx53e62912ab229f36' END",
        "member_card": "'CRM' || lpad(i::VARCHAR, 9, '0')",
        "nickname": "CASE WHEN i % 5 = 0 THEN '=cmd|' || i END",  # a formula to neutralize
        "registered_at": "'2024-05-01 10:00:00'",
        "marketing_consent": "CASE WHEN i % 3 = 0 THEN 'false' ELSE 'true' END",
    }
    fields = ", ".join(f"({values[f]})::VARCHAR AS {f}" if f in values else f"NULL::VARCHAR AS {f}" for f in FIELD_NAMES)
    with db.transaction() as cur:
        cur.execute(  # golden_records is a view over the build's table
            f"INSERT INTO golden_wide BY NAME SELECT 'OID' || lpad(i::VARCHAR, 10, '0') AS oneid, {fields}, "
            f"1 + i % 3 AS record_count, 1 + i % 2 AS channel_count, "
            f"list_slice({channels}, 1 + i % 4, 2 + i % 4) AS channels, TIMESTAMP '2026-01-01' AS first_seen, "
            f"TIMESTAMP '2026-11-01' AS last_seen, i % 50 = 0 AS is_minor FROM range(1, {rows + 1}) t(i)")
        cur.execute("INSERT INTO golden_builds VALUES (nextval('golden_build_seq'), now()::TIMESTAMP, 'full', 0, ?, ?, 0)",
                    [rows, rows])
        # a consent ledger: marketing for two thirds of the people
        cur.execute("INSERT INTO consent_records SELECT nextval('consent_seq'), oneid, NULL, NULL, 'marketing', "
                    "CASE marketing_consent WHEN 'true' THEN 'granted' ELSE 'withdrawn' END, 'crm', "
                    "TIMESTAMP '2026-06-01', 'source_import', NULL, NULL, 'bench', NULL, now()::TIMESTAMP "
                    "FROM golden_records")
    seconds = time.perf_counter() - started
    db.close()
    return seconds


def child(path: str, out: str, fmt: str, unmasked: bool, bare: bool, python_masks: bool) -> None:
    from governance.exports import datasets
    from governance.store.storage import open_database

    db = open_database(path)
    if python_masks:
        from helpers import mask_exports_in_python

        mask_exports_in_python(setattr, db, "golden", "admin")
    started = time.perf_counter()
    if bare:
        with db.cursor() as cur:
            cur.execute(f"COPY (SELECT * EXCLUDE (channels) FROM golden_records) TO '{out}' (HEADER)")
        rows = None
    else:
        request = datasets.ExportRequest("golden", "bench", format=fmt, masked=not unmasked,
                                        purpose="benchmark" if unmasked else None, role="admin")
        rows = datasets.run_export(db, request, out).row_count
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_bytes": peak, "bytes": Path(out).stat().st_size,
                      "lines": lines_digest(out)}))


def lines_digest(path: str) -> int:
    """A digest of the file's lines in any order (large exports keep storage order, which can vary)."""
    with open(path, "rb") as fh:
        return sum(int.from_bytes(hashlib.blake2b(line, digest_size=8).digest(), "big") for line in fh) % 2**64


def run_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", default="csv", choices=("csv", "xlsx", "parquet"))
    parser.add_argument("--unmasked", action="store_true")
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from helpers import scratch_secrets

    scratch_secrets()
    if args.child:
        path, out, fmt, unmasked, bare, python_masks = args.child
        child(path, out, fmt, unmasked == "1", bare == "1", python_masks == "1")
        return
    with tempfile.TemporaryDirectory(prefix="steward-bench-export-") as tmp:
        db_path = Path(tmp) / "bench.duckdb"
        built = build(db_path, args.rows)
        print(f"generated {args.rows:,} golden records in SQL in {built:.1f} s")
        bare = run_child(str(db_path), str(Path(tmp) / "bare.csv"), "csv", "0", "1", "0")
        unmasked = "1" if args.unmasked else "0"
        ours = run_child(str(db_path), str(Path(tmp) / f"golden.{args.format}"), args.format, unmasked, "0", "0")
        python = None if args.unmasked else run_child(
            str(db_path), str(Path(tmp) / f"python.{args.format}"), args.format, "0", "0", "1")
    mib = 1024 * 1024
    print(f"DuckDB COPY TO csv (unmasked, no consent join): {bare['seconds']:.2f} s, peak {bare['peak_bytes'] / mib:.0f} MiB, "
          f"{bare['bytes'] / mib:.0f} MiB file")
    print(f"Steward export ({args.format}, {'unmasked' if args.unmasked else 'masked'}, {ours['rows']:,} rows): "
          f"{ours['seconds']:.2f} s ({ours['rows'] / ours['seconds']:,.0f} rows/s), "
          f"peak {ours['peak_bytes'] / mib:.0f} MiB, {ours['bytes'] / mib:.0f} MiB file")
    if python:
        print(f"the same with every value masked in Python: {python['seconds']:.2f} s, "
              f"peak {python['peak_bytes'] / mib:.0f} MiB, same lines: {python['lines'] == ours['lines']}")
    print(f"peak memory under 1 GiB: {'yes' if ours['peak_bytes'] < 1024 * mib else 'NO'}")


if __name__ == "__main__":
    main()
