"""Downloads of golden records, the crosswalk and per-field lineage, with the rules that make them safe.

- **Masked by default** through `governance.access.masking` (each column by its standard field; lineage values
  by the field they belong to), in the export's SQL, the keyed `hash` included (its key is held in
  the cursor's variables). An unmasked export needs a role holding `pii.unmasked` and a stated
  purpose, and is audited.
- **Purpose-bound.** A purpose naming a consent purpose (`marketing`, `analytics`,
  `third_party_sharing`, written alone or as `marketing: 618 SMS campaign`) keeps only people whose
  current consent for it is granted, and minors under 14 only with a granted guardian consent. With any
  purpose, a sensitive field (resident ID) is exported only for people with its separate consent.
  Consent is read from the ledger at export time, so a withdrawal takes effect at once.
- **Filters** (channel, province, consent, completeness score, an audience's eligible members) and the row count run in SQL.
- **Tag values** (`tag_values`): one row per OneID and published tag the role may view (or the tags
  asked for). A personal tag's values are hidden unless the role sees unmapped columns in full; sensitive
  tags are never exported (no separate consent covers them yet).
- **Streaming.** Rows come from DuckDB as Arrow record batches and are masked and written one chunk at
  a time (`governance.store.tabular` writers), with a progress callback. Up to 200,000 rows come sorted
  (by OneID, or source and row); larger exports keep storage order, since a sort holds every row.
- **Labels for people, codes for systems.** With `labels`, CSV and XLSX headers and coded values
  (statuses, channels, consent states, rule kinds, genders) read as labels in `lang`, applied to each
  masked chunk; without it (and always in Parquet) the field names and codes stay. An XLSX file gets a
  second sheet explaining every column (label, field code, what it holds, its codes and labels).
- **Manifest.** Every export writes `<file>.manifest.json` (who, when, dataset, filter, fields, masking,
  purpose, row count, sha256, labels or codes and the language) and a row in `export_manifests`, in the
  transaction of its audit record.
- **Crash-safe.** The file is written privately beside its destination and lands only when complete and
  on record; an unmasked export is audited when it starts, so an interrupted one is on record too.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd

from governance.access import audit, auth, masking
from governance.access.events import Event
from governance.access.masking import AGGREGATE_SEPARATOR
from governance.i18n import DEFAULT_LANG, LANGS
from governance.oneid import links
from governance.oneid.resolve import SUB_ACCOUNTS
from governance.privacy import consent
from governance.standardize.labels import Labeller
from governance.store.chaos import chaos_point
from governance.store.config import Settings, secret
from governance.store.errors import GovernanceError, PermissionDenied
from governance.store.schema import BY_NAME, FIELD_NAMES
from governance.store.storage import Database, relation, scalar
from governance.store.tabular import (
    FORMATS,
    XLSX_MAX_ROWS,
    XlsxWriter,
    open_writer,
    private_part,
    remove_older,
    sweep_parts,
)
from governance.store.util import utcnow
from governance.tags import library as tag_library

DATASETS = ("golden", "crosswalk", "lineage", "tag_values")
CHUNK_ROWS = 20_000
SORT_UP_TO = 200_000  # larger exports stream in storage order: a sort would hold every row in memory
SENSITIVE_FIELDS = tuple(f for f in FIELD_NAMES if BY_NAME[f].sensitive)


# ---------------------------------------------------------------------------------------------
# datasets: (column, SQL expression, standard field used for masking or None)
# ---------------------------------------------------------------------------------------------

def _golden_columns() -> list[tuple[str, str, str | None]]:
    cols: list[tuple[str, str, str | None]] = [("oneid", "g.oneid", None)] + [(f, f"g.{f}", f) for f in FIELD_NAMES]
    cols += [("record_count", "g.record_count", None), ("channel_count", "g.channel_count", None),
             ("channels", "array_to_string(g.channels, ',')", None), ("first_seen", "g.first_seen", None),
             ("last_seen", "g.last_seen", None), ("is_minor", "g.is_minor", None),
             ("completeness", "g.completeness", None), ("consent_marketing", "k.marketing_state", None)]
    return cols


def _crosswalk_columns() -> list[tuple[str, str, str | None]]:
    return ([("source", "c.source", None), ("row_number", "c.row_number", None), ("oneid", "c.oneid", None),
             ("placed_by", "c.placed_by", None), ("batch_id", "c.batch_id", None), ("channel", "b.channel", None)]
            + [(k, f"s.{k}", k) for k in SUB_ACCOUNTS])


def _lineage_columns() -> list[tuple[str, str, str | None]]:
    return [("oneid", "l.oneid", None), ("field", "l.field", None), ("value", "l.value", "*"),
            ("rule", "l.rule", None), ("source", "l.source", None), ("batch_id", "l.batch_id", None),
            ("row_number", "l.row_number", None),
            ("competing", f"array_to_string(l.competing, '{AGGREGATE_SEPARATOR}')", "*")]


def _tag_values_columns() -> list[tuple[str, str, str | None]]:
    return [("oneid", "t.oneid", None), ("tag_code", "t.tag_code", None), ("value", "t.value", TAG_VALUE),
            ("as_of", "t.as_of", None), ("computed_at", "t.computed_at", None)]


TAG_VALUE = "tag value"  # masked by the tag's sensitivity, not by a standard field


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: list[tuple[str, str, str | None]]  # "*": masked by the row's `field`
    source: str          # FROM clause; `g` is golden_records, `k` the consent pivot
    oneid: str           # the person's OneID expression
    channel: str         # SQL predicate on a channel list parameter
    order: str

    @property
    def column_names(self) -> list[str]:
        return [c for c, _, _ in self.columns]


_DATASETS = {
    "golden": Dataset("golden", _golden_columns(), "golden_records g", "g.oneid",
                      "list_has_any(g.channels, ?::VARCHAR[])", "g.oneid"),
    "crosswalk": Dataset("crosswalk", _crosswalk_columns(),
                         "crosswalk c JOIN std_records s USING (batch_id, row_number) JOIN batches b USING (batch_id) "
                         "LEFT JOIN golden_records g ON g.oneid = c.oneid", "c.oneid",
                         "list_contains(?::VARCHAR[], b.channel)", "c.source, c.row_number"),
    "lineage": Dataset("lineage", _lineage_columns(), "golden_lineage l LEFT JOIN golden_records g ON g.oneid = l.oneid",
                       "l.oneid", "list_has_any(g.channels, ?::VARCHAR[])", "l.oneid, l.field"),
    "tag_values": Dataset("tag_values", _tag_values_columns(),
                          "tag_values t JOIN tag_definitions d ON d.code = t.tag_code AND d.version = t.tag_version "
                          "LEFT JOIN golden_records g ON g.oneid = t.oneid", "t.oneid",
                          "list_has_any(g.channels, ?::VARCHAR[])", "t.oneid, t.tag_code"),
}


def dataset(name: str) -> Dataset:
    if name not in _DATASETS:
        raise GovernanceError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")
    return _DATASETS[name]


def columns(name: str) -> list[str]:
    return dataset(name).column_names


# ---------------------------------------------------------------------------------------------
# requests
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportFilter:
    channels: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    consent: str | None = None            # only people whose consent for this purpose is granted
    min_completeness: float | None = None  # golden completeness score, 0–1
    tags: tuple[str, ...] = ()            # tag_values: these tags (default: every one the role may view)
    audience: str | None = None           # the audience (and version) `members` selects, for the manifest
    members: str | None = None            # a SELECT of the OneIDs to keep (an audience's eligible members)

    def as_dict(self) -> dict:
        """The filter for the manifest and audit record (without the members' SQL)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()
                if v not in ((), None) and k != "members"}


