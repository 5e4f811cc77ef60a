"""Serving indexes: the ART indexes that make the read API's per-person reads point lookups.

DuckDB scans a column to find one person (tag values 80 ms, the crosswalk 90 ms at 1M OneIDs), so the
API reads through these indexes. An index is maintained row by row on every write, which makes bulk
writes many times slower (rewriting 1M crosswalk rows: 0.3 s without, 34 s with one; inserting 1M
rows under four indexes: 1.3 s without, 5.3 s with them, while building one afterwards takes about
0.4 s). So a writer about to touch more than a tenth of a table drops its indexes (`drop`, inside its
own transaction), and the process serving the API builds the missing ones again (`Keeper`), one
index per transaction. Until then the API answers the same, by scanning. Smaller writes keep the
indexes and maintain them. Every name starts with SERVING_PREFIX: pending migrations drop them all
first, since DuckDB refuses to alter a column of an indexed table.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

import duckdb

from governance.store.errors import log_incident
from governance.store.migrations import SERVING_PREFIX
from governance.store.storage import Database, scalar

# index name -> (table, column)
INDEXES: dict[str, tuple[str, str]] = {f"{SERVING_PREFIX}{name}": target for name, target in {
    "golden_oneid": ("golden_wide", "oneid"),
    "tags_oneid": ("tag_values", "oneid"),
    "crosswalk_oneid": ("crosswalk", "oneid"),
    "consent_oneid": ("consent_records", "oneid"),
    "std_mobile": ("std_records", "mobile"),
    "std_union_id": ("std_records", "wechat_union_id"),
    "std_open_id": ("std_records", "wechat_open_id"),
    "std_member_card": ("std_records", "member_card"),
}.items()}
BULK_SHARE = 0.1  # a write touching more than this share of a table's rows drops its indexes
CHECK_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 300.0


def drop(cur: duckdb.DuckDBPyConnection, table: str, rows: int | None = None) -> None:
    """Before a write of `rows` rows (None: the whole table), inside the writer's transaction: drop
    `table`'s serving indexes when the write is bulk (more than BULK_SHARE of the table)."""
    names = [name for name, (owner, _) in INDEXES.items() if owner == table]
    if rows is not None:
        present = {r[0] for r in cur.execute("SELECT index_name FROM duckdb_indexes() WHERE table_name = ?",
                                             [table]).fetchall()}
        names = [n for n in names if n in present]
        if not names or rows <= BULK_SHARE * scalar(cur, f"SELECT count(*) FROM {table}"):
            return
    for name in names:
        cur.execute(f"DROP INDEX IF EXISTS {name}")


def missing(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The serving indexes the store lacks, in INDEXES order."""
    present = {r[0] for r in cur.execute("SELECT index_name FROM duckdb_indexes()").fetchall()}
    return [name for name in INDEXES if name not in present]


def build_missing(db: Database, names: list[str] | None = None) -> list[str]:
    """Build the missing serving indexes (or those of `names`), one per transaction: a writer waits for
    one index at most. Stops early while another process waits for the store file."""
    built = []
    if names is None:
        with db.cursor() as cur:
            names = missing(cur)
    for name in names:
        if db.others_waiting():
            break
        table, column = INDEXES[name]
        with db.transaction() as cur:
            cur.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})")
        built.append(name)
    return built


class Keeper:
    """A daemon thread of the serving process that rebuilds dropped serving indexes: every CHECK_SECONDS,
    when the store is open for other work and may have changed since the last check (Database.generation;
    opening it counts, since another process may have written meanwhile). It never opens an idle store,
    and gives way to a process waiting for the file. A failure goes to the incident log once and is
    retried later and later (up to MAX_BACKOFF_SECONDS)."""

    def __init__(self, db_provider: Callable[[], Database], interval: float = CHECK_SECONDS):
        self.db_provider = db_provider
        self.interval = interval
        self._started = False
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def start(self) -> None:
        with self._lock:
            if not self._started:
                self._started = True
                threading.Thread(target=self._run, name="steward-serving-indexes", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        checked: tuple[int, int] | None = None  # (store, generation) last found complete
        wait, failed = self.interval, ""
        while not self._stopped.wait(wait):
            db: Database | None = None
            try:
                db = self.db_provider()
                seen = (id(db), db.generation)
                if seen == checked or db.others_waiting():
                    continue
                with db.cursor_if_open() as cur:
                    todo = missing(cur) if cur is not None else None
                if todo is None:
                    continue
                build_missing(db, todo)  # its own builds move the generation on: the next round checks again
                checked, failed, wait = seen, "", self.interval
            except Exception as exc:  # noqa: BLE001 - the API answers by scanning meanwhile
                if str(exc) != failed and db is not None:
                    failed = str(exc)
                    log_incident(exc, db.path.parent)
                wait = min(MAX_BACKOFF_SECONDS, wait * 2)
