"""File readers: detect format, encoding, delimiter and header row, then load every
cell as text into a DuckDB table.

`inspect_file()` looks at a file and returns a `FilePlan` (or raises IngestError with
a clear message); `FilePlan.load(cur, table)` writes the rows into `table` with
columns `_row` (1-based data row number) and `c001`…`cNNN` (text). Header names are
kept as data, never as SQL identifiers, so hostile headers are harmless.

A CSV is sampled with Python's csv reader (header, preview) and loaded by DuckDB's read_csv. Both
count rows as CSV records, so a line break inside a quoted cell (a two-line header) moves nothing;
files whose line breaks mix styles are handed to DuckDB with every break an LF; both sides refuse
a row over MAX_ROW_BYTES with one message; and the load is checked against the sample.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, TextIO

import duckdb
import pyarrow as pa
from openpyxl import load_workbook
from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from governance.sources import mapping
from governance.standardize import normalizers
from governance.store import tabular
from governance.store.chaos import chaos_point
from governance.store.errors import IngestError
from governance.store.storage import quote_ident, scalar

TEXT_EXTENSIONS = {".csv", ".tsv", ".txt"}
EXCEL_EXTENSIONS = {".xlsx", ".xlsm"}
CALAMINE_EXTENSIONS = {".xls", ".ods"}  # Excel 97–2003 and OpenDocument, read with python-calamine
JSON_EXTENSIONS = {".jsonl", ".ndjson", ".json"}
PARQUET_EXTENSIONS = {".parquet"}
SUPPORTED = sorted(TEXT_EXTENSIONS | EXCEL_EXTENSIONS | CALAMINE_EXTENSIONS | JSON_EXTENSIONS | PARQUET_EXTENSIONS)
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "utf-16-le", "utf-16-be", "big5", "latin-1")

MAX_COLUMNS = 1000
MAX_HEADER_CHARS = 128
# One CSV row (all its fields, quoted line breaks included) may be at most this many bytes of UTF-8:
# DuckDB's read_csv refuses longer lines (its max_line_size, passed explicitly so both sides agree),
# and the sample read for the header and preview stops at the same size, with one clear message.
MAX_ROW_BYTES = 2 * 1024 * 1024
SAMPLE_BYTES = 256 * 1024
HEADER_SCAN_ROWS = 30
PREVIEW_ROWS = 200
CHUNK_ROWS = 20_000
DELIMITERS = (",", "\t", ";", "|")

ProgressFn = Callable[[float, str], None]

_LINE_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")  # a break inside a header is a space
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\x00-\x1f\x7f]")
_DATA_LIKE = re.compile(r"@|(\d\D*){3}")  # an email, or three or more digits: rare in a header
_SPACE_OR_QUOTE = re.compile(r'[\s"]+')

# Python's csv module refuses fields over 128 KiB by default; a row may hold up to MAX_ROW_BYTES.
# (Process-wide, and only ever raised: nothing that reads CSV gets stricter.)
csv.field_size_limit(max(csv.field_size_limit(), MAX_ROW_BYTES))


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
        text = _LINE_BREAKS.sub(" ", unicodedata.normalize("NFC", raw))  # 手机号\n(必填) -> 手机号 (必填)
        text = " ".join(_INVISIBLE.sub("", text).replace("\u3000", " ").split())
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
    file_format: str                 # csv | xlsx | xls | ods | jsonl | parquet
    sha256: str
    raw_headers: list[str]
    headers: list[str]
    header_changes: list[HeaderChange]
    preview: list[list[str | None]]  # first data rows, for the mapping step
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    header_line: int | None = None   # 1-based line (or sheet row) where the header starts; None when generated
    data_skip_lines: int = 0         # CSV: records (not lines) before the first data row; XLSX: sheet rows
    newlines: str = "lf"            # CSV: lf | crlf | mixed (a lone CR, or LF and CRLF): mixed ones become LF
    record_lines: list[int] = field(default_factory=list)  # CSV: the line each sampled record starts on
    first_data_row: list[str | None] | None = None  # CSV: the first data record, to check the load against
    data_row_count: int | None = None  # CSV read whole while sampling: its number of data rows
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
    if ext not in SUPPORTED:
        raise IngestError(f"{file_name}: unsupported file type {ext or '(none)'}; use one of {', '.join(SUPPORTED)}.")
    expected = ("zip" if ext in EXCEL_EXTENSIONS or ext == ".ods" else "ole" if ext == ".xls"
                else "parquet" if ext in PARQUET_EXTENSIONS else "text")
    if kind != expected:
        found = {"zip": "an Excel/zip file", "parquet": "a Parquet file", "ole": "an old Excel (.xls) file",
                 "binary": "a binary file", "text": "a text file"}[kind]
        raise IngestError(f"{file_name}: the extension says {ext} but the content is {found}.")
    if ext in EXCEL_EXTENSIONS:
        return _inspect_xlsx(path, file_name, sheet, sha256_file(path))
    if ext in CALAMINE_EXTENSIONS:
        return _inspect_calamine(path, file_name, sheet, sha256_file(path))
    if ext in PARQUET_EXTENSIONS:
        return _inspect_parquet(path, file_name, sha256_file(path))
    newlines = NewlineCount()
    enc, digest = _check_encoding(path, file_name, head, encoding, newlines)
    if ext in JSON_EXTENSIONS:
        return _inspect_json(path, file_name, enc, digest)
    return _inspect_delimited(path, file_name, enc, digest, newlines.style)


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


class NewlineCount:
    """The line-break style of decoded text fed piece by piece: counts CR, LF and CRLF (which may straddle
    two pieces) from the first piece holding a CR; before it, only whether there was an LF at all."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.cr = self.lf = self.crlf = 0
        self._lf_before_cr = self._cr_last = False

    def feed(self, text: str) -> None:
        if not text:
            return
        if not self.cr and "\r" not in text:
            self._lf_before_cr = self._lf_before_cr or "\n" in text
            return
        if self._cr_last and text[0] == "\n":
            self.crlf += 1
        self.cr += text.count("\r")
        self.crlf += text.count("\r\n")
        self.lf += text.count("\n")
        self._cr_last = text[-1] == "\r"

    @property
    def style(self) -> str:
        """lf (no CR at all), crlf (every break a CRLF) or mixed: a lone CR (old Mac files, or inside a
        quoted field), or LF and CRLF together (Excel writes LF inside a cell and CRLF between rows).
        DuckDB's reader loses or refuses rows of mixed files, so they are normalised to LF for it."""
        if self.cr == 0:
            return "lf"
        return "crlf" if self.cr == self.crlf == self.lf and not self._lf_before_cr else "mixed"