@dataclass(frozen=True)
class ExportRequest:
    dataset: str
    actor: str
    format: str = "csv"
    fields: tuple[str, ...] = ()          # empty: every column of the dataset
    filter: ExportFilter = field(default_factory=ExportFilter)
    masked: bool = True
    purpose: str | None = None
    role: str | None = None               # the actor's role; unmasked needs pii.unmasked
    labels: bool = False                  # headers and coded values as labels in `lang` (never in Parquet)
    lang: str = DEFAULT_LANG              # of the labels and of an XLSX file's columns sheet

    @property
    def labelled(self) -> bool:
        """Labels for people, or (Parquet always) the field names and codes for systems."""
        return self.labels and self.format != "parquet"

    def labeller(self) -> Labeller:
        return Labeller(self.lang, {"placed_by": links.rule_names(self.lang)})

    @property
    def consent_purpose(self) -> str | None:
        return purpose_key(self.purpose)

    def chosen_fields(self) -> list[str]:
        available = columns(self.dataset)
        chosen = list(self.fields) or available
        unknown = [f for f in chosen if f not in available]
        if unknown:
            raise GovernanceError(f"Unknown fields for {self.dataset}: {', '.join(unknown)}.")
        return [f for f in available if f in chosen]


def purpose_key(purpose: str | None) -> str | None:
    """The consent purpose a stated purpose names: 'marketing' or 'marketing: 618 campaign' -> 'marketing'."""
    if not purpose:
        return None
    head = purpose.split(":", 1)[0].strip().lower()
    return head if head in consent.PURPOSES else None


