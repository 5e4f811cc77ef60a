"""Tag benchmark: every built-in tag computed for N OneIDs with ~10 events each, next to a single
`SELECT oneid, count(*), sum(amount), max(event_time) FROM customer_events GROUP BY oneid` in the same
run; then an incremental refresh after 1 % of the OneIDs got new events. Targets: the full computation
within 3x the GROUP BY, the incremental one within 5 % of the full one.

Shortcuts (the store is generated in SQL, not through the pipeline, to reach millions of events fast):
- batches, std_events and crosswalk rows are inserted directly (no raw files, std_records or matching);
  every event row is a record of its OneID in the crosswalk, as the pipeline would place it;
- golden_wide gets one row per OneID with the columns tags read (birth date, gender, province, city,
  channels, counts, seen times, members hash) and the rest NULL, instead of a survivorship build;
- the 1 % change adds a batch with one new event per changed OneID and updates those golden rows the way
  a golden refresh would (record count, last_seen, members hash);
- no source tag mappings exist, so member_tier computes nothing.

    python benchmarks/tags.py [--oneids 1000000] [--events-per 10]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

AS_OF = date(2026, 3, 31)
CHANNELS = ("tmall", "jd", "douyin", "pos", "wechat_mp")
CATEGORIES = ("美妆护肤", "食品饮料", "服饰", "母婴", "家居", "数码", "运动", "个护")
CITIES = ("深圳市", "杭州市", "北京市", "佛山市", "某县", "成都", "上海市", "温州市", "兰州市", "")
BATCHES_PER_CHANNEL = 4
REC = 4294967296


def build(db, oneids: int, per: int) -> int:
    """The generated store; returns the number of events."""
    events = oneids * per
    nb = len(CHANNELS) * BATCHES_PER_CHANNEL
    rows_per = -(-events // nb)
    with db.transaction() as cur:
        cur.execute(f"""INSERT INTO batches (batch_id, source, channel, file_name, file_format, sha256, size_bytes,
                        row_count, column_count, table_name, uploaded_by, uploaded_at)
                        SELECT b, c || '_orders', c, 'f' || b || '.csv', 'csv', 'x' || b, 0, {rows_per}, 10,
                               'raw_' || b, 'bench', TIMESTAMP '2026-01-01' + to_days(b::INT)
                        FROM (SELECT b, (?::VARCHAR[])[1 + ((b - 1) % {len(CHANNELS)})::INT] AS c
                              FROM range(1, {nb + 1}) t(b))""", [list(CHANNELS)])
        # event i: batch 1 + i % nb, row i // nb + 1; person hash(i) % N; two-line orders on even rows
        cur.execute(f"""
            INSERT INTO std_events
            SELECT 1 + i % {nb} AS batch_id, i // {nb} + 1 AS row_number,
                   (?::VARCHAR[])[1 + (i % {nb} % {len(CHANNELS)})::INT] || '_orders' AS source,
                   CASE WHEN h % 5 <> 0 THEN 'O' || (i // 2) END AS order_id,
                   TIMESTAMP '{AS_OF} 23:59:59' - to_seconds((h % (730 * 86400))::BIGINT) AS event_time,
                   ((h // 7) % 100000 / 100.0)::DECIMAL(18,2) AS amount, 1 AS quantity, 'p' AS product_name,
                   (?::VARCHAR[])[1 + ((h // 11) % {len(CATEGORIES)})::INT] AS product_category,
                   CASE WHEN h % 100 < 85 THEN 'completed' WHEN h % 100 < 92 THEN 'refunded'
                        WHEN h % 100 < 96 THEN 'cancelled' ELSE 'pending' END AS order_status,
                   NULL::INTEGER AS points, NULL AS member_level, []::VARCHAR[] AS unparsed,
                   NULL::TIMESTAMP AS superseded_at
            FROM (SELECT i, hash(i * 31 + 7) AS h FROM range({events}) t(i))""", [list(CHANNELS), list(CATEGORIES)])
        cur.execute(f"""
            INSERT INTO crosswalk
            SELECT e.batch_id * {REC} + e.row_number, e.batch_id, e.row_number, e.source,
                   'OID' || lpad(((hash(e.batch_id * {REC} + e.row_number) % {oneids}))::VARCHAR, 10, '0'),
                   'bench', 1
            FROM std_events e""")
        cur.execute(f"""
            INSERT INTO golden_wide BY NAME
            SELECT c.oneid, count(*) AS record_count, count(DISTINCT b.channel) AS channel_count,
                   list_sort(list_distinct(list(b.channel))) AS channels, min(b.uploaded_at) AS first_seen,
                   max(b.uploaded_at) AS last_seen, false AS is_minor, bit_xor(hash(c.rec_id)) AS members_hash,
                   TIMESTAMP '2026-01-02' AS standardized_at,
                   strftime(DATE '1960-01-01' + (hash(c.oneid) % 18000)::INT, '%Y-%m-%d') AS birth_date,
                   CASE WHEN hash(c.oneid) % 2 = 0 THEN 'female' ELSE 'male' END AS gender,
                   (?::VARCHAR[])[1 + (hash(c.oneid) % {len(CITIES)})::INT] AS city
            FROM crosswalk c JOIN batches b USING (batch_id) GROUP BY c.oneid""", [list(CITIES)])
        cur.execute("UPDATE golden_wide SET city = NULL WHERE city = ''")
    with db.cursor() as cur:
        return int(cur.execute("SELECT count(*) FROM std_events").fetchone()[0])


def change_one_percent(db, oneids: int) -> int:
    """A new batch with one completed event for every 100th OneID, and their golden rows as a refresh
    would leave them."""
    with db.transaction() as cur:
        b = cur.execute("SELECT max(batch_id) + 1 FROM batches").fetchone()[0]
        cur.execute("""INSERT INTO batches (batch_id, source, channel, file_name, file_format, sha256, size_bytes,
                       row_count, column_count, table_name, uploaded_by, uploaded_at)
                       VALUES (?, 'pos_sales', 'pos', 'new.csv', 'csv', 'new', 0, 0, 5, 'raw_new', 'bench',
                               TIMESTAMP '2026-03-31 12:00:00')""", [b])
        cur.execute("""CREATE TEMP TABLE picked AS SELECT oneid, row_number() OVER (ORDER BY oneid) AS r
                        FROM golden_wide WHERE hash(oneid) % 100 = 0""")
        cur.execute(f"""INSERT INTO std_events SELECT ?, r, 'pos_sales', NULL, TIMESTAMP '{AS_OF} 11:00:00',
                        88.00, 1, 'p', '母婴', NULL, NULL, NULL, []::VARCHAR[], NULL FROM picked""", [b])
        cur.execute(f"INSERT INTO crosswalk SELECT ? * {REC} + r, ?, r, 'pos_sales', oneid, 'bench', 2 FROM picked",
                    [b, b])
        cur.execute(f"""UPDATE golden_wide g SET record_count = g.record_count + 1,
                        last_seen = TIMESTAMP '2026-03-31 12:00:00',
                        members_hash = xor(g.members_hash, hash(? * {REC} + p.r))
                        FROM picked p WHERE p.oneid = g.oneid""", [b])
        n = cur.execute("SELECT count(*) FROM picked").fetchone()[0]
        cur.execute("DROP TABLE picked")
    return int(n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--oneids", type=int, default=1_000_000)
    parser.add_argument("--events-per", type=int, default=10)
    parser.add_argument("--dir", help="where the store goes (default: a temporary folder)")
    args = parser.parse_args(argv)

    from helpers import scratch_secrets
    scratch_secrets()
    from governance.store.storage import open_database
    from governance.tags import compute
    from governance.tags.definitions import BUILTINS

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        db = open_database(Path(tmp) / "bench.duckdb")
        started = time.perf_counter()
        events = build(db, args.oneids, args.events_per)
        print(f"store: {args.oneids:,} OneIDs, {events:,} events, built in {time.perf_counter() - started:.1f}s")
        print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
              + f" on {os.cpu_count()} cores")
        db.checkpoint()

        with db.cursor() as cur:
            started = time.perf_counter()
            cur.execute("CREATE OR REPLACE TEMP TABLE baseline AS SELECT oneid, count(*), sum(amount), max(event_time) "
                        "FROM customer_events GROUP BY oneid")
            baseline = time.perf_counter() - started
            cur.execute("DROP TABLE baseline")
        print(f"baseline GROUP BY oneid over customer_events: {baseline:.2f}s")

        full = compute.compute(db, "bench", as_of=AS_OF, full=True, definitions=BUILTINS)
        print(f"full compute of {full.tags} built-in tags: {full.seconds:.2f}s "
              f"({full.seconds / baseline:.2f}x the GROUP BY; target <= 3x)")
        with db.cursor() as cur:
            for code, seconds, with_value in cur.execute(
                    "SELECT tag_code, seconds, with_value FROM tag_runs ORDER BY run_id").fetchall():
                print(f"  {code:20s} {seconds:6.2f}s  {with_value:>9,} values")
        db.checkpoint()

        changed = change_one_percent(db, args.oneids)
        inc = compute.compute(db, "bench", as_of=AS_OF, definitions=BUILTINS)
        print(f"incremental after {changed:,} OneIDs changed ({inc.mode}): {inc.seconds:.2f}s "
              f"({inc.seconds / full.seconds:.1%} of the full compute; target <= 5%)")
        with db.cursor() as cur:
            for code, mode, seconds, n in cur.execute(
                    "SELECT tag_code, mode, seconds, changed FROM tag_runs ORDER BY run_id DESC LIMIT ?",
                    [full.tags]).fetchall()[::-1]:
                print(f"  {code:20s} {mode:11s} {seconds:6.2f}s  {n:>7,} changed")
        print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
