"""Audience benchmark at N OneIDs with ~10 events each, built-in tags and a consent ledger:
1. the live count (audiences.members.count) of a five-condition rule, next to one hand-written SQL
   count(*) of the same condition and exclusions in the same run: targets <= 2x it, under 1 s;
2. an SMS activation file of ~half the OneIDs (audiences.activation.export) in a child process, with
   the process's peak resident memory (ru_maxrss: Python and DuckDB together): target < 1 GiB;
3. the read API against the local server (`python -m governance serve` in a subprocess): 20 client
   threads for `--seconds` (default 60), half POST /api/v1/lookup by mobile, half GET
   /api/v1/customers/{oneid}: p50 / p95 latency, target p95 < 50 ms.

The store is benchmarks/tags.py's (`build`: batches, std_events, crosswalk and golden_wide in SQL), plus:
- a CRM batch with one standardized record per OneID (its mobile, province, birth date, WeChat ids)
  placed in the crosswalk, so lookups by mobile and batch-tied consent work as in the product;
- golden_wide filled from those records: mobile (95 %), province, union_id (30 %), open_id (20 %),
  minors under 14 (3 %);
- consent_records: marketing for 80 % of the OneIDs (half tied to the CRM record's batch row, half to
  the OneID), 5 % of them withdrawn later, 3 % granted with an expiry already past; a guardian's consent
  for half the minors; analytics for 5 %;
- every built-in tag computed as of AS_OF (so the count's as-of date is AS_OF).

    python benchmarks/audiences.py [--oneids 1000000] [--events-per 10] [--seconds 60] [--store PATH]

`--store PATH` keeps the generated store there (and reuses it when it exists).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import tags as tag_bench  # noqa: E402  (benchmarks/tags.py: the store of OneIDs and events)

AS_OF = tag_bench.AS_OF
REC = tag_bench.REC
PROVINCES = ("广东省", "浙江省", "江苏省", "北京市", "上海市", "四川省", "山东省", "湖北省")
APP = "wx53e62912ab229f36"
PASSWORD = "bench password long enough"

# the five conditions: a tag, two golden fields, the age, and spend in 365 days
RULE = {"all": [{"tag": "lifecycle_stage", "in": ["active", "new", "dormant"]},
                {"field": "province", "in": ["广东省", "浙江省", "江苏省"]},
                {"field": "channels", "in": ["tmall", "jd"]},
                {"field": "age", "gte": 25},
                {"event": "spend", "days": 365, "gte": 500}]}


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def build(db, oneids: int, per: int) -> int:
    """benchmarks/tags.py's store, the CRM records, golden contact fields and the consent ledger."""
    events = tag_bench.build(db, oneids, per)
    with db.transaction() as cur:
        crm = cur.execute("SELECT max(batch_id) + 1 FROM batches").fetchone()[0]
        cur.execute("""INSERT INTO batches (batch_id, source, channel, file_name, file_format, sha256, size_bytes,
                       row_count, column_count, table_name, uploaded_by, uploaded_at)
                       VALUES (?, 'crm', 'crm', 'crm.csv', 'csv', 'crm', 0, ?, 8, 'raw_crm', 'bench',
                               TIMESTAMP '2026-01-01')""", [crm, oneids])
        # one CRM record per OneID, row r for the r-th OneID in order
        cur.execute("""CREATE TEMP TABLE people AS
            SELECT oneid, row_number() OVER (ORDER BY oneid) AS r, hash(oneid || 'x') AS h
            FROM golden_wide""")
        given = ("mobile", "province", "wechat_union_id", "wechat_open_id", "wechat_app_id")
        missing = ", ".join(f"'missing' AS {c}" for (c,) in cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'std_records' "
            "AND column_name LIKE '%\\_status' ESCAPE '\\' AND is_nullable = 'NO'").fetchall()
            if c.removesuffix("_status") not in given)
        cur.execute(f"""INSERT INTO std_records BY NAME
            SELECT {missing}, {crm} AS batch_id, 'crm' AS source, r AS row_number,
                   CASE WHEN h % 100 < 95 THEN '1' || (3 + h % 7)::VARCHAR || lpad((r * 7919 % 1000000000)::VARCHAR, 9, '0')
                   END AS mobile,
                   CASE WHEN h % 100 < 95 THEN 'valid' ELSE 'missing' END AS mobile_status,
                   (?::VARCHAR[])[1 + (h // 100 % {len(PROVINCES)})::INT] AS province, 'valid' AS province_status,
                   CASE WHEN h // 1000 % 10 < 3 THEN 'oU' || md5(oneid)[1:26] END AS wechat_union_id,
                   CASE WHEN h // 1000 % 10 < 3 THEN 'valid' ELSE 'missing' END AS wechat_union_id_status,
                   CASE WHEN h // 1000 % 10 < 2 THEN 'oA' || md5(oneid || 'o')[1:26] END AS wechat_open_id,
                   CASE WHEN h // 1000 % 10 < 2 THEN 'valid' ELSE 'missing' END AS wechat_open_id_status,
                   CASE WHEN h // 1000 % 10 < 2 THEN '{APP}' END AS wechat_app_id,
                   CASE WHEN h // 1000 % 10 < 2 THEN 'valid' ELSE 'missing' END AS wechat_app_id_status
            FROM people""", [list(PROVINCES)])
        cur.execute(f"INSERT INTO crosswalk SELECT {crm} * {REC} + r, {crm}, r, 'crm', oneid, 'bench', 1 FROM people")
        cur.execute(f"""UPDATE golden_wide g SET mobile = s.mobile, province = s.province,
                        wechat_union_id = s.wechat_union_id, wechat_open_id = s.wechat_open_id,
                        wechat_app_id = s.wechat_app_id,
                        is_minor = p.h // 10000 % 100 < 3,
                        birth_date = CASE WHEN p.h // 10000 % 100 < 3
                                          THEN strftime(DATE '2014-01-01' + (p.h % 1500)::INT, '%Y-%m-%d')
                                          ELSE g.birth_date END
                        FROM people p JOIN std_records s ON s.batch_id = {crm} AND s.row_number = p.r
                        WHERE p.oneid = g.oneid""")
        # the consent ledger: marketing for 80 %, half tied to the CRM row, half to the OneID
        cur.execute(f"""INSERT INTO consent_records
            SELECT nextval('consent_seq'), CASE WHEN h // 7 % 2 = 0 THEN oneid END,
                   CASE WHEN h // 7 % 2 = 1 THEN {crm} END, CASE WHEN h // 7 % 2 = 1 THEN r END,
                   'marketing', 'granted', 'crm', TIMESTAMP '2025-06-01' + to_seconds((h % 86400)::BIGINT),
                   'source_import', NULL, NULL, 'bench',
                   CASE WHEN h // 13 % 100 < 3 THEN TIMESTAMP '2026-01-01' END, TIMESTAMP '2026-01-02'
            FROM people WHERE h // 100000 % 100 < 80""")
        cur.execute("""INSERT INTO consent_records
            SELECT nextval('consent_seq'), oneid, NULL, NULL, 'marketing', 'withdrawn', 'crm',
                   TIMESTAMP '2026-02-01', 'verbal', NULL, NULL, 'bench', NULL, TIMESTAMP '2026-02-01'
            FROM people WHERE h // 100000 % 100 < 80 AND h // 17 % 100 < 5""")
        cur.execute("""INSERT INTO consent_records
            SELECT nextval('consent_seq'), g.oneid, NULL, NULL, 'guardian', 'granted', 'crm',
                   TIMESTAMP '2026-01-05', 'written', NULL, NULL, 'bench', NULL, TIMESTAMP '2026-01-05'
            FROM golden_wide g JOIN people p USING (oneid) WHERE g.is_minor AND p.h // 19 % 2 = 0""")
        cur.execute(f"""INSERT INTO consent_records
            SELECT nextval('consent_seq'), NULL, {crm}, r, 'analytics', 'granted', 'crm', TIMESTAMP '2025-06-01',
                   'source_import', NULL, NULL, 'bench', NULL, TIMESTAMP '2025-06-01'
            FROM people WHERE h // 23 % 100 < 5""")
        cur.execute("DROP TABLE people")
        from governance.access import auth
        from governance.tags import library
        library.ensure_builtins(cur)
    auth.create_user(db, "bench", "admin", PASSWORD, "admin")
    auth.create_user(db, "bench", "steward", PASSWORD, "steward")
    return events