def _check_encoding(path: Path, file_name: str, head: bytes, override: str | None,
                    newlines: NewlineCount | None = None) -> tuple[str, str]:
    """Detect (or check the override against) the whole file; raise with the position of bad bytes.
    Returns the encoding and the file's sha256, computed in the same pass when it can be; counts the
    line breaks of the decoded text into `newlines` in that pass too. Without a BOM a file is UTF-8,
    else GB18030, else Big5 when Big5 reads it as common characters and GB18030 does not; a file
    that is UTF-8 up to a line in another encoding is refused (it mixes encodings)."""
    digest = hashlib.sha256()
    if override:
        try:
            codecs.lookup(override)
        except LookupError:
            raise IngestError(f"Unknown encoding {override!r}; choose one of {', '.join(ENCODINGS)}.") from None
        _decode_all(path, file_name, override, raise_error=True, digest=digest, newlines=newlines)
        bom = override.lower().replace("_", "-") == "utf-8" and head.startswith(codecs.BOM_UTF8)
        return ("utf-8-sig" if bom else override), digest.hexdigest()
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif enc := _utf16_without_bom(head):
        encoding = enc
    else:
        failed = _decode_all(path, file_name, "utf-8", raise_error=False, digest=digest, newlines=newlines)
        if failed is None:
            return "utf-8", digest.hexdigest()
        line, byte, utf8_before = failed
        if utf8_before >= MIXED_UTF8_BYTES:
            raise IngestError(
                f"{file_name}: the file is UTF-8 up to line {line} (byte {byte}), which is in another encoding: "
                "it mixes encodings. Save it again in one encoding (UTF-8), or choose the encoding most of it is in.")
        if newlines is not None:
            newlines.reset()
        _decode_all(path, file_name, "gb18030", raise_error=True, newlines=newlines)
        return _gb_or_big5(path, newlines), sha256_file(path)
    _decode_all(path, file_name, encoding, raise_error=True, digest=digest, newlines=newlines)
    return encoding, digest.hexdigest()


