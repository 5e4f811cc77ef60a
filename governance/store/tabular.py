"""Tabular file writers: CSV (UTF-8 with BOM, for Excel), XLSX and Parquet, with spreadsheet formulas
neutralized in CSV and XLSX (a text cell starting with = + - @ tab or CR gets a quote prefix).

`open_writer(fmt, target)` returns a writer that takes pandas chunks one at a time (`write(frame)`)
and never holds more than one chunk: CSV appends to the file, XLSX uses openpyxl's write-only mode
(rows go to a scratch file beside the target until `close()`), Parquet writes one row group per chunk.
`to_csv_bytes` / `to_xlsx_bytes` are the small in-memory forms for page downloads. `check_output`
keeps a file written for a steward off Steward's own files and off existing files.

A file is written under a private temporary name beside its destination (`private_part`) and
renamed into place when complete; a process killed while writing leaves only such files, which
`sweep_parts` removes at the next write into that folder.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.worksheet._writer import ALL_TEMP_FILES, WorksheetWriter

from governance.store.errors import GovernanceError
from governance.store.util import FORMULA_LEADS, neutralize_formula, process_alive

FORMATS = ("csv", "xlsx", "parquet")
MIME = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
XLSX_MAX_ROWS = 1_048_575  # a sheet holds 1,048,576 rows, one of them the header


def file_name_part(text: str) -> str:
    """`text` (a source name, say) made safe inside a file or ZIP entry name: letters, digits, hanzi,
    '-' and '_' kept, anything else ('/', '..', spaces) becomes '_'."""
    return re.sub(r"[^\w\-]", "_", text, flags=re.UNICODE).strip("._") or "_"


def check_output(out: os.PathLike | str, own: Mapping[str, os.PathLike | str], force: bool = False) -> None:
    """Refuse to write `out` over one of Steward's own files (`own`: what it is -> its path; the store,
    its WAL, the secrets file), ever, or over any existing file or folder unless `force` (a file)."""
    target = os.path.realpath(out)
    for what, path in own.items():
        if target == os.path.realpath(path):
            raise GovernanceError(f"{out} is Steward's {what}; write the output to another file.")
    if os.path.isdir(target):
        raise GovernanceError(f"{out} is a folder; give a file name.")
    if os.path.exists(target) and not force:
        raise GovernanceError(f"{out} already exists; add --force to replace it.")


PART_TAG = ".steward-part-"
_PART_NAME = re.compile(r"^\..+" + re.escape(PART_TAG) + r"(\d+)-")


def _scratch(part: str | os.PathLike) -> Path:
    """Where a writer keeps its scratch data for `part` (XLSX: the sheet until the workbook is saved)."""
    return Path(f"{os.fspath(part)}.sheet")


@contextmanager
def private_part(out: Path) -> Iterator[Path]:
    """A new empty file beside `out`, readable by its owner only, to write `out` into; rename it
    into place when complete. Named `.<name>.steward-part-<pid>-…`, so that `sweep_parts` finds it
    if this process is killed; removed on any failure, with the writer's scratch file."""
    fd, name = tempfile.mkstemp(prefix=f".{out.name}{PART_TAG}{os.getpid()}-", dir=out.parent)  # mode 0600
    os.close(fd)
    part = Path(name)
    try:
        yield part
    finally:
        for path in (part, _scratch(part)):  # after the rename only the scratch name may remain
            path.unlink(missing_ok=True)


def sweep_parts(folder: Path) -> list[Path]:
    """Remove the part and scratch files in `folder` whose writing process is gone (killed while
    writing); returns them."""
    gone = []
    for path in folder.glob(f".*{PART_TAG}*"):
        found = _PART_NAME.match(path.name)
        if found and not process_alive(int(found.group(1))):
            path.unlink(missing_ok=True)
            gone.append(path)
    return gone


def remove_older(folder: Path, cutoff: float) -> int:
    """Remove the finished files in `folder` last written before `cutoff` (a Unix time); a part
    file being written is left to `sweep_parts`. Returns how many."""
    removed = 0
    for path in folder.iterdir() if folder.is_dir() else ():
        try:
            if path.is_file() and not path.name.startswith(".") and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        except OSError:
            continue
    return removed


def remove_old_folders(folders: Iterable[Path], cutoff: float) -> int:
    """Remove the folders among `folders` (not links) that this user owns and that were last changed
    before `cutoff` (a Unix time): what a killed or abandoned run left. Returns how many."""
    removed = 0
    for folder in folders:
        try:
            info = folder.lstat()
        except OSError:
            continue
        if folder.is_dir() and not folder.is_symlink() and info.st_uid == os.getuid() and info.st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


_FORMULA_LEAD = re.compile("^[" + re.escape("".join(FORMULA_LEADS)) + "]")


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell that starts a formula neutralized (found in one vectorized pass)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        try:
            leads = values.str.match(_FORMULA_LEAD, na=False).astype(bool)
        except AttributeError:  # an object column without any text
            continue
        if leads.any():
            values = values.astype(object)
            values[leads] = values[leads].map(neutralize_formula)
            out[column] = values
    out.columns = [neutralize_formula(str(c)) for c in out.columns]
    return out


def _cell(v: object) -> object:
    if v is None or v is pd.NaT or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, (bool, int, float)):
        return v
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return str(v)


