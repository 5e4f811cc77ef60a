"""Serving indexes: the ART indexes that make the read API's per-person reads point lookups.

DuckDB scans a column to find one person (tag values 80 ms, the crosswalk 90 ms at 1M OneIDs), so the
API reads through these indexes. An index is maintained row by row on every write, which makes bulk
writes many times slower (rewriting 1M crosswalk rows: 0.3 s without, 34 s with one). So each bulk
writer drops the indexes of the table it rewrites (`drop`, inside its own transaction), and the
process serving the API builds the missing ones again afterwards (`Keeper`), one index per
transaction. Until then the API answers the same, only by scanning. Small writes (a consent, an
erasure) keep the indexes and maintain them.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

import duckdb

from governance.store.storage import Database

# index name -> (table, column)
INDEXES: dict[str, tuple[str, str]] = {
    "serve_golden_oneid": ("golden_wide", "oneid"),
    "serve_tags_oneid": ("tag_values", "oneid"),
    "serve_crosswalk_oneid": ("crosswalk", "oneid"),
    "serve_consent_oneid": ("consent_records", "oneid"),
    "serve_std_mobile": ("std_records", "mobile"),
    "serve_std_union_id": ("std_records", "wechat_union_id"),
    "serve_std_open_id": ("std_records", "wechat_open_id"),
    "serve_std_member_card": ("std_records", "member_card"),
}
CHECK_SECONDS = 5.0


def drop(cur: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop `table`'s serving indexes before a bulk write (inside the writer's transaction)."""
    for name, (owner, _) in INDEXES.items():
        if owner == table:
            cur.execute(f"DROP INDEX IF EXISTS {name}")


def missing(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The serving indexes the store lacks, in INDEXES order."""
    present = {r[0] for r in cur.execute("SELECT index_name FROM duckdb_indexes()").fetchall()}
    return [name for name in INDEXES if name not in present]


def build_missing(db: Database) -> list[str]:
    """Build the missing serving indexes, one per transaction (a writer waits for one index at most)."""
    built = []
    with db.cursor() as cur:
        names = missing(cur)
    for name in names:
        table, column = INDEXES[name]
        with db.transaction() as cur:
            cur.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})")
        built.append(name)
    return built


class Keeper:
    """A daemon thread of the serving process that rebuilds dropped serving indexes: every CHECK_SECONDS,
    when the store is open for other work and may have changed since the last check (Database.generation;
    opening it counts, since another process may have written meanwhile). A failure is retried."""

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
        while not self._stopped.is_set():
            try:
                db = self.db_provider()
                seen = (id(db), db.generation)
                if db.is_open and seen != checked:  # it may have changed since; an idle store is left closed
                    build_missing(db)  # its own builds move the generation on: the next round checks again
                    checked = seen
            except Exception:  # noqa: BLE001 - retried at the next check; the API answers by scanning meanwhile
                checked = None
            self._stopped.wait(self.interval)