MIXED_UTF8_BYTES = 64  # non-ASCII UTF-8 bytes before the first byte that is not: a UTF-8 file, not GBK
_HAN_CHAR = re.compile(r"[\u3400-\u9fff\ue000-\uf8ff\uf900-\ufaff]")


def _common_share(text: str) -> float:
    """The share of the Han characters (first 5,000) among the 3,755 most common ones (GB 2312's
    first level), read as simplified: high for Chinese text, low for text in the wrong encoding."""
    han = _HAN_CHAR.findall(text)[:5000]
    if not han:
        return 1.0
    common = 0
    for char in normalizers.to_simplified("".join(han)):
        try:
            common += 0xB0 <= char.encode("gb2312")[0] <= 0xD7
        except UnicodeEncodeError:
            pass
    return common / len(han)


def _gb_or_big5(path: Path, newlines: NewlineCount | None) -> str:
    """GB18030 reads almost any bytes; a Big5 file (Hong Kong, Taiwan) reads as rare characters in it."""
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    gb = _common_share(sample.decode("gb18030", errors="replace"))
    if gb >= 0.9 or _common_share(sample.decode("big5", errors="replace")) < gb + 0.2:
        return "gb18030"
    if _decode_all(path, path.name, "big5", raise_error=False) is not None:
        return "gb18030"
    if newlines is not None:  # the line breaks as Big5 reads them
        newlines.reset()
        _decode_all(path, path.name, "big5", raise_error=False, newlines=newlines)
    return "big5"


