"""The one owner of the DuckDB store.

`open_database(path)` returns the process-wide `Database` for a file. It hands out a cursor per
unit of work (`db.cursor()`), because a DuckDB connection refuses concurrent calls from two
threads; writes that must not interleave go through `db.transaction()`, which holds one lock for
the whole transaction. A transaction opened while the same thread already holds one joins it, and
so does a cursor: the pipeline opens one transaction around several stages, each stage opens its
own as usual, and the whole step commits once or not at all.

The file is shared with other processes (the app and scheduled CLI commands). DuckDB lets only one
process open a file at a time, so the file is opened when a unit of work starts and closed once no
unit of work has used it for `hold_seconds` (RELEASE_AFTER_IDLE_SECONDS; longer in a process serving
the read API). While another process holds it, opening
waits (bounded) and retries; the holder's name and start time are in `<store>.holder` beside it,
so a waiter can say what it waits for, and a `StoreBusyError` names it when the wait runs out.
"""
from __future__ import annotations

import atexit
import glob
import json
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, Hashable, Iterator, TypeVar

import duckdb

from governance.store import migrations
from governance.store.config import Settings, resolve_db_path
from governance.store.errors import GovernanceError, StoreBusyError, StoreHolder
from governance.store.util import process_alive

T = TypeVar("T")

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
    """The row of a query that always returns one (count(*), nextval, an aggregate). Fetched to the end:
    DuckDB refuses the cursor's next relation while a result is unfinished."""
    rows = cur.execute(sql, params).fetchall()
    if not rows:
        raise LookupError(f"Query returned no row: {sql}")
    return rows[0]


