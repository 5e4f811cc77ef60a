"""The one owner of the DuckDB store.

`open_database(path)` returns the process-wide `Database` for a file: it opens the
root connection once, applies migrations, and then hands out a fresh cursor per
unit of work (`db.cursor()`), because a DuckDB connection refuses concurrent calls
from two threads. Writes that must not interleave go through `db.transaction()`,
which holds one lock for the whole transaction.

A transaction opened while the same thread already holds one joins it, and so does a
cursor: the pipeline opens one transaction around several stages, each stage opens
its own as usual, and the whole step commits once or not at all.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Iterator

import duckdb

from governance.store import migrations
from governance.store.config import resolve_db_path
from governance.store.errors import StoreBusyError

RAW_SCHEMA = "raw"

_registry: dict[Path, "Database"] = {}
_registry_lock = threading.Lock()


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (double quotes doubled), for names we did not write."""
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """An SQL string literal (single quotes doubled), for text built into generated SQL."""
    return "'" + str(text).replace("'", "''") + "'"


def one(cur: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> tuple[Any, ...]:
    """The first row of a query that always returns one (count(*), nextval, an aggregate)."""
    row = cur.execute(sql, params).fetchone()
    if row is None:
        raise LookupError(f"Query returned no row: {sql}")
    return row


def scalar(cur: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> Any:
    """The first column of `one(cur, sql, params)`."""
    return one(cur, sql, params)[0]


def keep_files_private() -> None:
    """Files and folders this process creates from now on (the store, its WAL, exports, packages,
    logs) are readable by their owner only (umask 077): they hold personal data."""
    os.umask(0o077)


class Database:
    """A DuckDB file with migrations applied; use `cursor()` and `transaction()`."""

    def __init__(self, path: Path):
        self.path = path
        keep_files_private()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        for own in (path, Path(f"{path}.wal")):  # a store made by an earlier release may be readable by others
            with suppress(OSError):
                if own.exists():
                    os.chmod(own, 0o600)
        try:
            self._root = duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreBusyError(
                    f"The database {path} is in use by another process (is the app running?). "
                    "Stop it, or use another file with --db."
                ) from exc
            raise
        self.lock = threading.RLock()
        self._local = threading.local()  # the open transaction's cursor, per thread
        with self.transaction() as cur:
            migrations.apply(cur)

    def _open(self) -> duckdb.DuckDBPyConnection | None:
        return getattr(self._local, "cur", None)

    @property
    def in_transaction(self) -> bool:
        return self._open() is not None

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for reading; inside this thread's transaction, that transaction's cursor."""
        open_cur = self._open()
        if open_cur is not None:
            yield open_cur
            return
        cur = self._root.cursor()
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One atomic, serialized unit of writing: all of it lands, or none. Opened inside another
        transaction of this thread, it joins that one and commits (or rolls back) with it."""
        open_cur = self._open()
        if open_cur is not None:
            yield open_cur
            return
        with self.lock, self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            self._local.cur, self._local.checkpoint = cur, False
            try:
                yield cur
            except BaseException:
                self._local.cur = None
                with suppress(duckdb.Error):  # an aborted transaction may refuse it; keep the first error
                    cur.execute("ROLLBACK")
                raise
            self._local.cur = None
            cur.execute("COMMIT")
        if self._local.checkpoint:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Write the WAL into the database file now (after the open transaction, if any, commits).
        When another transaction keeps DuckDB from it, the next automatic checkpoint does it."""
        if self.in_transaction:
            self._local.checkpoint = True
            return
        with self.cursor() as cur, suppress(duckdb.Error):
            cur.execute("CHECKPOINT")

    def close(self) -> None:
        with _registry_lock:
            _registry.pop(self.path, None)
        self._root.close()


def open_database(path: str | Path | None = None) -> Database:
    """The process-wide Database for `path` (see config.resolve_db_path)."""
    resolved = resolve_db_path(path)
    with _registry_lock:
        db = _registry.get(resolved)
        if db is None:
            db = _registry[resolved] = Database(resolved)
        return db


def compact(path: Path) -> dict[str, int]:
    """Rewrite the store into a fresh file and swap it in, so erased values no longer linger in
    freed blocks of the DuckDB file (a DELETE only marks rows; their bytes stay on disk until the
    blocks are reused). Needs exclusive use of the file: stop the app first. Returns the file
    size before and after."""
    path = Path(path)
    fresh = path.with_name(path.name + ".compact")
    fresh.unlink(missing_ok=True)
    before = path.stat().st_size
    con = duckdb.connect(str(path))
    try:
        name = scalar(con, "SELECT current_database()")
        con.execute("CHECKPOINT")
        con.execute(f"ATTACH {quote_literal(str(fresh))} AS compacted")
        con.execute(f"COPY FROM DATABASE {quote_ident(name)} TO compacted")
        con.execute("DETACH compacted")
    finally:
        con.close()
    os.replace(fresh, path)
    return {"bytes_before": before, "bytes_after": path.stat().st_size}