def handwritten_sql(purpose: str = "marketing") -> str:
    """RULE and the sms exclusions written by hand over the documented views and tables: the members."""
    d = f"DATE '{AS_OF}'"
    birth = "TRY_CAST(g.birth_date AS DATE)"
    return f"""
        SELECT count(*) FROM golden_wide g
        JOIN tag_values t ON t.oneid = g.oneid AND t.tag_code = 'lifecycle_stage'
        JOIN tag_values s ON s.oneid = g.oneid AND s.tag_code = 'rfm_monetary_365'
        JOIN consent_current k ON k.oneid = g.oneid AND k.purpose = '{purpose}' AND k.state = 'granted'
        WHERE t.value IN ('active', 'new', 'dormant') AND g.province IN ('广东省', '浙江省', '江苏省')
          AND list_has_any(g.channels, ['tmall', 'jd'])
          AND year({d}) - year({birth}) - CASE WHEN (month({d}), day({d})) < (month({birth}), day({birth}))
                                               THEN 1 ELSE 0 END >= 25
          AND s.number >= 500
          AND (NOT coalesce(g.is_minor, false) OR g.oneid IN (SELECT oneid FROM consent_current
                                                               WHERE purpose = 'guardian' AND state = 'granted'))
          AND regexp_matches(g.mobile, '(^| )1[3-9][0-9]{{9}}( |$)')"""


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    """The best of `repeat` runs (the machine is shared) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def bench_count(db) -> None:
    from governance.audiences import members

    with db.cursor() as cur:
        ours, found = timed(lambda: members.count(cur, RULE, "marketing", "sms"))
        hand, row = timed(lambda: cur.execute(handwritten_sql()).fetchone())
        plain, _ = timed(lambda: cur.execute(f"SELECT count(*) FROM ({members.matched_sql(cur, RULE)})").fetchone())
    assert isinstance(found, members.Count) and isinstance(row, tuple)
    print(f"count of the five-condition rule (members.count, every exclusion): {ours:.3f}s "
          f"-> {found.members:,} members, excluded {found.excluded}")
    print(f"hand-written SQL count(*) of the same members: {hand:.3f}s -> {row[0]:,} "
          f"(same: {'yes' if row[0] == found.members else 'NO'})")
    print(f"  ratio {ours / hand:.2f}x (target <= 2x), under 1 s: {'yes' if ours < 1 else 'NO'}; "
          f"matched only (members.matched_sql): {plain:.3f}s")


# ---- the activation export, in a child process ------------------------------------------------------

EXPORT_RULE = {"field": "province", "in": list(PROVINCES[:6])}  # ~75 % of the OneIDs before exclusions


def export_child(path: str, out: str) -> None:
    """One SMS export in this process; prints seconds, rows and the peak resident memory as JSON."""
    from governance.audiences import activation
    from governance.store.storage import open_database

    db = open_database(path)
    started = time.perf_counter()
    result = activation.export(db, "admin", "admin", "bench_sms", "sms", "marketing", out)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    db.close()
    print(json.dumps({"seconds": seconds, "rows": result.rows, "peak_bytes": peak, "bytes": Path(out).stat().st_size}))


def bench_export(db, path: Path, out: Path) -> None:
    from governance.audiences import library

    started = time.perf_counter()
    with db.cursor() as cur:
        exists = cur.execute("SELECT 1 FROM audiences WHERE name = 'bench_sms'").fetchone()
    if not exists:
        library.save(db, "steward", "bench_sms", EXPORT_RULE, "marketing")
        print(f"saved the export audience (members computed): {time.perf_counter() - started:.1f}s")
    db.checkpoint()
    db.close()
    done = subprocess.run([sys.executable, __file__, "--export-child", str(path), str(out)], capture_output=True,
                          text=True)
    if done.returncode:
        raise SystemExit(f"the export child failed:\n{done.stderr[-3000:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    mib = 1024 * 1024
    print(f"SMS activation export of {found['rows']:,} members: {found['seconds']:.1f}s, "
          f"peak resident memory {found['peak_bytes'] / mib:.0f} MiB (target < 1024 MiB: "
          f"{'yes' if found['peak_bytes'] < 1024 * mib else 'NO'}), file {found['bytes'] / mib:.1f} MiB")


# ---- the read API against the local server -----------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Client:
    """One API client on a kept-alive connection (as a service's HTTP pool keeps them), reconnecting after
    an error."""

    def __init__(self, port: int, key: str):
        self.port, self.headers = port, {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.conn: http.client.HTTPConnection | None = None

    def call(self, path: str, body: dict | None = None) -> int:
        """The status; 0 when the connection was refused, reset or timed out (a kept connection the server
        closed meanwhile is opened again once, as HTTP pools do)."""
        for _attempt in (1, 2):
            reused = self.conn is not None
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                self.conn.request("POST" if body is not None else "GET", f"/api/v1{path}",
                                  body=json.dumps(body).encode() if body is not None else None, headers=self.headers)
                response = self.conn.getresponse()
                response.read()
                return int(response.status)
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if not reused:
                    break
        return 0


def bench_api(path: Path, seconds: float, clients: int, rates: list[float]) -> None:
    """Closed loop (each client sends its next call when the last is answered: the server's capacity),
    then open loop at each total rate in `rates` (calls sent on a schedule, each call's latency counted
    from its scheduled time, so a server falling behind shows in full)."""
    from governance.store import serving
    from governance.store.storage import open_database

    env = {**os.environ}
    cli = [sys.executable, "-m", "governance", "--db", str(path)]
    added = subprocess.run([*cli, "apikeys", "add", f"bench{int(time.time())}", "--role", "analyst", "--scopes",
                            "tags:read,customers:read", "--rate", "100000", "--json", "--actor", "admin"],
                           capture_output=True, text=True, env=env, cwd=ROOT)
    if added.returncode:
        raise SystemExit(f"apikeys add failed:\n{added.stderr[-2000:]}")
    key = json.loads(added.stdout.strip().splitlines()[-1])["key"]
    db = open_database(path)
    with db.cursor() as cur:  # people the API may show: adults with a mobile
        people = cur.execute("SELECT oneid, mobile FROM golden_wide WHERE mobile IS NOT NULL AND NOT is_minor "
                             "USING SAMPLE 50000 ROWS").fetchall()
    started = time.perf_counter()  # what the server does at its start and after each bulk write
    built = serving.build_missing(db)
    print(f"serving indexes built: {len(built)} in {time.perf_counter() - started:.1f}s")
    db.close()
    port = _free_port()
    server = subprocess.Popen([*cli, "serve", "--port", str(port), "--address", "127.0.0.1"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while _Client(port, key).call("/tags") != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not come up")
            time.sleep(0.5)
        for rate in [None, *rates]:
            _api_phase(port, key, people, seconds, clients, rate)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _api_phase(port: int, key: str, people: list, seconds: float, clients: int, rate: float | None) -> None:
    latencies: list[tuple[str, float, int]] = []
    lock = threading.Lock()
    begin = time.perf_counter() + 0.5
    stop = begin + seconds
    interval = clients / rate if rate else 0.0  # each client's schedule in the open loop

    def client(n: int) -> None:
        api = _Client(port, key)
        i, due = n, begin + interval * n / clients
        while (due if rate else time.perf_counter()) < stop:
            if rate:
                time.sleep(max(0.0, due - time.perf_counter()))
            oneid, mobile = people[i % len(people)]
            kind = "lookup" if i % 2 == 0 else "customer"
            started = due if rate else time.perf_counter()
            status = api.call("/lookup", {"mobile": mobile}) if kind == "lookup" else api.call(f"/customers/{oneid}")
            with lock:
                latencies.append((kind, time.perf_counter() - started, status))
            i += clients
            due += interval

    print(f"load average (1, 5, 15 min): {load()}")
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses: dict[int, int] = {}
    for _, _, status in latencies:
        statuses[status] = statuses.get(status, 0) + 1
    mode = f"open loop, {rate:.0f} calls/s offered" if rate else "closed loop"
    print(f"API, {clients} clients for {seconds:.0f}s, {mode}: {len(latencies):,} calls "
          f"({len(latencies) / seconds:.0f}/s), statuses {statuses}")
    for kind in ("lookup", "customer", None):
        times = sorted(e for k, e, _ in latencies if kind is None or k == kind)
        if times:
            p50, p95 = times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.95))]
            label = {"lookup": "POST /lookup (mobile)", "customer": "GET /customers/{oneid}", None: "all"}[kind]
            print(f"  {label:24s} p50 {p50 * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms"
                  + (f"  (p95 < 50 ms: {'yes' if p95 < 0.05 else 'NO'})" if kind is None else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--oneids", type=int, default=1_000_000)
    parser.add_argument("--events-per", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the API clients run (default 60)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rates", default="", help="open-loop total call rates to run after the closed loop, "
                                                    "comma-separated (e.g. 50,100)")
    parser.add_argument("--store", help="keep the store in this file (reused when it exists)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: count,export,api")
    parser.add_argument("--export-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    from helpers import scratch_secrets
    scratch_secrets()
    from governance.store.storage import open_database
    from governance.tags import compute

    if args.export_child:
        export_child(*args.export_child)
        return 0
    skip = set(filter(None, args.skip.split(",")))
    tmp = tempfile.mkdtemp(prefix="steward-bench-audiences-")
    try:
        path = Path(args.store) if args.store else Path(tmp) / "bench.duckdb"
        fresh = not path.exists()
        db = open_database(path)
        if fresh:
            started = time.perf_counter()
            events = build(db, args.oneids, args.events_per)
            print(f"store: {args.oneids:,} OneIDs, {events:,} events, built in {time.perf_counter() - started:.1f}s")
            tagged = compute.compute(db, "bench", as_of=AS_OF, full=True)
            print(f"built-in tags as of {AS_OF}: {tagged.seconds:.1f}s")
            db.checkpoint()
        with db.cursor() as cur:
            sizes = cur.execute("SELECT (SELECT count(*) FROM golden_wide), (SELECT count(*) FROM std_events), "
                                "(SELECT count(*) FROM consent_records), (SELECT count(*) FROM tag_values)").fetchone()
            assert sizes is not None
        print(f"store: {sizes[0]:,} OneIDs, {sizes[1]:,} events, {sizes[2]:,} consent records, {sizes[3]:,} tag values")
        print(f"load average (1, 5, 15 min): {load()}")
        if "count" not in skip:
            bench_count(db)
            print(f"load average (1, 5, 15 min): {load()}")
        if "export" not in skip:
            bench_export(db, path, Path(tmp) / "bench_sms.txt")  # closes the store
            print(f"load average (1, 5, 15 min): {load()}")
        else:
            db.close()
        if "api" not in skip:
            bench_api(path, args.seconds, args.clients, [float(r) for r in args.rates.split(',') if r])
            print(f"load average (1, 5, 15 min): {load()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