class TableWriter(Protocol):
    def write(self, frame: pd.DataFrame) -> None: ...
    def close(self) -> None: ...


class CsvWriter:
    """UTF-8 with BOM, CRLF rows, text cells quoted (so a cell holding a CR or LF stays one cell).
    Each chunk goes through Arrow: formulas are neutralized and the rows written in C++."""

    def __init__(self, target: str | os.PathLike | IO[bytes]):
        self._raw: IO[bytes]
        if isinstance(target, (str, bytes, os.PathLike)):
            self._own, self._raw = True, open(target, "wb")
        else:
            self._own, self._raw = False, target
        self._raw.write(codecs.BOM_UTF8)
        self._writer: pacsv.CSVWriter | None = None

    def write(self, frame: pd.DataFrame) -> None:
        table = _as_text(_arrow(frame))
        if self._writer is None:
            header = io.StringIO()
            csv.writer(header, lineterminator="\r\n").writerow([neutralize_formula(str(c)) for c in frame.columns])
            self._raw.write(header.getvalue().encode("utf-8"))
            self._schema = pa.schema([(name, pa.string()) for name in table.column_names])
            self._writer = pacsv.CSVWriter(self._raw, self._schema,
                                           write_options=pacsv.WriteOptions(include_header=False, eol="\r\n"))
        self._writer.write_table(pa.Table.from_arrays(table.columns, schema=self._schema))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._own:
            self._raw.close()


def _arrow(frame: pd.DataFrame):
    """An Arrow table of a chunk; object columns mixing types are written as their text."""

    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        mixed = frame.copy()
        for column in mixed.columns:
            if mixed[column].dtype == object:
                mixed[column] = [None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
                                 for v in mixed[column].tolist()]
        return pa.Table.from_pandas(mixed, preserve_index=False)


def _as_text(table):
    """Every column as text, with a leading formula character neutralized (vectorized)."""

    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type):
            text = pc.strftime(column, "%Y-%m-%d %H:%M:%S")
        elif pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            text = pc.binary_join(pc.cast(column, pa.list_(pa.string())), " | ")
        else:
            text = pc.cast(column, pa.string())
        if (pa.types.is_string(column.type) or pa.types.is_large_string(column.type) or pa.types.is_null(column.type)
                or pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):  # a list joins into text
            leads = pc.match_substring_regex(text, _FORMULA_LEAD.pattern)
            text = pc.if_else(leads, pc.binary_join_element_wise("'", text, ""), text)
        columns.append(text)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _append_rows(ws, frame: pd.DataFrame, header: bool) -> None:
    safe = _safe(frame)
    if header:
        ws.append(list(safe.columns))
    for row in safe.itertuples(index=False):
        ws.append([_cell(v) for v in row])


class XlsxWriter:
    """Every text cell is written as a string cell, so nothing is evaluated as a formula. The sheet
    streams into a private scratch file beside `target`, never into the system temp folder."""

    def __init__(self, target: str | os.PathLike, sheet: str = "data"):
        self._target = target
        self._wb = Workbook(write_only=True)
        self._ws = self._wb.create_sheet(sheet)
        scratch = _scratch(target)
        os.close(os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        # openpyxl 3.1 would stream the sheet into a NamedTemporaryFile; hand it our file instead
        # (registered, so openpyxl removes it after saving, as it does its own)
        ALL_TEMP_FILES.append(str(scratch))
        self._ws._writer = WorksheetWriter(self._ws, out=str(scratch))
        self._ws._writer.write_top()
        self._header = True

    def write(self, frame: pd.DataFrame) -> None:
        _append_rows(self._ws, frame, self._header)
        self._header = False

    def add_sheet(self, sheet: str, frame: pd.DataFrame) -> None:
        """A further, small sheet after the data (the columns explained); written like a chunk."""
        _append_rows(self._wb.create_sheet(sheet), frame, header=True)

    def close(self) -> None:
        self._wb.save(self._target)


class ParquetWriter:
    """Column types come from the first chunk; later chunks are cast to them."""

    def __init__(self, target):
        self._target = target
        self._writer = None

    def write(self, frame: pd.DataFrame) -> None:
        if self._writer is None:
            schema = pa.Schema.from_pandas(frame, preserve_index=False)
            # a column that is all-null in the first chunk would be typed null: store it as text
            schema = pa.schema([pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in schema])
            self._writer = pq.ParquetWriter(self._target, schema)
        self._writer.write_table(pa.Table.from_pandas(frame, schema=self._writer.schema, preserve_index=False))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def open_writer(fmt: str, target) -> TableWriter:
    if fmt == "csv":
        return CsvWriter(target)
    if fmt == "xlsx":
        return XlsxWriter(target)
    if fmt == "parquet":
        return ParquetWriter(target)
    raise ValueError(f"unknown format {fmt!r}")


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    writer = CsvWriter(buffer)
    writer.write(frame)
    writer.close()
    return buffer.getvalue()


def to_xlsx_bytes(frame: pd.DataFrame, sheet: str = "data") -> bytes:
    return to_xlsx_workbook({sheet: frame})


def to_xlsx_workbook(sheets: dict[str, pd.DataFrame]) -> bytes:
    """One sheet per frame, in order, each written like XlsxWriter writes a chunk."""

    wb = Workbook(write_only=True)
    for sheet, frame in sheets.items():
        _append_rows(wb.create_sheet(sheet), frame, header=True)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