def _decode_all(path: Path, file_name: str, encoding: str, raise_error: bool, digest=None,
                newlines: NewlineCount | None = None) -> tuple[int, int, int] | None:
    """Decode the whole file; None when it decodes, else (line, byte, non-ASCII bytes before it) of
    the first bad byte, or an IngestError naming them when `raise_error`."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset, lines, high = 0, 1, 0
    with path.open("rb") as fh:
        while chunk := fh.read(4 * 1024 * 1024):
            if digest is not None:
                digest.update(chunk)
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line, byte = lines + chunk[:exc.start].count(b"\n"), offset + exc.start
                if not raise_error:
                    return line, byte, high + exc.start - len(chunk[:exc.start].translate(None, _HIGH_BYTES))
                raise IngestError(
                    f"{file_name}: the bytes at line {line} (byte {byte}) are not valid "
                    f"{encoding}. Choose the right encoding (e.g. GB18030 for GBK exports) or fix the file."
                ) from None
            if newlines is not None:
                newlines.feed(text)
            offset += len(chunk)
            lines += chunk.count(b"\n")
            high += len(chunk) - len(chunk.translate(None, _HIGH_BYTES))
        try:
            text = decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            if not raise_error:
                return lines, offset, high
            raise IngestError(f"{file_name}: the file ends in the middle of a {encoding} character.") from None
        if newlines is not None:
            newlines.feed(text)
    return None


_HIGH_BYTES = bytes(range(0x80, 0x100))


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


def _filled(row: Sequence[str | None]) -> list[str]:
    return [str(c).strip() for c in row if c is not None and str(c).strip()]


def _fields_named(row: Sequence[str | None]) -> int:
    return sum(1 for c in row if mapping.names_a_field(None if c is None else str(c)))


# A title line's cell of a label and its value (导出时间：2024-06-01, 导出人: 客服部)
_LABELLED_VALUE = re.compile(r"[^:：]{1,20}[:：]\s*\S.*")
_TITLE_LINES_MAX = 5  # title lines above a header, at most


def _pick_header(rows: Sequence[Sequence[str | None]]) -> int | None:
    """Index of the header row: the first row filled to at least half the usual width,
    skipping title and blank lines above it (a line of `label: value` cells is a title line
    however wide; so is one naming no field above a row that names two or more). None when that
    row already looks like data: digits or an e-mail, or values like those of the rows below it (a
    customer, not labels), unless a cell is a header the mapping knows (手机号 beside 2023年消费金额)."""
    modal = _modal_width(rows)
    for i, row in enumerate(rows):
        cells = _filled(row)
        if cells and len(cells) >= max(1, (modal + 1) // 2):
            if i < _TITLE_LINES_MAX and all(_LABELLED_VALUE.fullmatch(c) for c in cells):
                continue
            if _fields_named(row):
                return i
            below = next((j for j in range(i + 1, min(len(rows), _TITLE_LINES_MAX + 1))
                          if _fields_named(rows[j]) >= 2), None) if i < _TITLE_LINES_MAX else None
            if below is not None:
                return below
            return None if _looks_like_data(row) or mapping.reads_as_record(row, rows[i + 1:]) else i
    return None


def _inspect_delimited(path: Path, file_name: str, encoding: str, digest: str, newlines: str = "lf") -> FilePlan:
    sample = _read_text_sample(path, encoding)
    if not sample.strip():
        raise IngestError(f"{file_name}: the file has no content besides blank space.")
    delimiter = "\t" if Path(file_name).suffix.lower() == ".tsv" else _sniff_delimiter(sample)
    with path.open("r", encoding=encoding, newline="") as fh:
        records = _records(fh, file_name, delimiter, normalise=newlines == "mixed")
        rows: list[list[str]] = []
        starts: list[int] = []  # the line each record starts on
        whole = True            # every record of the file was read
        for row, start, chars in records:
            rows.append(row)
            starts.append(start)
            if len(rows) >= HEADER_SCAN_ROWS + PREVIEW_ROWS or chars >= SAMPLE_BYTES:
                whole = False
                break
        scan = rows[:HEADER_SCAN_ROWS]
        if not any(_trimmed_len(r) for r in scan):
            if whole:
                raise IngestError(f"{file_name}: the file has no values, only delimiters and blank lines.")
            raise IngestError(f"{file_name}: the first {HEADER_SCAN_ROWS} rows hold no values; "
                              "the header must be within them.")
        header_idx = _pick_header(scan)
        skip = header_idx + 1 if header_idx is not None else next(i for i, r in enumerate(scan) if _trimmed_len(r))
        if not whole and not any(_trimmed_len(r) for r in rows[skip:]):
            # a header (or title lines) longer than the sample: read on to the first data row
            for row, start, _ in records:
                rows.append(row)
                starts.append(start)
                if _trimmed_len(row):
                    break
            else:
                whole = True
    if header_idx is None:
        width = Counter(len(r) for r in scan if _trimmed_len(r)).most_common(1)[0][0]
    else:
        width = len(rows[header_idx])
    if width > MAX_COLUMNS:
        raise IngestError(f"{file_name}: {width} columns is more than the limit of {MAX_COLUMNS}.")
    notes = []
    if newlines == "mixed":
        notes.append("line_breaks_normalised")
    if header_idx is None:
        raw_headers = [""] * width
        header_line = None
        notes.append("no_header")
    else:
        raw_headers = rows[header_idx] + [""] * (width - len(rows[header_idx]))
        header_line = starts[header_idx]
        if header_line > 1:
            notes.append(f"skipped_lines:{header_line - 1}")
    data_rows = rows[skip:]
    headers, changes = clean_headers(raw_headers)
    preview = [r for r in data_rows if any(c.strip() for c in r)][:PREVIEW_ROWS]
    if not preview:
        raise IngestError(f"{file_name}: the file has a header but no data rows.")
    # The rows as DuckDB will load them (a blank line is no row, except in a one-column file, where it is
    # an empty cell), to check the load against: its first row, and its row count when the whole file was read.
    loaded = [[c if c != "" else None for c in r] or [None] for r in data_rows if r or width == 1]
    check = all(len(r) == width for r in loaded)
    return FilePlan(path, "csv", digest, raw_headers, headers, changes, [[c if c != "" else None for c in r] for r in preview],
                    encoding=encoding, delimiter=delimiter, header_line=header_line, data_skip_lines=skip,
                    newlines=newlines, record_lines=starts, notes=notes, _loader=_load_delimited,
                    first_data_row=loaded[0] if check and loaded else None,
                    data_row_count=len(loaded) if check and whole else None)


class _RowTooLong(Exception):
    def __init__(self, line: int, size: int, one_line: bool) -> None:
        super().__init__(line, size, one_line)
        self.line, self.size, self.one_line = line, size, one_line


class _RecordLines:
    """The physical lines of a text file (opened with newline=""), for csv.reader: counts lines and
    characters, refuses a record (a row, quoted line breaks included) over MAX_ROW_BYTES of UTF-8 as
    DuckDB does, and turns every line break (CRLF, CR) into LF when asked, as `_load_delimited` does."""

    def __init__(self, fh: TextIO, normalise: bool) -> None:
        self.fh, self.normalise = fh, normalise
        self.line = 0         # physical lines read
        self.chars = 0        # characters read
        self.record_line = 1  # the line the current record starts on
        self._record_bytes = 0

    def __iter__(self) -> "_RecordLines":
        return self

    def start_record(self) -> None:
        self.record_line, self._record_bytes = self.line + 1, 0

    def __next__(self) -> str:
        line = self.fh.readline(MAX_ROW_BYTES + 2)  # characters: at least as many bytes
        if not line:
            raise StopIteration
        if self.line == 0:
            line = line.lstrip("\ufeff")
        self.line += 1
        self.chars += len(line)
        self._record_bytes += len(line.encode("utf-8", "surrogatepass"))
        if self._record_bytes > MAX_ROW_BYTES + 2:  # + its line break, which DuckDB does not count
            raise self._too_long(line)
        if self.normalise and line.endswith("\r"):
            line = line[:-1] + "\n"
        elif self.normalise and line.endswith("\r\n"):
            line = line[:-2] + "\n"
        return line

    def _too_long(self, line: str) -> _RowTooLong:
        """The row's size, measured to the end of its line when the row is one line (else: at least)."""
        size, one_line = self._record_bytes, self.record_line == self.line
        while one_line and line and not line.endswith(("\n", "\r")):
            line = self.fh.readline(4 * 1024 * 1024)
            size += len(line.encode("utf-8", "surrogatepass"))
        size -= len(line) - len(line.rstrip("\r\n")) if one_line else 0
        return _RowTooLong(self.record_line, size, one_line)


