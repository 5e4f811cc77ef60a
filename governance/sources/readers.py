"""File readers: detect format, encoding, delimiter and header row, then load every
cell as text into a DuckDB table.

`inspect_file()` looks at a file and returns a `FilePlan` (or raises IngestError with
a clear message); `FilePlan.load(cur, table)` writes the rows into `table` with
columns `_row` (1-based data row number) and `c001`…`cNNN` (text). Header names are
kept as data, never as SQL identifiers, so hostile headers are harmless.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import duckdb
import pyarrow as pa
from openpyxl import load_workbook

from governance.store.errors import IngestError
from governance.store.storage import quote_ident, scalar

TEXT_EXTENSIONS = {".csv", ".tsv", ".txt"}
EXCEL_EXTENSIONS = {".xlsx", ".xlsm"}
JSON_EXTENSIONS = {".jsonl", ".ndjson", ".json"}
PARQUET_EXTENSIONS = {".parquet"}
SUPPORTED = sorted(TEXT_EXTENSIONS | EXCEL_EXTENSIONS | JSON_EXTENSIONS | PARQUET_EXTENSIONS)
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "utf-16-le", "utf-16-be", "big5", "latin-1")

MAX_COLUMNS = 1000
MAX_HEADER_CHARS = 128
SAMPLE_BYTES = 256 * 1024
HEADER_SCAN_ROWS = 30
PREVIEW_ROWS = 200
CHUNK_ROWS = 20_000
DELIMITERS = (",", "\t", ";", "|")

ProgressFn = Callable[[float, str], None]

_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\x00-\x1f\x7f]")
_DATA_LIKE = re.compile(r"@|(\d\D*){3}")  # an email, or three or more digits: rare in a header


def column_name(position: int) -> str:
    """Physical column name of the 1-based position: c001, c002, …"""
    return f"c{position:03d}"


@dataclass(frozen=True)
class HeaderChange:
    position: int
    raw: str
    header: str
    reason: str  # blank | duplicate | cleaned | truncated | generated


def clean_headers(raw_headers: Sequence[str | None]) -> tuple[list[str], list[HeaderChange]]:
    """Trim, drop invisible characters, name blanks, and make duplicates unique."""
    headers, changes = [], []
    seen: Counter[str] = Counter()
    for position, raw in enumerate(raw_headers, start=1):
        raw = "" if raw is None else str(raw)
        text = " ".join(_INVISIBLE.sub("", unicodedata.normalize("NFC", raw)).replace("\u3000", " ").split())
        reason = "cleaned" if text != raw else None
        if len(text) > MAX_HEADER_CHARS:
            text, reason = text[:MAX_HEADER_CHARS], "truncated"
        if not text:
            text, reason = f"column_{position}", "blank"
        base = text
        seen[base.casefold()] += 1
        if seen[base.casefold()] > 1:
            n = seen[base.casefold()]
            while (text := f"{base}_{n}").casefold() in seen:
                n += 1
            seen[text.casefold()] += 1
            reason = "duplicate"
        headers.append(text)
        if reason and not (reason == "cleaned" and raw.strip() == text):
            changes.append(HeaderChange(position, raw, text, reason))
    return headers, changes


@dataclass
class FilePlan:
    """What `inspect_file` found, and how to load it."""

    path: Path
    file_format: str                 # csv | xlsx | jsonl | parquet
    sha256: str
    raw_headers: list[str]
    headers: list[str]
    header_changes: list[HeaderChange]
    preview: list[list[str | None]]  # first data rows, for the mapping step
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    header_line: int | None = None   # 1-based line (or sheet row) of the header; None when generated
    data_skip_lines: int = 0
    notes: list[str] = field(default_factory=list)
    _loader: Callable[["FilePlan", duckdb.DuckDBPyConnection, str, ProgressFn | None], None] | None = None

    @property
    def column_count(self) -> int:
        return len(self.headers)

    def column_values(self, position: int) -> list[str]:
        """Non-empty preview values of one 0-based column."""
        return [v for row in self.preview if position < len(row) and (v := row[position]) is not None and v != ""]

    def load(self, cur: duckdb.DuckDBPyConnection, table: str, progress: ProgressFn | None = None) -> int:
        """Create `table` (qualified name we chose) and load every data row; return the row count."""
        columns = ", ".join(f"{column_name(i)} VARCHAR" for i in range(1, self.column_count + 1))
        cur.execute(f"CREATE TABLE {table} (_row BIGINT NOT NULL, {columns})")
        assert self._loader is not None, "every FilePlan from inspect_file has a loader"
        self._loader(self, cur, table, progress)
        return scalar(cur, f"SELECT count(*) FROM {table}")


# ---------------------------------------------------------------- detection

def inspect_file(path: Path, file_name: str | None = None, encoding: str | None = None,
                 sheet: str | None = None, max_bytes: int | None = None) -> FilePlan:
    """Look at a file and decide how to read it. Raises IngestError on bad input."""
    path = Path(path)
    file_name = file_name or path.name
    size = path.stat().st_size
    if size == 0:
        raise IngestError(f"{file_name}: the file is empty.")
    if max_bytes is not None and size > max_bytes:
        raise IngestError(f"{file_name}: the file is {size / 1024**2:.1f} MB, over the limit of {max_bytes / 1024**2:.0f} MB.")
    ext = Path(file_name).suffix.lower()
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    kind = _sniff_kind(head)
    if ext == ".xls":
        raise IngestError(f"{file_name}: the old Excel 97–2003 format (.xls) is not supported; save it as .xlsx.")
    if ext not in SUPPORTED:
        raise IngestError(f"{file_name}: unsupported file type {ext or '(none)'}; use one of {', '.join(SUPPORTED)}.")
    expected = ("zip" if ext in EXCEL_EXTENSIONS else "parquet" if ext in PARQUET_EXTENSIONS else "text")
    if kind != expected:
        found = {"zip": "an Excel/zip file", "parquet": "a Parquet file", "ole": "an old Excel (.xls) file",
                 "binary": "a binary file", "text": "a text file"}[kind]
        raise IngestError(f"{file_name}: the extension says {ext} but the content is {found}.")
    if ext in EXCEL_EXTENSIONS:
        return _inspect_xlsx(path, file_name, sheet, sha256_file(path))
    if ext in PARQUET_EXTENSIONS:
        return _inspect_parquet(path, file_name, sha256_file(path))
    enc, digest = _check_encoding(path, file_name, head, encoding)
    if ext in JSON_EXTENSIONS:
        return _inspect_json(path, file_name, enc, digest)
    return _inspect_delimited(path, file_name, enc, digest)


def _sniff_kind(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(head):
        return "text"
    if b"\x00" in head:
        return "binary"
    controls = sum(1 for b in head[:8192] if b < 9 or 13 < b < 32)
    return "binary" if controls > len(head[:8192]) * 0.01 else "text"


def _utf16_without_bom(head: bytes) -> str | None:
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > half * 0.3 and even < half * 0.05:
        return "utf-16-le"
    if even > half * 0.3 and odd < half * 0.05:
        return "utf-16-be"
    return None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _check_encoding(path: Path, file_name: str, head: bytes, override: str | None) -> tuple[str, str]:
    """Detect (or check the override against) the whole file; raise with the position of bad bytes.
    Returns the encoding and the file's sha256, computed in the same pass when it can be."""
    digest = hashlib.sha256()
    if override:
        try:
            codecs.lookup(override)
        except LookupError:
            raise IngestError(f"Unknown encoding {override!r}; choose one of {', '.join(ENCODINGS)}.") from None
        _decode_all(path, file_name, override, raise_error=True, digest=digest)
        bom = override.lower().replace("_", "-") == "utf-8" and head.startswith(codecs.BOM_UTF8)
        return ("utf-8-sig" if bom else override), digest.hexdigest()
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif enc := _utf16_without_bom(head):
        candidates = [enc]
    else:
        candidates = ["utf-8", "gb18030"]
    for i, enc in enumerate(candidates):
        if _decode_all(path, file_name, enc, raise_error=(i == len(candidates) - 1), digest=digest if i == 0 else None):
            return enc, digest.hexdigest() if i == 0 else sha256_file(path)
    raise AssertionError("unreachable")