def scalar(cur: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> Any:
    """The first column of `one(cur, sql, params)`."""
    return one(cur, sql, params)[0]


@contextmanager
def arrow_view(cur: duckdb.DuckDBPyConnection, name: str, table: Any) -> Iterator[None]:
    """The Arrow `table` readable as `name` on this cursor inside the block. Any unfinished result of
    an earlier execute() is run to its end first: DuckDB refuses to register while one is pending."""
    cur.complete()
    cur.register(name, table)
    try:
        yield
    finally:
        cur.unregister(name)


def relation(cur: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> duckdb.DuckDBPyRelation:
    """`cur.sql(sql)`, after running any unfinished result of an earlier execute() on the cursor to
    its end: DuckDB refuses a relation while one is pending (a `fetchone()` leaves it so). That run
    costs what the rest of the query costs: leave only one-row results unfinished."""
    cur.complete()
    return cur.sql(sql, params=params)


def keep_files_private() -> None:
    """Files and folders this process creates from now on (the store, its WAL, exports, packages,
    logs) are readable by their owner only (umask 077): they hold personal data."""
    os.umask(0o077)


HOLDER_SUFFIX = ".holder"  # beside the store: which process holds it, doing what, since when
RELEASE_AFTER_IDLE_SECONDS = 0.25  # the file is closed this long after its last unit of work
WAITING = ".waiting."  # <store>.waiting.<pid>: a process waits for the file
RETRY_SECONDS = 0.05


def _holder_path(path: Path) -> Path:
    return Path(f"{path}{HOLDER_SUFFIX}")


def _waiting_marker(path: Path, pid: int) -> Path:
    return Path(f"{path}{WAITING}{pid}")


def read_holder(path: Path) -> StoreHolder | None:
    """Who holds the store now, if a live process said so."""
    try:
        data = json.loads(_holder_path(path).read_text(encoding="utf-8"))
        holder = StoreHolder(int(data["pid"]), str(data["activity"]), datetime.fromisoformat(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return holder if process_alive(holder.pid) else None


def _write_holder(path: Path, activity: str) -> None:
    target = _holder_path(path)
    part = target.with_name(f"{target.name}.{os.getpid()}")
    with suppress(OSError):
        part.write_text(json.dumps({"pid": os.getpid(), "activity": activity,
                                    "started": datetime.now().isoformat(timespec="seconds")}), encoding="utf-8")
        os.replace(part, target)


def _clear_holder(path: Path) -> None:
    holder = _holder_path(path)
    with suppress(OSError, ValueError, KeyError, TypeError):
        if json.loads(holder.read_text(encoding="utf-8"))["pid"] == os.getpid():
            holder.unlink()


def _refuse_other_file(path: Path) -> None:
    """A path that holds something other than a DuckDB file is never opened (nor its mode changed):
    `--db` pointed at the wrong file."""
    if path.is_dir():
        raise GovernanceError(f"{path} is a folder, not a store; give the store's file.")
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise GovernanceError(f"Cannot read the store {path}: {exc.strerror or exc}.") from None
    if head and head[8:12] != b"DUCK":
        raise GovernanceError(f"{path} is not a Steward store (not a DuckDB database file); give another --db.")


class Database:
    """A DuckDB file with migrations applied; use `cursor()` and `transaction()`.

    `activity` names this process in the holder file (`app`, or the CLI command); `wait_seconds`
    bounds the wait for another process to release the file (default: the store_wait_seconds
    setting); `on_wait(holder)` is called once
    when a wait starts (the CLI prints what it waits for)."""

    def __init__(self, path: Path, activity: str = "app", wait_seconds: float | None = None,
                 on_wait: Callable[[StoreHolder | None], None] | None = None):
        self.path = path
        self.activity, self.on_wait = activity, on_wait
        self.wait_seconds = Settings.from_env().store_wait_seconds if wait_seconds is None else wait_seconds
        keep_files_private()
        _refuse_other_file(path)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        for own in (path, Path(f"{path}.wal")):  # a store made by an earlier release may be readable by others
            with suppress(OSError):
                if own.exists():
                    os.chmod(own, 0o600)
        self.lock = threading.RLock()
        self._local = threading.local()  # the open transaction's cursor, per thread
        self._state = threading.Condition()  # guards the connection, its user count and idle time
        self._con: duckdb.DuckDBPyConnection | None = None
        self._users = 0
        self._idle_since = 0.0
        self._closed = False
        self.hold_seconds = RELEASE_AFTER_IDLE_SECONDS  # how long the file stays open after the last unit of work
        self.generation = 0  # moves on whenever what the store holds may have changed (see `cached`)
        self._cache: dict[Hashable, tuple[int, Any]] = {}
        self._cache_lock = threading.Lock()
        threading.Thread(target=self._release_when_idle, name=f"steward-store-{path.name}", daemon=True).start()
        try:
            with self.transaction() as cur:
                migrations.clear_serving_indexes(cur)
            with self.transaction() as cur:
                migrations.apply(cur)
        except BaseException:
            self._shut()
            raise

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Open the file, waiting (bounded) while another process holds it; while it waits, a marker
        beside the store asks the holder to let the file go as soon as it is idle (`others_waiting`)."""
        deadline = time.monotonic() + self.wait_seconds
        told = False
        marker = _waiting_marker(self.path, os.getpid())
        try:
            while True:
                try:
                    con = duckdb.connect(str(self.path))
                    break
                except duckdb.IOException as exc:
                    if "lock" not in str(exc).lower():
                        raise
                    holder = read_holder(self.path)
                    if time.monotonic() >= deadline:
                        raise StoreBusyError(self.path, holder) from exc
                    with suppress(OSError):
                        marker.touch()
                    if not told and self.on_wait is not None:
                        self.on_wait(holder)
                        told = True
                    time.sleep(RETRY_SECONDS)
        finally:
            marker.unlink(missing_ok=True)
        _write_holder(self.path, self.activity)
        self.generation += 1  # another process may have written while the file was not ours
        return con

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The open file for one unit of work; opened on demand, released when idle."""
        with self._state:
            if self._con is None:
                self._con = self._connect()
            self._users += 1
            con = self._con
        try:
            yield con
        finally:
            self._done()

    def _done(self) -> None:
        """One unit of work ended: the idle wait starts when it was the last."""
        with self._state:
            self._users -= 1
            if not self._users:
                self._idle_since = time.monotonic()
                self._state.notify()

    def others_waiting(self) -> bool:
        """Whether another process waits for the file (its marker is there and it still runs)."""
        for marker in self.path.parent.glob(f"{glob.escape(self.path.name)}{WAITING}*"):
            pid = marker.name.rpartition(".")[2]
            if pid.isdigit() and int(pid) != os.getpid() and process_alive(int(pid)):
                return True
        return False

    def _release_when_idle(self) -> None:
        with self._state:
            while not self._closed:
                if self._con is None or self._users:
                    self._state.wait()
                    continue
                hold = self.hold_seconds
                if hold > RELEASE_AFTER_IDLE_SECONDS and self.others_waiting():
                    hold = RELEASE_AFTER_IDLE_SECONDS  # a longer hold gives way to a process waiting
                remaining = self._idle_since + hold - time.monotonic()
                if remaining > 0:
                    self._state.wait(min(remaining, RELEASE_AFTER_IDLE_SECONDS))
                else:
                    self._disconnect()

    def _disconnect(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
            _clear_holder(self.path)

    def _open(self) -> duckdb.DuckDBPyConnection | None:
        return getattr(self._local, "cur", None)

    @property
    def is_open(self) -> bool:
        """Whether this process holds the file now (a unit of work runs or ended less than hold_seconds ago)."""
        return self._con is not None

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
        with self._connection() as con:
            cur = con.cursor()
            try:
                yield cur
            finally:
                cur.close()

    @contextmanager
    def cursor_if_open(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A cursor when this process holds the file now (kept open while it is used), else None: for
        work that must not open the store by itself."""
        with self._state:
            if self._con is None:
                con = None
            else:
                self._users += 1
                con = self._con
        if con is None:
            yield None
            return
        cur = con.cursor()
        try:
            yield cur
        finally:
            cur.close()
            self._done()

    @contextmanager
    def snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor whose reads all see one committed state (a transaction it ends without writing);
        inside this thread's transaction, that transaction's cursor."""
        open_cur = self._open()
        if open_cur is not None:
            yield open_cur
            return
        with self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            finally:
                with suppress(duckdb.Error):
                    cur.execute("ROLLBACK")

    @contextmanager
    def transaction(self, log_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """One atomic, serialized unit of writing: all of it lands, or none. Opened inside another
        transaction of this thread, it joins that one and commits (or rolls back) with it.
        `log_only`: it only appends to logs (audit rows, a key's last use), so what `cached` keeps stays."""
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
            if not log_only:
                self.generation += 1
        if self._local.checkpoint:
            self.checkpoint()

    def cached(self, name: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`, kept under `name` until the store may have changed: a transaction of this process
        commits (unless log-only), or the file is opened again after another process could write it.
        Inside a transaction it is computed afresh and not kept."""
        if self.in_transaction:  # it may read writes not yet committed
            return compute()
        generation = self.generation  # read first: a value computed across a change is kept as older, never served
        with self._cache_lock:
            hit = self._cache.get(name)
        if hit is not None and hit[0] == generation:
            return hit[1]
        value = compute()
        with self._cache_lock:
            self._cache[name] = (generation, value)
        return value

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
            if _registry.get(self.path) is self:
                del _registry[self.path]
        self._shut()

    def _shut(self) -> None:
        """Release the file and stop the idle watcher."""
        with self._state:
            self._closed = True
            self._disconnect()
            self._state.notify()


def open_database(path: str | Path | None = None, activity: str = "app", wait_seconds: float | None = None,
                  on_wait: Callable[[StoreHolder | None], None] | None = None) -> Database:
    """The process-wide Database for `path` (see config.resolve_db_path); the other arguments
    apply when this call opens it (see `Database`)."""
    resolved = resolve_db_path(path)
    with _registry_lock:
        db = _registry.get(resolved)
        if db is None:
            db = _registry[resolved] = Database(resolved, activity, wait_seconds, on_wait)
            atexit.register(db.close)
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