def _records(fh: TextIO, file_name: str, delimiter: str, normalise: bool) -> Iterator[tuple[list[str], int, int]]:
    """(record, the line it starts on, characters read so far) for each record of a delimited file."""
    lines = _RecordLines(fh, normalise)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        while True:
            lines.start_record()
            row = next(reader, None)
            if row is None:
                return
            yield row, lines.record_line, lines.chars
    except _RowTooLong as exc:
        where = f"line {exc.line}" if exc.one_line else f"the row starting at line {exc.line}"
        raise IngestError(_too_long_message(file_name, where, exc.size if exc.one_line else None)) from None
    except csv.Error as exc:
        raise IngestError(f"{file_name}: cannot parse line {lines.line}: {exc}.") from None


def _too_long_message(file_name: str, where: str, size: int | None) -> str:
    """`size` is None when only a lower bound is known (a row over several lines)."""
    limit = f"a row may be at most {MAX_ROW_BYTES / 1024**2:.0f} MB"
    if size is not None:
        return (f"{file_name}: {where} is {size / 1024**2:.1f} MB long; {limit}. "
                "Shorten or remove its longest field and upload again.")
    return (f"{file_name}: {where} runs over {MAX_ROW_BYTES / 1024**2:.0f} MB; {limit}. "
            "An opening quote that is never closed is the usual cause.")


