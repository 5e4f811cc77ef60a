"""Ingest: one file becomes one batch of verbatim text rows, in one transaction.

    plan = prepare(db, path, source="crm")          # inspect + suggested mapping, nothing stored
    result = ingest(db, plan, actor="alice", mapping=plan.mapping())   # store it

`ingest_file()` does both. The pipeline's `load_file` ingests and standardizes in one step. A failure
anywhere leaves no trace.
"""
from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from governance.access import audit
from governance.access.events import Event
from governance.sources import catalogue
from governance.sources import mapping as mapping_mod
from governance.sources.readers import FilePlan, HeaderChange, ProgressFn, column_name, inspect_file
from governance.store.config import Settings
from governance.store.errors import DuplicateFileError, IngestError
from governance.store.schema import CHANNELS
from governance.store.storage import RAW_SCHEMA, Database, one, scalar
from governance.store.util import utcnow

_SOURCE_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")


def default_source_name(file_name: str) -> str:
    return Path(file_name).stem.strip() or "source"


def check_source_name(source: str) -> str:
    source = (source or "").strip()
    if not _SOURCE_RE.match(source):
        raise IngestError("A source name is 1–64 characters with no control characters.")
    return source


@dataclass
class IngestPlan:
    """A file inspected and ready to load, with the mapping suggested for it."""

    file: FilePlan
    file_name: str
    source: str
    channel: str
    sha256: str
    size_bytes: int
    suggestions: list[mapping_mod.Suggestion]
    source_exists: bool
    duplicate_of: int | None = None

    def mapping(self) -> dict[str, str | None]:
        return {s.header: s.field for s in self.suggestions}

    def preview(self, rows: int = 10) -> pd.DataFrame:
        """The file's first rows under its cleaned headers (not masked)."""
        return pd.DataFrame(self.file.preview[:rows], columns=self.file.headers)

    def header_changes(self) -> pd.DataFrame:
        """The headers cleaned on reading: position, raw, header, reason."""
        return pd.DataFrame([vars(c) for c in self.file.header_changes])

    def mapping_table(self, mask_value: Callable[[str | None, object], object] | None = None) -> pd.DataFrame:
        """One row per column for the mapping editor: header, a sample value (through
        `mask_value(suggested field, value)` if given), the suggested field ('' for none), confidence, method."""
        suggested = self.mapping()
        samples = [next(iter(self.file.column_values(i)), None) for i in range(len(self.file.headers))]
        return pd.DataFrame({
            "column": self.file.headers,
            "sample": [mask_value(suggested.get(h), v) if mask_value else v for h, v in zip(self.file.headers, samples)],
            "field": [s.field or "" for s in self.suggestions],
            "confidence": [s.confidence for s in self.suggestions],
            "method": [s.method for s in self.suggestions],
        })


@dataclass
class IngestResult:
    batch_id: int
    source: str
    channel: str
    file_name: str
    rows: int
    columns: int
    header_changes: list[HeaderChange]
    mapping: dict[str, str | None]
    mapping_version: int
    seconds: float
    notes: list[str] = field(default_factory=list)
    resumed: bool = False  # an unfinished batch of this file, stored before (see `stored_batch`)

    def summary(self) -> dict:
        mapped = {h: f for h, f in self.mapping.items() if f}
        return {"batch_id": self.batch_id, "source": self.source, "channel": self.channel, "file": self.file_name,
                "rows": self.rows, "columns": self.columns, "mapped_fields": len(mapped),
                "renamed_headers": [vars(c) | {"raw": _shown(c.raw)} for c in self.header_changes],
                "mapping_version": self.mapping_version,
                "seconds": round(self.seconds, 3)} | ({"resumed": True} if self.resumed else {})


SHOWN_HEADER_CHARS = 80


def _shown(text: str) -> str:
    """A raw header as a summary shows it: at most SHOWN_HEADER_CHARS characters (the batch keeps it whole)."""
    return text if len(text) <= SHOWN_HEADER_CHARS else text[:SHOWN_HEADER_CHARS] + f"… ({len(text):,} characters)"