def authorize(request: ExportRequest) -> None:
    """Unmasked exports need `pii.unmasked` and a purpose; bad formats, datasets and fields are refused."""
    dataset(request.dataset)
    if request.format not in FORMATS:
        raise GovernanceError(f"Unknown format {request.format!r}; choose one of {', '.join(FORMATS)}.")
    query(request)  # checks the fields and the filter
    if request.lang not in LANGS:
        raise GovernanceError(f"Unknown language {request.lang!r}; choose one of {', '.join(LANGS)}.")
    if not request.masked:
        if not auth.can(request.role, "pii.unmasked"):
            raise PermissionDenied("An unmasked export needs a role with the permission 'pii.unmasked'.")
        if not (request.purpose or "").strip():
            raise GovernanceError("An unmasked export needs a stated purpose.")


def _tag_value_label(value: str, lang: str) -> str:
    """A tag value's label from its definition's allowed values (yes/no for booleans), else the value."""
    yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
    allowed = "from_json(d.allowed_values, '[{\"code\": \"VARCHAR\", \"zh\": \"VARCHAR\", \"en\": \"VARCHAR\"}]')"
    return (f"CASE WHEN d.value_type = 'boolean' THEN CASE {value} WHEN 'true' THEN '{yes}' WHEN 'false' THEN '{no}' END "
            f"ELSE coalesce(list_filter({allowed}, lambda a: a.code = {value})[1].{lang}, {value}) END")


def _granted(purpose: str) -> str:
    return f"coalesce(k.{purpose}, false)"


def _masked_sql(expr: str, fld: str, role: str | None, policy: masking.Policy | None) -> str:
    """A column masked in SQL (lineage values by the field of their row)."""
    if fld == TAG_VALUE:  # a personal tag's value shows in full or not at all: a partial `t***` would tell
        rule = (policy or masking.DEFAULT_POLICY).rule(masking.OTHER, role) if role else masking.DEFAULT_RULES[masking.OTHER]
        shown = expr if rule.method == "full" else f"'{masking.HIDDEN}'"
        return f"CASE WHEN d.sensitivity = 'normal' THEN {expr} ELSE {shown} END"
    if fld != "*":
        return masking.sql_mask_value(fld, expr, role, policy)
    whens = " ".join(f"WHEN l.field = '{f}' THEN {masking.sql_mask_value(f, expr, role, policy)}"
                     for f in FIELD_NAMES if masking.class_of(f) is not None)
    public = ", ".join(f"'{f}'" for f in FIELD_NAMES if masking.class_of(f) is None)
    return f"CASE WHEN l.field IN ({public}) THEN {expr} {whens} ELSE {masking.sql_mask_value(None, expr, role, policy)} END"