def _transcode(source: Path, encoding: str, target: Path, normalise: bool) -> None:
    """Copy a text file as UTF-8 (without BOM), turning every CRLF and lone CR into LF when asked."""
    with source.open("r", encoding=encoding, newline="") as src, target.open("w", encoding="utf-8", newline="") as dst:
        carry = ""
        while chunk := src.read(1024 * 1024):
            if normalise:
                chunk = carry + chunk
                carry = "\r" if chunk.endswith("\r") else ""  # its LF may start the next chunk
                chunk = chunk[: len(chunk) - len(carry)].replace("\r\n", "\n").replace("\r", "\n")
            dst.write(chunk)
        if carry:
            dst.write("\n")


def _load_delimited(plan: FilePlan, cur: duckdb.DuckDBPyConnection, table: str, progress: ProgressFn | None) -> None:
    assert plan.encoding is not None and plan.delimiter is not None  # _inspect_delimited sets them
    if plan.encoding in ("utf-8", "utf-8-sig") and plan.newlines != "mixed":
        _read_delimited(plan, plan.path, cur, table, progress)
        return
    # A UTF-8 copy holds every value of the file: private, removed however the load ends, and
    # swept by the next load if this process is killed.
    scratch = Path(tempfile.gettempdir())
    tabular.sweep_parts(scratch)
    with tabular.private_part(scratch / "steward-transcoded.csv") as copy:
        if progress:
            progress(0.1, "transcode")
        _transcode(plan.path, plan.encoding, copy, plan.newlines == "mixed")
        chaos_point("ingest.transcoded")
        _read_delimited(plan, copy, cur, table, progress)


def _read_delimited(plan: FilePlan, source: Path, cur: duckdb.DuckDBPyConnection, table: str,
                    progress: ProgressFn | None) -> None:
    columns = "{" + ", ".join(f"'{column_name(i)}': 'VARCHAR'" for i in range(1, plan.column_count + 1)) + "}"
    # DuckDB's reader needs one line-break style: LF is named (it reads LF files with CRLF inside quotes
    # right only then); a CRLF file is left to its detection (new_line = '\r\n' misreads it).
    new_line = "" if plan.newlines == "crlf" else "new_line = '\\n', "
    try:
        if progress:
            progress(0.3, "load")
        cur.execute(
            f"INSERT INTO {table} SELECT ordinality, * EXCLUDE (ordinality) FROM read_csv(?, header = false, "
            f"skip = ?, delim = ?, quote = '\"', escape = '\"', {new_line}columns = {columns}, auto_detect = false, "
            f"strict_mode = true, null_padding = false, max_line_size = {MAX_ROW_BYTES}, encoding = 'utf-8') "
            "WITH ORDINALITY",
            [str(source), plan.data_skip_lines, plan.delimiter],
        )
    except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
        raise IngestError(_csv_error_message(plan, str(exc))) from None
    _check_loaded(plan, cur, table)