def _decode_all(path: Path, file_name: str, encoding: str, raise_error: bool, digest=None) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset, lines = 0, 1
    with path.open("rb") as fh:
        while chunk := fh.read(4 * 1024 * 1024):
            if digest is not None:
                digest.update(chunk)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                if not raise_error:
                    return False
                bad = chunk[:exc.start].count(b"\n")
                raise IngestError(
                    f"{file_name}: the bytes at line {lines + bad} (byte {offset + exc.start}) are not valid "
                    f"{encoding}. Choose the right encoding (e.g. GB18030 for GBK exports) or fix the file."
                ) from None
            offset += len(chunk)
            lines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            if not raise_error:
                return False
            raise IngestError(f"{file_name}: the file ends in the middle of a {encoding} character.") from None
    return True


def _read_text_sample(path: Path, encoding: str) -> str:
    with path.open("r", encoding=encoding, newline="") as fh:
        text = fh.read(SAMPLE_BYTES)
        if len(text) == SAMPLE_BYTES and "\n" in text:
            text = text[: text.rfind("\n") + 1]
    return text.lstrip("\ufeff")


def _sniff_delimiter(sample: str) -> str:
    best, best_score = ",", (0.0, 0)
    lines = [line for line in sample.splitlines()[:200] if line.strip()]
    for delim in DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delim)]
        if not widths:
            continue
        modal, freq = Counter(widths).most_common(1)[0]
        if modal < 2:
            continue
        score = (freq / len(widths), modal)
        if score > best_score:
            best, best_score = delim, score
    return best