def _source_row(cur: duckdb.DuckDBPyConnection, source: str) -> tuple | None:
    return cur.execute("SELECT source, channel FROM sources WHERE source = ?", [source]).fetchone()


def find_duplicate(cur: duckdb.DuckDBPyConnection, source: str, sha256: str, sheet: str | None = None) -> int | None:
    """The batch that already holds this file (this sheet of a workbook; a batch without a recorded
    sheet holds them all) in `source`, if any."""
    return scalar(cur, "SELECT min(batch_id) FROM batches WHERE source = ? AND sha256 = ? AND coalesce(sheet = ?, TRUE)",
                  [source, sha256, sheet])


def never_standardized(cur: duckdb.DuckDBPyConnection, batch_id: int) -> bool:
    """Whether a stored batch was never standardized (a crash between the two steps of a load)."""
    return not scalar(cur, "SELECT count(*) FROM std_batches WHERE batch_id = ?", [batch_id])


def stored_batch(cur: duckdb.DuckDBPyConnection, batch_id: int) -> IngestResult:
    """A batch already stored, as the result of loading its file again (`resumed`), with the
    source's saved mapping."""
    source, channel, file_name, rows, columns = one(
        cur, "SELECT source, channel, file_name, row_count, column_count FROM batches WHERE batch_id = ?", [batch_id])
    return IngestResult(batch_id, source, channel, file_name, rows, columns, [], mapping_mod.load(cur, source),
                        mapping_mod.current_version(cur, source), 0.0,
                        [f"batch {batch_id} of this file was stored but not standardized; it is finished now"],
                        resumed=True)


def prepare(db: Database, path: Path, *, file_name: str | None = None, source: str | None = None,
            channel: str | None = None, encoding: str | None = None, sheet: str | None = None,
            settings: Settings | None = None) -> IngestPlan:
    """Inspect a file and suggest its mapping; nothing is stored. Raises IngestError on bad input."""
    settings = settings or Settings.from_env()
    path = Path(path)
    file_name = file_name or path.name
    source = check_source_name(source or default_source_name(file_name))
    plan = inspect_file(path, file_name, encoding=encoding, sheet=sheet, max_bytes=settings.max_upload_bytes)
    digest = plan.sha256
    with db.cursor() as cur:
        existing = _source_row(cur, source)
        saved = mapping_mod.load(cur, source) if existing else {}
        duplicate = find_duplicate(cur, source, digest, plan.sheet)
    if existing and channel and channel != existing[1]:
        raise IngestError(f"The source {source!r} belongs to channel {existing[1]!r}, not {channel!r}.")
    channel = existing[1] if existing else (channel or "other")
    if channel not in CHANNELS:
        raise IngestError(f"Unknown channel {channel!r}; choose one of {', '.join(CHANNELS)}.")
    samples = [plan.column_values(i) for i in range(plan.column_count)]
    suggestions = mapping_mod.suggest(plan.headers, samples, saved)
    return IngestPlan(plan, file_name, source, channel, digest, path.stat().st_size, suggestions,
                      bool(existing), duplicate)


# An export's closing totals row (合计 / Total in its first filled cell, only numbers beside it) is no customer.
_TOTALS = re.compile(r"^(合计|总计|小计|汇总|合計|總計|小計|total|totals|grandtotal)[:：]?$", re.I)
_NUMBER = re.compile(r"^[-+]?[¥$]?[\d,]*\.?\d+%?$")


def _drop_totals_row(cur: duckdb.DuckDBPyConnection, table: str, rows: int) -> bool:
    """Remove the loaded file's last row when it is a totals row; whether it was."""
    if rows < 2:
        return False
    last = cur.execute(f"SELECT * EXCLUDE (_row) FROM {table} ORDER BY _row DESC LIMIT 1").fetchone()
    cells = [str(c) for c in last or () if c is not None and str(c).strip()]
    if not cells or not _TOTALS.match(re.sub(r"\s", "", unicodedata.normalize("NFKC", cells[0]))) or not all(
            _NUMBER.match(unicodedata.normalize("NFKC", c).strip()) for c in cells[1:]):
        return False  # a totals row holds sums beside its label, nothing else
    cur.execute(f"DELETE FROM {table} WHERE _row = (SELECT max(_row) FROM {table})")
    return True