def _check_loaded(plan: FilePlan, cur: duckdb.DuckDBPyConnection, table: str) -> None:
    """The rows DuckDB loaded must start where the header ends and, for a file read whole while
    sampling, be as many as Python's reader found: a disagreement is refused, never a lost row.
    Cells are compared without spaces and quotes, which DuckDB trims around a quoted value."""
    name = plan.path.name
    after = f"after the header on line {plan.header_line}" if plan.header_line else "at the top"
    if plan.first_data_row is not None:
        first = cur.execute(f"SELECT * EXCLUDE (_row) FROM {table} WHERE _row = 1").fetchone()
        if first is None or [_loose(v) for v in first] != [_loose(v) for v in plan.first_data_row]:
            raise IngestError(f"{name}: the rows read do not start with the row {after}; nothing was loaded. "
                              "Check the file's quotes and line breaks, or save it again as CSV.")
    if plan.data_row_count is not None:
        n = scalar(cur, f"SELECT count(*) FROM {table}")
        if n != plan.data_row_count:
            raise IngestError(f"{name}: {n} rows were read but the file has {plan.data_row_count}; nothing was "
                              "loaded. Check the file's quotes and line breaks, or save it again as CSV.")


def _loose(value: str | None) -> str:
    return _SPACE_OR_QUOTE.sub("", value or "")