def query(request: ExportRequest, ordered: bool = True, policy: masking.Policy | None = None) -> tuple[str, list]:
    """The export's SQL and parameters (filters, consent and minor rules, sensitive-field rule, and
    the masks, by the role's rules in `policy`)."""
    ds = dataset(request.dataset)
    chosen = set(request.chosen_fields())
    if request.filter.consent and request.filter.consent not in consent.ALL_PURPOSES:  # written into the SQL
        raise GovernanceError(f"Unknown consent purpose {request.filter.consent!r}.")
    withhold_sensitive = bool(request.purpose)
    select = []
    for name, expr, fld in ds.columns:
        if name not in chosen:
            continue
        if request.labelled and ds.name == "tag_values" and name in ("tag_code", "value"):
            expr = f"d.name_{request.lang}" if name == "tag_code" else _tag_value_label(expr, request.lang)
        if withhold_sensitive and fld in SENSITIVE_FIELDS:
            expr = f"CASE WHEN {_granted(consent.SENSITIVE_CONSENT[fld])} THEN {expr} END"
        elif withhold_sensitive and fld == "*":
            for f in SENSITIVE_FIELDS:
                expr = f"CASE WHEN l.field = '{f}' AND NOT {_granted(consent.SENSITIVE_CONSENT[f])} THEN NULL ELSE {expr} END"
        if request.masked and fld is not None:
            expr = _masked_sql(expr, fld, request.role, policy)
        select.append(f"{expr} AS {name}")
    pivot = ", ".join(f"bool_or(purpose = '{p}' AND state = 'granted') AS {p}" for p in consent.ALL_PURPOSES)
    sql = (f"WITH k AS (SELECT oneid, {pivot}, max(state) FILTER (WHERE purpose = 'marketing') AS marketing_state "
           f"FROM {consent.CURRENT_VIEW} GROUP BY oneid) "
           f"SELECT {', '.join(select)} FROM {ds.source} LEFT JOIN k ON k.oneid = {ds.oneid}")
    where: list[str] = []
    params: list[object] = []
    flt = request.filter
    if flt.channels:
        where.append(ds.channel)
        params.append(list(flt.channels))
    if flt.provinces:
        where.append("list_contains(?::VARCHAR[], g.province)")
        params.append(list(flt.provinces))
    if flt.consent:
        where.append(_granted(flt.consent))
    if flt.min_completeness is not None:
        where.append("g.completeness >= ?")
        params.append(float(flt.min_completeness))
    if flt.members:
        where.append(f"{ds.oneid} IN ({flt.members})")
    if request.dataset == "tag_values":
        where.append("list_contains(?::VARCHAR[], t.tag_code) AND d.sensitivity <> 'sensitive'")
        params.append(list(flt.tags))
    key = request.consent_purpose
    if key:
        where.append(_granted(key))
        where.append(f"(NOT coalesce(g.is_minor, false) OR {_granted(consent.GUARDIAN)})")
    if where:
        sql += " WHERE " + " AND ".join(where)
    return (sql + f" ORDER BY {ds.order}" if ordered else sql), params


def _needs_golden(cur: duckdb.DuckDBPyConnection) -> None:
    if not scalar(cur, "SELECT count(*) FROM golden_builds"):
        raise GovernanceError("There are no golden records yet: resolve OneIDs first (python -m governance resolve).")


def with_visible_tags(cur: duckdb.DuckDBPyConnection, request: ExportRequest) -> ExportRequest:
    """A tag_values request naming its tags: those asked for (each must be one the role may view and
    not sensitive), or every such tag."""
    if request.dataset != "tag_values":
        return request
    visible = tag_library.tag_list(cur, request.role)
    allowed = [c for c, s in zip(visible["code"], visible["sensitivity"]) if s != "sensitive"] if len(visible) else []
    refused = [t for t in request.filter.tags if t not in allowed]
    if refused:
        raise PermissionDenied(f"Tags that cannot be exported by this role: {', '.join(refused)}.")
    return replace(request, filter=replace(request.filter, tags=request.filter.tags or tuple(allowed)))


def count_rows(cur: duckdb.DuckDBPyConnection, request: ExportRequest) -> int:
    """How many rows the export would hold (one SQL count)."""
    _needs_golden(cur)
    sql, params = query(with_visible_tags(cur, request), ordered=False)
    return cur.execute(f"SELECT count(*) FROM ({sql})", params).fetchall()[0][0]


# ---------------------------------------------------------------------------------------------
# masking and writing
# ---------------------------------------------------------------------------------------------

def _mask_series(fld: str | None, values: pd.Series, role: str | None = None,
                 policy: masking.Policy | None = None) -> pd.Series:
    """Each value masked by `mask_value` (multi-valued ones part by part); repeated values (names,
    dates, genders) are masked once per chunk."""
    memo: dict[str, object] = {}

    def one(v: str) -> object:
        if v not in memo:
            memo[v] = masking.mask_value(fld, v, role, policy)
        return memo[v]
    return pd.Series([one(v) if isinstance(v, str) else v for v in values.tolist()], index=values.index, dtype=object)