def _looks_like_data(cells: Sequence[str | None]) -> bool:
    values = [c.strip() for c in cells if c and c.strip()]
    return bool(values) and sum(bool(_DATA_LIKE.search(v)) for v in values) / len(values) >= 0.5


def _trimmed_len(row: Sequence[str | None]) -> int:
    """Length of a row without its trailing empty cells."""
    n = len(row)
    while n and (row[n - 1] is None or not str(row[n - 1]).strip()):
        n -= 1
    return n


def _modal_width(rows: Sequence[Sequence[str | None]]) -> int:
    widths = [_trimmed_len(r) for r in rows if _trimmed_len(r)]
    return Counter(widths).most_common(1)[0][0] if widths else 0


def _pick_header(rows: Sequence[Sequence[str | None]]) -> int | None:
    """Index of the header row: the first row filled to at least half the usual width,
    skipping title and blank lines above it. None when that row already looks like data."""
    modal = _modal_width(rows)
    for i, row in enumerate(rows):
        filled = sum(1 for c in row if c is not None and str(c).strip())
        if filled and filled >= max(1, (modal + 1) // 2):
            return None if _looks_like_data(row) else i
    return None


def _inspect_delimited(path: Path, file_name: str, encoding: str, digest: str) -> FilePlan:
    sample = _read_text_sample(path, encoding)
    if not sample.strip():
        raise IngestError(f"{file_name}: the file has no content besides blank space.")
    delimiter = "\t" if Path(file_name).suffix.lower() == ".tsv" else _sniff_delimiter(sample)
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
    rows, line_ends = [], []
    try:
        for row in reader:
            rows.append(row)
            line_ends.append(reader.line_num)
            if len(rows) >= HEADER_SCAN_ROWS + PREVIEW_ROWS:
                break
    except csv.Error as exc:
        raise IngestError(f"{file_name}: cannot parse line {reader.line_num}: {exc}.") from None
    scan = rows[:HEADER_SCAN_ROWS]
    header_idx = _pick_header(scan)
    if header_idx is None:
        width = Counter(len(r) for r in scan if _trimmed_len(r)).most_common(1)[0][0]
    else:
        width = len(rows[header_idx])
    if width > MAX_COLUMNS:
        raise IngestError(f"{file_name}: {width} columns is more than the limit of {MAX_COLUMNS}.")
    notes = []
    if header_idx is None:
        first = next((i for i, r in enumerate(scan) if any(c.strip() for c in r)), 0)
        raw_headers = [""] * width
        skip = line_ends[first - 1] if first else 0
        data_rows = rows[first:]
        header_line = None
        notes.append("no_header")
    else:
        raw_headers = rows[header_idx] + [""] * (width - len(rows[header_idx]))
        skip = line_ends[header_idx]
        data_rows = rows[header_idx + 1:]
        header_line = line_ends[header_idx]
        if header_idx:
            notes.append(f"skipped_lines:{skip - 1}")
    headers, changes = clean_headers(raw_headers)
    preview = [r for r in data_rows if any(c.strip() for c in r)][:PREVIEW_ROWS]
    if not preview:
        raise IngestError(f"{file_name}: the file has a header but no data rows.")
    return FilePlan(path, "csv", digest, raw_headers, headers, changes, [[c if c != "" else None for c in r] for r in preview],
                    encoding=encoding, delimiter=delimiter, header_line=header_line, data_skip_lines=skip,
                    notes=notes, _loader=_load_delimited)


def _load_delimited(plan: FilePlan, cur: duckdb.DuckDBPyConnection, table: str, progress: ProgressFn | None) -> None:
    source, tmp = plan.path, None
    if plan.encoding not in ("utf-8", "utf-8-sig"):
        if progress:
            progress(0.1, "transcode")
        tmp = tempfile.NamedTemporaryFile(suffix=".csv", delete=False)
        with plan.path.open("r", encoding=plan.encoding, newline="") as src, open(tmp.name, "w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(1024 * 1024):
                dst.write(chunk)
        source = Path(tmp.name)
    columns = "{" + ", ".join(f"'{column_name(i)}': 'VARCHAR'" for i in range(1, plan.column_count + 1)) + "}"
    try:
        if progress:
            progress(0.3, "load")
        cur.execute(
            f"INSERT INTO {table} SELECT ordinality, * EXCLUDE (ordinality) FROM read_csv(?, header = false, "
            f"skip = ?, delim = ?, quote = '\"', escape = '\"', columns = {columns}, auto_detect = false, "
            f"strict_mode = true, null_padding = false, encoding = 'utf-8') WITH ORDINALITY",
            [str(source), plan.data_skip_lines, plan.delimiter],
        )
    except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
        raise IngestError(_csv_error_message(plan, str(exc))) from None
    finally:
        if tmp is not None:
            Path(tmp.name).unlink(missing_ok=True)


def _csv_error_message(plan: FilePlan, message: str) -> str:
    line = re.search(r"Line: (\d+)", message)
    where = f"line {line.group(1)}" if line else "a line"
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if counts:
        return (f"{plan.path.name if plan.path else 'file'}: {where} has {counts.group(2)} fields but the header has "
                f"{counts.group(1)}. Fix the row (ragged rows are not loaded) and upload again.")
    first = message.splitlines()[0] if message else "unknown error"
    return f"The file cannot be read at {where}: {first}"


# ---------------------------------------------------------------- excel

def cell_text(value: object) -> str | None:
    """The exact text of a spreadsheet cell; numbers never turn into floats like 1.38e10."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def list_sheets(path: Path) -> list[str]:
    wb = load_workbook(path, read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _open_sheet(path: Path, file_name: str, sheet: str | None):
    try:
        wb = load_workbook(path, read_only=True, data_only=False)  # formulas stay text, never evaluated
    except Exception as exc:  # openpyxl raises many types for corrupt zips
        raise IngestError(f"{file_name}: not a readable .xlsx workbook ({type(exc).__name__}).") from None
    names = list(wb.sheetnames)
    if sheet is not None and sheet not in names:
        wb.close()
        raise IngestError(f"{file_name}: no sheet named {sheet!r}; the sheets are {', '.join(names)}.")
    return wb, wb[sheet or names[0]], names


def _sheet_rows(ws) -> Iterator[list[str | None]]:
    for row in ws.iter_rows(values_only=True):
        yield [cell_text(v) for v in row]


def _inspect_xlsx(path: Path, file_name: str, sheet: str | None, digest: str) -> FilePlan:
    wb, ws, names = _open_sheet(path, file_name, sheet)
    try:
        rows = []
        for row in _sheet_rows(ws):
            rows.append(row)
            if len(rows) >= HEADER_SCAN_ROWS + PREVIEW_ROWS:
                break
    finally:
        wb.close()
    if not any(any(c not in (None, "") for c in r) for r in rows):
        raise IngestError(f"{file_name}: the sheet {ws.title!r} is empty.")
    header_idx = _pick_header(rows[:HEADER_SCAN_ROWS])
    if header_idx is None:
        width = max(_trimmed_len(r) for r in rows[:HEADER_SCAN_ROWS])
    else:
        width = _trimmed_len(rows[header_idx])
    if width > MAX_COLUMNS:
        raise IngestError(f"{file_name}: {width} columns is more than the limit of {MAX_COLUMNS}.")
    raw_headers: list[str | None]
    if header_idx is None:
        raw_headers, start, header_line = [""] * width, 0, None
    else:
        raw_headers = (rows[header_idx] + [None] * width)[:width]
        start, header_line = header_idx + 1, header_idx + 1
    headers, changes = clean_headers(raw_headers)
    preview = [(r + [None] * width)[:width] for r in rows[start:] if any(c not in (None, "") for c in r)][:PREVIEW_ROWS]
    if not preview:
        raise IngestError(f"{file_name}: the sheet {ws.title!r} has a header but no data rows.")
    return FilePlan(path, "xlsx", digest, [h or "" for h in raw_headers], headers, changes, preview, sheet=ws.title,
                    sheets=names, header_line=header_line, data_skip_lines=start,
                    notes=[] if header_line else ["no_header"], _loader=_load_xlsx)


def _load_xlsx(plan: FilePlan, cur: duckdb.DuckDBPyConnection, table: str, progress: ProgressFn | None) -> None:
    wb, ws, _ = _open_sheet(plan.path, plan.path.name, plan.sheet)
    width = plan.column_count
    total = ws.max_row or 0
    try:
        def rows() -> Iterator[list[str | None]]:
            for sheet_row, row in enumerate(_sheet_rows(ws), start=1):
                if sheet_row <= plan.data_skip_lines or not any(c not in (None, "") for c in row):
                    continue
                if any(c not in (None, "") for c in row[width:]):
                    raise IngestError(f"{plan.path.name}: sheet row {sheet_row} has values right of the last "
                                      f"header column ({width} columns). Fix the row and upload again.")
                if progress and sheet_row % CHUNK_ROWS == 0 and total:
                    progress(min(0.95, sheet_row / total), "load")
                yield (row + [None] * width)[:width]
        _insert_rows(cur, table, width, rows())
    finally:
        wb.close()


def _insert_rows(cur: duckdb.DuckDBPyConnection, table: str, width: int, rows: Iterable[list[str | None]]) -> None:
    """Append text rows in chunks through Arrow, numbering them from 1."""
    names = ["_row"] + [column_name(i) for i in range(1, width + 1)]
    n = 0
    chunk: list[list[str | None]] = []

    def flush() -> None:
        nonlocal n
        cols = [pa.array(range(n + 1, n + len(chunk) + 1), pa.int64())]
        cols += [pa.array([r[i] for r in chunk], pa.string()) for i in range(width)]
        arrow_chunk = pa.Table.from_arrays(cols, names=names)  # noqa: F841 (read by DuckDB below)
        cur.execute(f"INSERT INTO {table} SELECT * FROM arrow_chunk")
        n += len(chunk)
        chunk.clear()

    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK_ROWS:
            flush()
    if chunk:
        flush()


# ---------------------------------------------------------------- json lines

def _json_value(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _json_records(path: Path, file_name: str, encoding: str) -> Iterator[tuple[int, dict]]:
    """(line number, object) for JSON lines, or for one top-level JSON array."""
    with path.open("r", encoding=encoding) as fh:
        first = fh.read(1)
        while first and first.isspace():
            first = fh.read(1)
        fh.seek(0)
        if first == "[":
            try:
                items = json.load(fh, parse_float=str, parse_int=str)  # keep numbers' exact text
            except json.JSONDecodeError as exc:
                raise IngestError(f"{file_name}: invalid JSON at line {exc.lineno}: {exc.msg}.") from None
            for i, item in enumerate(items, start=1):
                if not isinstance(item, dict):
                    raise IngestError(f"{file_name}: item {i} of the JSON array is not an object.")
                yield i, item
            return
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line, parse_float=str, parse_int=str)
            except json.JSONDecodeError as exc:
                raise IngestError(f"{file_name}: line {line_no} is not valid JSON ({exc.msg}).") from None
            if not isinstance(item, dict):
                raise IngestError(f"{file_name}: line {line_no} is not a JSON object.")
            yield line_no, item


def _inspect_json(path: Path, file_name: str, encoding: str, digest: str) -> FilePlan:
    keys: dict[str, None] = {}
    preview_items: list[dict] = []
    for _, item in _json_records(path, file_name, encoding):
        for k in item:
            keys.setdefault(k, None)
        if len(preview_items) < PREVIEW_ROWS:
            preview_items.append(item)
        if len(keys) > MAX_COLUMNS:
            raise IngestError(f"{file_name}: more than {MAX_COLUMNS} distinct keys.")
    if not preview_items:
        raise IngestError(f"{file_name}: no JSON records found.")
    raw = list(keys)
    headers, changes = clean_headers(raw)
    preview = [[_json_value(item.get(k)) for k in raw] for item in preview_items]
    return FilePlan(path, "jsonl", digest, raw, headers, changes, preview, encoding=encoding, _loader=_load_json)


def _load_json(plan: FilePlan, cur: duckdb.DuckDBPyConnection, table: str, progress: ProgressFn | None) -> None:
    keys = plan.raw_headers
    assert plan.encoding is not None  # _inspect_json sets it
    rows = ([_json_value(item.get(k)) for k in keys] for _, item in _json_records(plan.path, plan.path.name, plan.encoding))
    _insert_rows(cur, table, len(keys), rows)


# ---------------------------------------------------------------- parquet

def _inspect_parquet(path: Path, file_name: str, digest: str) -> FilePlan:
    with duckdb.connect() as con:
        try:
            described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
            raw = [r[0] for r in described]
            casts = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR)" for c in raw)
            preview = [list(r) for r in con.execute(f"SELECT {casts} FROM read_parquet(?) LIMIT {PREVIEW_ROWS}", [str(path)]).fetchall()]
        except duckdb.Error as exc:
            raise IngestError(f"{file_name}: not a readable Parquet file ({str(exc).splitlines()[0]}).") from None
    if len(raw) > MAX_COLUMNS:
        raise IngestError(f"{file_name}: {len(raw)} columns is more than the limit of {MAX_COLUMNS}.")
    if not preview:
        raise IngestError(f"{file_name}: the Parquet file has no rows.")
    headers, changes = clean_headers(raw)
    return FilePlan(path, "parquet", digest, raw, headers, changes, preview, _loader=_load_parquet)


def _load_parquet(plan: FilePlan, cur: duckdb.DuckDBPyConnection, table: str, progress: ProgressFn | None) -> None:
    casts = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR)" for c in plan.raw_headers)
    cur.execute(
        f"INSERT INTO {table} SELECT file_row_number + 1, {casts} FROM read_parquet(?, file_row_number = true) "
        "ORDER BY file_row_number", [str(plan.path)])