def _csv_error_message(plan: FilePlan, message: str) -> str:
    name = plan.path.name if plan.path else "file"
    record = re.search(r"Line: (\d+)", message)
    # DuckDB numbers lines without counting line breaks inside quotes; the sample knows the real lines
    # of its records, and whether the file has such line breaks at all
    if record and 0 < int(record.group(1)) <= len(plan.record_lines):
        where = f"line {plan.record_lines[int(record.group(1)) - 1]}"
    elif record:
        quoted_breaks = plan.record_lines != list(range(1, len(plan.record_lines) + 1))
        where = f"line {record.group(1)}" + (" (not counting line breaks inside quotes)" if quoted_breaks else "")
    else:
        where = "a line"
    too_long = re.search(r"Maximum line size of \d+ bytes exceeded\. Actual Size:\s*(\d+) bytes", message)
    if too_long:
        return _too_long_message(name, where, int(too_long.group(1)))
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if counts:
        return (f"{name}: {where} has {counts.group(2)} fields but the header has "
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
    return _sheet_plan(path, file_name, "xlsx", digest, rows, ws.title, names, _load_xlsx)


def _sheet_plan(path: Path, file_name: str, file_format: str, digest: str, rows: list[list[str | None]],
                title: str, names: list[str], loader: Callable) -> FilePlan:
    """Header row, width and preview of a sheet's first rows (any spreadsheet format)."""
    if not any(any(c not in (None, "") for c in r) for r in rows):
        raise IngestError(f"{file_name}: the sheet {title!r} is empty.")
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
        raise IngestError(f"{file_name}: the sheet {title!r} has a header but no data rows.")
    return FilePlan(path, file_format, digest, [h or "" for h in raw_headers], headers, changes, preview, sheet=title,
                    sheets=names, header_line=header_line, data_skip_lines=start,
                    notes=[] if header_line else ["no_header"], _loader=loader)


def _load_xlsx(plan: FilePlan, cur: duckdb.DuckDBPyConnection, table: str, progress: ProgressFn | None) -> None:
    wb, ws, _ = _open_sheet(plan.path, plan.path.name, plan.sheet)
    try:
        _insert_sheet_rows(plan, cur, table, _sheet_rows(ws), ws.max_row or 0, progress)
    finally:
        wb.close()


def _insert_sheet_rows(plan: FilePlan, cur: duckdb.DuckDBPyConnection, table: str,
                       sheet_rows: Iterable[list[str | None]], total: int, progress: ProgressFn | None) -> None:
    """Load a sheet's rows below the header; a value right of the last header column refuses the file."""
    width = plan.column_count

    def rows() -> Iterator[list[str | None]]:
        for sheet_row, row in enumerate(sheet_rows, start=1):
            if sheet_row <= plan.data_skip_lines or not any(c not in (None, "") for c in row):
                continue
            if any(c not in (None, "") for c in row[width:]):
                raise IngestError(f"{plan.path.name}: sheet row {sheet_row} has values right of the last "
                                  f"header column ({width} columns). Fix the row and upload again.")
            if progress and sheet_row % CHUNK_ROWS == 0 and total:
                progress(min(0.95, sheet_row / total), "load")
            yield (row + [None] * width)[:width]
    _insert_rows(cur, table, width, rows())


# .xls and .ods: python-calamine reads the values a spreadsheet program saved. It gives no formula text,
# so a formula cell holds the result last saved with the file (calamine evaluates nothing), and a
# number cell gives a float: an integral one is written without ".0" (13800138000.0 -> 13800138000).
# A float holds every integer up to 2**53 exactly; past 16 digits cell_text keeps the float's own
# text (1.1010519491231002e+17), because the digits were already lost when the spreadsheet program
# stored an 18-digit ID typed as a number (the ID check then flags it). IDs typed as text are exact.

def _calamine_text(value: object) -> str | None:
    return None if value == "" else cell_text(value)


def _open_calamine(path: Path, file_name: str, sheet: str | None):
    kind = Path(file_name).suffix.lower()
    try:  # calamine tells the format from the content, whatever the path is called
        wb = CalamineWorkbook.from_path(str(path))
    except PasswordError:
        raise IngestError(f"{file_name}: the workbook is password-protected; save it without a password.") from None
    except (CalamineError, OSError, ValueError) as exc:
        raise IngestError(f"{file_name}: not a readable {kind} workbook ({type(exc).__name__}).") from None
    names = list(wb.sheet_names)
    if sheet is not None and sheet not in names:
        wb.close()
        raise IngestError(f"{file_name}: no sheet named {sheet!r}; the sheets are {', '.join(names)}.")
    if not names:
        wb.close()
        raise IngestError(f"{file_name}: the workbook has no sheets.")
    try:
        ws = wb.get_sheet_by_name(sheet or names[0])
    except (CalamineError, ValueError) as exc:
        wb.close()
        raise IngestError(f"{file_name}: the sheet cannot be read ({type(exc).__name__}).") from None
    return wb, ws, names


def _calamine_rows(ws) -> Iterator[list[str | None]]:
    """Every row from the sheet's first, padded on the left to column A, as openpyxl gives them."""
    start = ws.start
    pad: list[str | None] = [None] * (start[1] if start else 0)
    for row in ws.iter_rows():
        yield pad + [_calamine_text(v) for v in row]


def _inspect_calamine(path: Path, file_name: str, sheet: str | None, digest: str) -> FilePlan:
    wb, ws, names = _open_calamine(path, file_name, sheet)
    try:
        rows = []
        for row in _calamine_rows(ws):
            rows.append(row)
            if len(rows) >= HEADER_SCAN_ROWS + PREVIEW_ROWS:
                break
    finally:
        wb.close()
    file_format = Path(file_name).suffix.lower().lstrip(".")
    return _sheet_plan(path, file_name, file_format, digest, rows, ws.name, names, _load_calamine)


def _load_calamine(plan: FilePlan, cur: duckdb.DuckDBPyConnection, table: str, progress: ProgressFn | None) -> None:
    wb, ws, _ = _open_calamine(plan.path, plan.path.name, plan.sheet)
    try:
        _insert_sheet_rows(plan, cur, table, _calamine_rows(ws), ws.total_height or 0, progress)
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


TOO_DEEP = "the JSON is nested too deeply to be a table of records."


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
            except RecursionError:
                raise IngestError(f"{file_name}: {TOO_DEEP}") from None
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
            except RecursionError:
                raise IngestError(f"{file_name}: line {line_no}: {TOO_DEEP}") from None
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