def mask_chunk(ds: Dataset, frame: pd.DataFrame, role: str | None = None,
               policy: masking.Policy | None = None) -> pd.DataFrame:
    """The export masks in Python, on one chunk: each column by its standard field; lineage values
    by the field of their row. With a role, its rules in `policy` apply (else the partial
    conventions). Exports mask in SQL (`query`); tests and the benchmark compare the two."""
    out = frame.copy()
    for name, _, fld in ds.columns:
        if name not in out.columns or fld is None:
            continue
        if fld == "*":
            fields = frame["field"] if "field" in frame.columns else pd.Series([None] * len(frame), index=frame.index)
            masked = out[name].astype(object)
            for f in fields.dropna().unique():
                rows = fields == f
                masked[rows] = _mask_series(f, out.loc[rows, name], role, policy)
            rows = fields.isna()
            if rows.any():
                masked[rows] = _mask_series(None, out.loc[rows, name], role, policy)
            out[name] = masked
        elif out[name].notna().any():
            out[name] = _mask_series(fld, out[name], role, policy)
    return out


@dataclass(frozen=True)
class Manifest:
    id: int
    file: str
    dataset: str
    format: str
    actor: str
    role: str | None
    created_at: str
    purpose: str | None
    consent_purpose: str | None
    masked: bool
    fields: list[str]
    filter: dict
    rules: list[str]
    row_count: int
    bytes: int
    sha256: str
    labels: bool = False        # headers and coded values as labels (else field names and codes)
    language: str = DEFAULT_LANG  # of the labels and of an XLSX file's columns sheet

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def _rules(request: ExportRequest) -> list[str]:
    rules = ["masked" if request.masked else "unmasked"]
    if request.consent_purpose:
        rules += [f"consent:{request.consent_purpose}=granted", "minors_under_14:guardian_consent"]
    if request.purpose:
        rules += [f"sensitive:{f}:{consent.SENSITIVE_CONSENT[f]}" for f in SENSITIVE_FIELDS]
    return rules + ["formulas_neutralized"] if request.format in ("csv", "xlsx") else rules


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_export(db: Database, request: ExportRequest, out: str | Path,
               progress: Callable[[int, int], None] | None = None, chunk_rows: int = CHUNK_ROWS) -> Manifest:
    """Write the export to `out` chunk by chunk, then its manifest (`<out>.manifest.json` and a row in
    export_manifests) and the audit record. `progress(rows_written, total)` follows every chunk.

    The rows go to a private file beside `out` (`tabular.private_part`), removed on any failure and
    renamed into place only once the manifest and audit record are committed; what a killed export
    leaves is removed when the next export into that folder starts. An unmasked export is also
    audited before its first row is written, so an interrupted one is on record too."""
    authorize(request)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sweep_parts(out.parent)
    fields = request.chosen_fields()
    with db.cursor() as cur:
        request = with_visible_tags(cur, request)
        total = count_rows(cur, request)
    if request.format == "xlsx" and total > XLSX_MAX_ROWS:
        raise GovernanceError(f"{total:,} rows do not fit in one XLSX sheet ({XLSX_MAX_ROWS:,}); use CSV or Parquet.")
    with db.transaction() as cur:
        manifest_id = scalar(cur, "SELECT nextval('export_seq')")
        if not request.masked:
            audit.record(cur, request.actor, Event.PII_EXPORT_START, "export", manifest_id,
                         {"dataset": request.dataset, "file": out.name, "format": request.format, "rows": total,
                          "purpose": request.purpose, "filter": request.filter.as_dict(), "fields": fields})
    manifest_path = Path(f"{out}.manifest.json")
    with private_part(out) as part, private_part(manifest_path) as manifest_part:
        with db.cursor() as cur:
            policy = masking.load_policy(cur, secret("hmac_key")) if request.masked and request.role else None
            if policy is not None and policy.key:
                masking.set_sql_key(cur, policy.key)  # for `hash` rules
            sql, params = query(request, ordered=total <= SORT_UP_TO, policy=policy)
            reader = relation(cur, sql, params).to_arrow_reader(chunk_rows)
            writer = open_writer(request.format, part)
            labeller = request.labeller()
            relabel = labeller.frame if request.labelled else (lambda frame: frame)  # after the masks, chunk by chunk
            written = 0
            with reader:  # the stream ends before its cursor closes, also when the export is interrupted
                for batch in reader:
                    writer.write(relabel(batch.to_pandas()))
                    written += batch.num_rows
                    chaos_point("export.writing")
                    if progress:
                        progress(written, total)
            if written == 0:  # still a file with the header (and, in Parquet, the schema)
                writer.write(relabel(reader.schema.empty_table().to_pandas().astype(object)))
            if isinstance(writer, XlsxWriter):  # a second sheet explains every column
                writer.add_sheet(labeller.sheet_name, labeller.columns_sheet(fields))
            writer.close()
        checksum, size = sha256_file(part), part.stat().st_size
        created = utcnow()
        manifest = Manifest(manifest_id, out.name, request.dataset, request.format, request.actor, request.role,
                            created.isoformat(timespec="seconds"), request.purpose, request.consent_purpose,
                            request.masked, fields, request.filter.as_dict(), _rules(request), written, size, checksum,
                            labels=request.labelled, language=request.lang)
        manifest_part.write_text(manifest.as_json(), encoding="utf-8")
        with db.transaction() as cur:
            cur.execute("INSERT INTO export_manifests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [manifest_id, created, request.actor, request.role, request.dataset, request.format, out.name,
                         written, size, request.masked, request.purpose, request.consent_purpose, fields,
                         json.dumps(manifest.filter, ensure_ascii=False, sort_keys=True), checksum])
            audit.record(cur, request.actor, Event.EXPORT_MASKED if request.masked else Event.EXPORT_UNMASKED, "export",
                         manifest_id, {"dataset": request.dataset, "file": out.name, "format": request.format,
                                       "rows": written, "purpose": request.purpose, "filter": manifest.filter,
                                       "fields": fields, "sha256": checksum})
        os.replace(manifest_part, manifest_path)  # the export lands last: a file at `out` is always on record
        os.replace(part, out)
    return manifest