def ingest(db: Database, plan: IngestPlan, *, actor: str, mapping: dict[str, str | None] | None = None,
           force: bool = False, progress: ProgressFn | None = None) -> IngestResult:
    """Store the batch, its raw rows and the confirmed mapping atomically, and audit it."""
    started = time.perf_counter()
    chosen = mapping_mod.validate(plan.mapping() if mapping is None else mapping)
    unknown = ", ".join(repr(h) for h in sorted(set(chosen) - set(plan.file.headers)))
    if unknown:  # a typo would otherwise leave the column it meant unmapped without a word
        raise IngestError(f"{plan.file_name} has no column {unknown}; its columns are {', '.join(plan.file.headers)}.")
    with db.transaction() as cur:
        duplicate = find_duplicate(cur, plan.source, plan.sha256, plan.file.sheet)
        if duplicate and not force:
            raise DuplicateFileError(
                f"{plan.file_name} was already loaded into {plan.source!r} as batch {duplicate}; "
                "load it again only if you mean to (force it).", duplicate)
        now = utcnow()
        if not _source_row(cur, plan.source):
            catalogue.add_source(cur, actor, plan.source, plan.channel)
        batch_id = scalar(cur, "SELECT nextval('batch_seq')")
        table = f"{RAW_SCHEMA}.batch_{batch_id}"
        rows = plan.file.load(cur, table, progress)
        fp = plan.file
        notes = list(fp.notes)
        if _drop_totals_row(cur, table, rows):
            rows -= 1
            notes.append("totals_row_dropped")
        cur.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [batch_id, plan.source, plan.channel, plan.file_name, fp.file_format, fp.encoding, fp.sheet, plan.sha256,
             plan.size_bytes, rows, fp.column_count, fp.header_line, table, actor, now,
             "; ".join(notes) or None])
        cur.executemany("INSERT INTO batch_columns VALUES (?, ?, ?, ?, ?)",
                        [[batch_id, i, column_name(i), h, r] for i, (h, r) in
                         enumerate(zip(fp.headers, fp.raw_headers), start=1)])
        version = mapping_mod.save(cur, actor, plan.source, chosen, plan.suggestions)
        audit.record(cur, actor, Event.INGEST_BATCH, "batch", batch_id, {
            "source": plan.source, "file": plan.file_name, "sha256": plan.sha256, "rows": rows,
            "columns": fp.column_count, "forced_duplicate": bool(duplicate)})
        mapping_mod.rebuild_mapped_view(cur)
    if progress:
        progress(1.0, "done")
    return IngestResult(batch_id, plan.source, plan.channel, plan.file_name, rows, fp.column_count,
                        fp.header_changes, chosen, version, time.perf_counter() - started, notes)


def ingest_file(db: Database, path: Path, *, actor: str, source: str | None = None, channel: str | None = None,
                mapping: dict[str, str | None] | str = "auto", encoding: str | None = None, sheet: str | None = None,
                force: bool = False, file_name: str | None = None, settings: Settings | None = None,
                progress: ProgressFn | None = None) -> IngestResult:
    """Prepare and ingest in one call. `mapping="auto"` takes the saved mapping or the suggestions;
    a dict maps header -> field (headers left out stay unmapped)."""
    plan = prepare(db, path, file_name=file_name, source=source, channel=channel, encoding=encoding, sheet=sheet,
                   settings=settings)
    if mapping == "auto":
        chosen = plan.mapping()
    elif isinstance(mapping, dict):
        chosen = {**dict.fromkeys(plan.file.headers), **mapping}  # `ingest` refuses a column the file lacks
    else:
        raise IngestError(f"Unknown mapping option {mapping!r}.")
    return ingest(db, plan, actor=actor, mapping=chosen, force=force, progress=progress)