def manifests(cur: duckdb.DuckDBPyConnection, limit: int = 50) -> pd.DataFrame:
    """The latest exports (the record of processing lists them as recipients and purposes)."""
    return cur.execute("SELECT id, created_at, actor, dataset, format, file_name, row_count, masked, purpose, "
                       "filter, checksum FROM export_manifests ORDER BY id DESC LIMIT ?", [limit]).df()


def export_dir(db: Database) -> Path:
    """Where the Export page writes files: next to the store, readable only by the server's user."""
    path = db.path.parent / "exports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def sweep_exports(db: Database) -> int:
    """Remove the files the app's exports wrote more than `export_keep_days` ago (they were there to
    be downloaded); returns how many."""
    return remove_older(export_dir(db), time.time() - Settings.from_env().export_keep_days * 86400)


def file_name(request: ExportRequest, when: datetime | None = None) -> str:
    """'steward-golden-20261129-093000-masked.csv': dataset, local time, masked or not, format."""
    when = when or datetime.now()
    return f"steward-{request.dataset}-{when:%Y%m%d-%H%M%S}-{'masked' if request.masked else 'unmasked'}.{request.format}"


def export_to_dir(db: Database, request: ExportRequest, progress: Callable[[int, int], None] | None = None,
                  when: datetime | None = None) -> tuple[Path, Manifest]:
    """Run an export into `export_dir` under its `file_name` (with -2, -3… when another export of the
    same second has it); returns the file and its manifest."""
    sweep_exports(db)
    folder, name = export_dir(db), file_name(request, when)
    path, n = folder / name, 1
    while path.exists():
        n += 1
        path = folder / f"{Path(name).stem}-{n}{Path(name).suffix}"
    return path, run_export(db, request, path, progress=progress)


def provinces(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Provinces present in the golden records, for the filter."""
    _needs_golden(cur)
    return [r[0] for r in cur.execute("SELECT DISTINCT province FROM golden_records WHERE province IS NOT NULL "
                                      "ORDER BY 1").fetchall()]


def compose_purpose(kind: str | None, note: str | None) -> str | None:
    """A stated purpose from a consent purpose (or none) and a free description: 'marketing: 618 SMS'."""
    note = (note or "").strip()
    if kind in consent.PURPOSES:
        return f"{kind}: {note}" if note else kind
    return note or None
