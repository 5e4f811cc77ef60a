"""Data-subject requests (PIPL Art. 44–50): the inbox, access packages, deletion, correction and
withdrawal.

A request has a type (access, correction, deletion, withdrawal), a requester, an identity-check
note, the person's OneIDs (found from identifiers if needed), a received date and a due date
(15 working days by default, `STEWARD_DSR_DUE_DAYS`, on China's working calendar: weekends,
statutory holidays and the State Council's make-up working weekends, from the `holidays` package;
`STEWARD_HOLIDAYS` adds days off and `STEWARD_WORKDAYS` working days it does not know yet), a
status (received → verified → in_progress → done, or rejected) and a response. Every action is
audited with ids and counts only. Actions on the person's data need a verified identity.

- Access: `access_package` gives every source row (raw and standardized), golden record and
  lineage, consent records, review decisions, OneID history and crosswalk rows linked to the
  OneIDs, as CSV files plus one `package.json`, and in front of them a plain-language summary for
  the person (`说明.txt`, and `summary_en.txt`): what is held, from which channels, for which purposes
  with what consent, how long it is kept, and how to ask for correction or deletion.
- Deletion: `execute_deletion` erases every trace in one transaction (privacy.erasure),
  keeps a tombstone of keyed identifier hashes (privacy.suppression), redacts the
  requester details of the person's requests, and marks the request done.
- Correction: a steward override with lineage (governance.golden.overrides.set_override).
- Withdrawal: a consent withdrawal in the ledger (governance.privacy.consent).
"""
from __future__ import annotations

import functools
import io
import json
import os
import zipfile
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import holidays as public_holidays
import pandas as pd

from governance.access import audit, masking
from governance.access.events import Event
from governance.golden import overrides, survivorship
from governance.i18n import t
from governance.privacy import consent, erasure, suppression
from governance.standardize import normalizers
from governance.store import tabular
from governance.store.config import Settings
from governance.store.errors import GovernanceError
from governance.store.schema import BY_NAME, FIELD_NAMES, channel_label
from governance.store.storage import Database, one, quote_ident, scalar
from governance.store.util import utcnow

TYPES = ("access", "correction", "deletion", "withdrawal")
STATUSES = ("received", "verified", "in_progress", "done", "rejected")
OPEN = ("received", "verified", "in_progress")
_OPEN_SQL = "status IN (" + ", ".join(f"'{status}'" for status in OPEN) + ")"
ERASED = "[erased]"
IDENTIFIERS = ("mobile", "id_card", "email")


# ---------------------------------------------------------------- due dates

def _dates(variable: str) -> set[date]:
    text = os.environ.get(variable, "")
    try:
        return {date.fromisoformat(d.strip()) for d in text.split(",") if d.strip()}
    except ValueError:
        raise GovernanceError(f"{variable} must be comma-separated dates like 2026-10-01.") from None


def extra_days_off() -> set[date]:
    """Days off the calendar does not know, from STEWARD_HOLIDAYS (comma-separated ISO dates)."""
    return _dates("STEWARD_HOLIDAYS")


def extra_working_days() -> set[date]:
    """Make-up working days the calendar does not know, from STEWARD_WORKDAYS."""
    return _dates("STEWARD_WORKDAYS")


@functools.lru_cache(maxsize=8)
def _china(year: int) -> public_holidays.HolidayBase:
    # the neighbouring years too: a notice may move a working day across New Year
    return public_holidays.China(years=range(year - 1, year + 2))


def is_working_day(day: date, off: AbstractSet[date] = frozenset(), on: AbstractSet[date] = frozenset()) -> bool:
    """On China's working calendar (statutory holidays, make-up working weekends), with extra days."""
    if day in off:
        return False
    return day in on or _china(day.year).is_working_day(day)


def due_date(received: date, working_days: int | None = None, off: set[date] | None = None,
             on: set[date] | None = None) -> date:
    """The day `working_days` working days after `received` (`off` and `on`: extra days off and
    working days, by default from the environment)."""
    n = Settings.from_env().dsr_due_working_days if working_days is None else working_days
    off = extra_days_off() if off is None else off
    on = extra_working_days() if on is None else on
    day = received
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day, off, on):
            n -= 1
    return day


# ---------------------------------------------------------------- the inbox

@dataclass
class Request:
    request_id: int
    request_type: str
    requester: str | None
    identity_check: str | None
    oneids: list[str]
    identifiers: dict
    received_on: date
    due_on: date
    status: str
    response: str | None
    detail: dict = field(default_factory=dict)


def get(cur: duckdb.DuckDBPyConnection, request_id: int) -> Request:
    row = cur.execute("SELECT request_id, request_type, requester, identity_check, oneids, identifiers, received_on, "
                      "due_on, status, response, detail FROM dsr_requests WHERE request_id = ?", [request_id]).fetchone()
    if row is None:
        raise GovernanceError(f"No request {request_id}.")
    values = list(row)
    values[4] = list(values[4] or [])
    values[5] = json.loads(values[5]) if values[5] else {}
    values[10] = json.loads(values[10]) if values[10] else {}
    return Request(*values)


def normalized_identifiers(identifiers: dict | None) -> dict[str, str]:
    """The standardized form of the identifiers a requester gave (mobile, id_card, email)."""
    out = {}
    for name, raw in (identifiers or {}).items():
        if name not in IDENTIFIERS or not raw or not str(raw).strip():
            continue
        result = normalizers.NORMALIZERS[name](str(raw))
        out[name] = result.value if result.value else str(raw).strip()
    return out


def find_oneids(cur: duckdb.DuckDBPyConnection, identifiers: dict | None) -> list[str]:
    """OneIDs of the records holding any of the given identifiers (standardized before comparing)."""
    found = normalized_identifiers(identifiers)
    if not found:
        return []
    where = " OR ".join(f"s.{name} = ?" for name in found)
    rows = cur.execute(f"SELECT DISTINCT c.oneid FROM std_records s JOIN crosswalk c USING (batch_id, row_number) "
                       f"WHERE {where} ORDER BY 1", list(found.values())).fetchall()
    return [r[0] for r in rows]


def _check_oneids(cur: duckdb.DuckDBPyConnection, oneids: list[str]) -> list[str]:
    oneids = sorted({o.strip() for o in oneids if o and o.strip()})
    if oneids:
        known = {r[0] for r in cur.execute("SELECT DISTINCT oneid FROM crosswalk WHERE list_contains(?::VARCHAR[], oneid)",
                                           [oneids]).fetchall()}
        unknown = [o for o in oneids if o not in known]
        if unknown:
            raise GovernanceError(f"Unknown OneID: {', '.join(unknown)}.")
    return oneids


def create(db: Database, actor: str, request_type: str, requester: str, *, received_on: date | None = None,
           oneids: list[str] | None = None, identifiers: dict | None = None, identity_check: str | None = None,
           detail: dict | None = None) -> int:
    """Log a new request; OneIDs are looked up from the identifiers when none are given. Audited."""
    if request_type not in TYPES:
        raise GovernanceError(f"Unknown request type {request_type!r}; choose one of {', '.join(TYPES)}.")
    requester = (requester or "").strip()
    if not requester:
        raise GovernanceError("A request needs the requester's name.")
    received_on = received_on or utcnow().date()
    due_on = due_date(received_on)
    now = utcnow()
    with db.transaction() as cur:
        found = _check_oneids(cur, oneids) if oneids else find_oneids(cur, identifiers)
        request_id = scalar(cur, "SELECT nextval('dsr_seq')")
        cur.execute("INSERT INTO dsr_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'received', NULL, ?, ?, ?, ?, ?, NULL, NULL)",
                    [request_id, request_type, requester, (identity_check or "").strip() or None, found,
                     json.dumps(normalized_identifiers(identifiers), ensure_ascii=False) if identifiers else None,
                     received_on, due_on, json.dumps(detail, ensure_ascii=False) if detail else None,
                     actor, now, actor, now])
        audit.record(cur, actor, Event.DSR_CREATE, "dsr_request", request_id,
                     {"type": request_type, "received_on": received_on, "due_on": due_on, "oneids": found})
    return request_id


def _update(cur: duckdb.DuckDBPyConnection, actor: str, request_id: int, **values) -> None:
    sets = ", ".join(f"{quote_ident(k)} = ?" for k in values)
    cur.execute(f"UPDATE dsr_requests SET {sets}, updated_by = ?, updated_at = ? WHERE request_id = ?",
                [*values.values(), actor, utcnow(), request_id])


def _transition(db: Database, actor: str, request_id: int, allowed: tuple[str, ...], action: Event,
                detail: dict | None = None, **values) -> None:
    with db.transaction() as cur:
        status = get(cur, request_id).status
        if status not in allowed:
            raise GovernanceError(f"Request {request_id} is {status}; this needs one of: {', '.join(allowed)}.")
        _update(cur, actor, request_id, **values)
        audit.record(cur, actor, action, "dsr_request", request_id, detail or {"status": values.get("status")})


def link(db: Database, actor: str, request_id: int, oneids: list[str]) -> None:
    """Set the request's OneIDs (a steward's lookup)."""
    with db.transaction() as cur:
        found = _check_oneids(cur, oneids)
        if get(cur, request_id).status not in OPEN:
            raise GovernanceError(f"Request {request_id} is closed.")
        _update(cur, actor, request_id, oneids=found)
        audit.record(cur, actor, Event.DSR_LINK, "dsr_request", request_id, {"oneids": found})


def verify(db: Database, actor: str, request_id: int, identity_check: str) -> None:
    """Record how the requester's identity was checked; the request becomes verified."""
    note = (identity_check or "").strip()
    if not note:
        raise GovernanceError("Say how the requester's identity was checked.")
    _transition(db, actor, request_id, ("received", "verified"), Event.DSR_VERIFY, identity_check=note, status="verified")


def start(db: Database, actor: str, request_id: int) -> None:
    _transition(db, actor, request_id, ("verified",), Event.DSR_START, status="in_progress")


def close(db: Database, actor: str, request_id: int, response: str) -> None:
    """Answer and close a verified request (done)."""
    text = (response or "").strip()
    if not text:
        raise GovernanceError("Write the response sent to the requester.")
    _transition(db, actor, request_id, ("verified", "in_progress"), Event.DSR_CLOSE, response=text, status="done",
                closed_at=utcnow())
    discard_packages(db, request_id)


def reject(db: Database, actor: str, request_id: int, reason: str) -> None:
    """Refuse a request, with the reason given to the requester (PIPL Art. 50)."""
    text = (reason or "").strip()
    if not text:
        raise GovernanceError("A rejection needs the reason given to the requester.")
    _transition(db, actor, request_id, OPEN, Event.DSR_REJECT, response=text, status="rejected", closed_at=utcnow())
    discard_packages(db, request_id)


def requests_frame(cur: duckdb.DuckDBPyConnection, status: str | None = None, limit: int = 200) -> pd.DataFrame:
    """The inbox, newest first, with days left and an overdue flag (requester not masked here)."""
    where, params = ("WHERE status = ?", [status]) if status else ("", [])
    return cur.execute(
        f"SELECT request_id, request_type, requester, status, strftime(received_on, '%Y-%m-%d') AS received_on, "
        f"strftime(due_on, '%Y-%m-%d') AS due_on, "
        f"CASE WHEN {_OPEN_SQL} THEN date_diff('day', current_date, due_on) END "
        f"AS days_left, {_OPEN_SQL} AND due_on < current_date AS overdue, "
        f"array_to_string(oneids, ', ') AS oneids, response, updated_by, updated_at FROM dsr_requests {where} "
        f"ORDER BY request_id DESC LIMIT ?", params + [limit]).df()


def open_counts(cur: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """How many requests are open, and how many of them are past their due date."""
    return one(cur, f"SELECT count(*) FILTER (WHERE {_OPEN_SQL}), "
                    f"count(*) FILTER (WHERE {_OPEN_SQL} AND due_on < current_date) FROM dsr_requests")


def overdue_count(inbox: pd.DataFrame) -> int:
    """How many requests of an inbox (`requests_frame`) are past their due date."""
    return int(inbox["overdue"].fillna(False).sum())


def request_labels(inbox: pd.DataFrame, lang: str) -> dict[int, str]:
    """request_id -> '#3 · Deletion', how the page names each request of an inbox."""
    return {int(r.request_id): f"#{r.request_id} · {t('dsr.type.' + r.request_type, lang)}" for r in inbox.itertuples()}


def masked_requester(value: str | None, role: str | None = None, policy: masking.Policy | None = None) -> str | None:
    """A requester's name as `role` may see it; the placeholder of an erased requester stays."""
    if value is None or value == ERASED:
        return value
    return str(masking.mask_value("name", value, role, policy))  # a name in, a masked name out


def masked_inbox(inbox: pd.DataFrame, role: str | None = None, policy: masking.Policy | None = None) -> pd.DataFrame:
    """An inbox (`requests_frame`) with the requesters' names masked for `role`."""
    return inbox.assign(requester=inbox["requester"].map(lambda v: masked_requester(v, role, policy)))


def _actionable(cur: duckdb.DuckDBPyConnection, request_id: int, request_type: str | None) -> Request:
    req = get(cur, request_id)
    if request_type and req.request_type != request_type:
        raise GovernanceError(f"Request {request_id} is of type {req.request_type}; this needs a {request_type} request.")
    if req.status not in ("verified", "in_progress"):
        raise GovernanceError(f"Request {request_id} is {req.status}: verify the requester's identity first.")
    if not req.oneids:
        raise GovernanceError(f"Request {request_id} has no OneID yet: look the person up first.")
    return req


def golden_summary(cur: duckdb.DuckDBPyConnection, oneids: list[str]) -> pd.DataFrame:
    """The golden records of the OneIDs (to confirm who the request is about; the page masks them)."""
    if not oneids:
        return pd.DataFrame()
    return cur.execute("SELECT * FROM golden_records WHERE list_contains(?::VARCHAR[], oneid) ORDER BY oneid",
                       [oneids]).df()


# ---------------------------------------------------------------- access and portability

TAGS_NOTE = "Steward keeps no customer tags in this version, so no tags are held about this person."


def _records_of(cur: duckdb.DuckDBPyConnection, oneids: list[str]) -> list[tuple[int, int]]:
    return cur.execute("SELECT batch_id, row_number FROM crosswalk WHERE list_contains(?::VARCHAR[], oneid) "
                       "ORDER BY 1, 2", [oneids]).fetchall()


def person_data(cur: duckdb.DuckDBPyConnection, oneids: list[str]) -> dict[str, pd.DataFrame]:
    """Every row linked to the OneIDs: raw source rows (one frame per batch, original headers)
    and the rows of every linked table (erasure.linked_tables)."""
    records = _records_of(cur, oneids)
    erasure.stage(cur, records)
    out: dict[str, pd.DataFrame] = {}
    batches = cur.execute("SELECT b.batch_id, b.source, b.table_name FROM batches b WHERE b.batch_id IN "
                          "(SELECT DISTINCT batch_id FROM record_set) ORDER BY 1").fetchall()
    for batch_id, source, table in batches:
        columns = cur.execute("SELECT column_name, header FROM batch_columns WHERE batch_id = ? ORDER BY position",
                              [batch_id]).fetchall()
        select = ", ".join(f"{c} AS {quote_ident(h)}" for c, h in columns)
        out[f"source_rows/{tabular.file_name_part(source)}__batch_{batch_id}"] = cur.execute(
            f"SELECT _row AS row_number, {select} FROM {table} WHERE _row IN (SELECT row_number FROM record_set "
            f"WHERE batch_id = ?) ORDER BY _row", [batch_id]).df()
    # these views compute every customer's lineage: read one person's through the narrow functions
    per_person = {"golden_lineage": survivorship.lineage, "golden_candidates": survivorship.candidates}
    for schema, table, links in erasure.linked_tables(cur, views=True):
        if table == "suppressed_records":
            continue
        if table in per_person:
            frames = [per_person[table](cur, oneid).assign(oneid=oneid) for oneid in oneids]
            frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
            if not frame.empty:
                out[table] = frame
            continue
        conditions = [c for c in [erasure.record_condition(links)] if c]
        params: list = []
        if "oneid" in links:
            conditions.append("list_contains(?::VARCHAR[], t.oneid)")
            params.append(oneids)
        frame = cur.execute(f"SELECT * FROM {quote_ident(schema)}.{quote_ident(table)} t WHERE "
                            + " OR ".join(conditions), params).df()
        if not frame.empty:
            out[table] = frame
    return out


def _json_rows(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))


# The summary for the person, in Chinese and English, first in the package (and first in its ZIP).
SUMMARY_FILES = {"zh": "说明.txt", "en": "summary_en.txt"}


@dataclass
class PersonSummary:
    """What the person is told in the summary: facts only, no internal ids (record, batch, OneID)."""

    request_id: int
    values: list[tuple[str, list[str]]]                   # field -> its values, the golden one first
    records: int
    channels: list[tuple[str, str, int, date, date]]      # channel, source, records, first and last upload
    consents: list[tuple[str, str, date, date | None, list[tuple[date, str]]]]  # purpose, state, since, expires, history
    retention: list[tuple[str, str, str | None, int, str | None]]  # scope, target, channel, days, basis


def person_summary(cur: duckdb.DuckDBPyConnection, request_id: int, oneids: list[str]) -> PersonSummary:
    """The facts of the summary: every value held per standard field (the person's own data, so in
    full: the law asks for no masking in a copy given to the person), channels, consents, retention."""
    values: dict[str, list[str]] = {}

    def add(field_name: str, value: object) -> None:
        for part in str(value).split(" | "):  # a golden value may hold several (" | ")
            if part and part not in values.setdefault(field_name, []):
                values[field_name].append(part)

    for oneid in oneids:
        golden = cur.execute(f"SELECT {', '.join(FIELD_NAMES)} FROM golden_records WHERE oneid = ?", [oneid]).fetchone()
        for name, value in zip(FIELD_NAMES, golden or ()):
            if value is not None:
                add(name, value)
        for row in survivorship.candidates(cur, oneid).itertuples():
            if row.field in BY_NAME and row.value is not None:
                add(str(row.field), row.value)
    ordered = [(name, values[name]) for name in FIELD_NAMES if values.get(name)]
    channels = [tuple(r) for r in cur.execute(
        "SELECT b.channel, b.source, count(*), min(b.uploaded_at)::DATE, max(b.uploaded_at)::DATE FROM crosswalk c "
        "JOIN batches b USING (batch_id) WHERE list_contains(?::VARCHAR[], c.oneid) GROUP BY ALL ORDER BY 1, 2",
        [oneids]).fetchall()]
    consents = []
    for purpose, state, since, expires in cur.execute(
            f"SELECT purpose, state, recorded_at::DATE, expires_at::DATE FROM {consent.CURRENT_VIEW} "
            "WHERE list_contains(?::VARCHAR[], oneid) ORDER BY purpose, recorded_at", [oneids]).fetchall():
        history = [(r[0], r[1]) for r in cur.execute(
            "SELECT r.recorded_at::DATE, r.state FROM consent_records r LEFT JOIN crosswalk c ON c.batch_id = r.batch_id "
            "AND c.row_number = r.row_number WHERE list_contains(?::VARCHAR[], coalesce(c.oneid, r.oneid)) "
            "AND r.purpose = ? ORDER BY r.recorded_at, r.id", [oneids, purpose]).fetchall()]
        consents.append((purpose, state, since, expires, history))
    sources = {source: channel for channel, source, *_ in channels}
    purposes = {c[0] for c in consents}
    retention = [(scope, target, sources.get(target), days, basis) for scope, target, days, basis in cur.execute(
        "SELECT scope, target, days, basis FROM retention_policies ORDER BY scope, target").fetchall()
        if (scope == "source" and target in sources) or (scope == "purpose" and target in purposes)]
    return PersonSummary(request_id, ordered, sum(c[2] for c in channels), channels, consents, retention)


def summary_text(summary: PersonSummary, lang: str = "zh", due_days: int | None = None) -> str:
    """The summary as plain text in `lang`: headings and sentences from governance.i18n (dsr.summary.*)."""
    def tr(key: str, **values: object) -> str:
        return t(f"dsr.summary.{key}", lang, **values)

    sep = "：" if lang == "zh" else ": "
    lines = [tr("title", id=summary.request_id), tr("generated", date=utcnow().date().isoformat()), "", tr("intro"), ""]
    lines += [tr("held"), ""]
    for name, held in summary.values:
        field_def = BY_NAME[name]
        text = ("；" if lang == "zh" else "; ").join(held)
        note = tr("sensitive") if field_def.sensitive else ""
        lines.append(f"  · {field_def.label(lang)}{sep}{text}{note}")
    lines += ["", tr("held_note", records=summary.records) if summary.values else tr("held_none"), ""]
    lines += [tr("channels"), ""]
    for channel, _source, records, first, last in summary.channels:
        when = first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"
        lines.append("  · " + tr("channel_line", channel=channel_label(channel, lang), records=records, when=when))
    lines += ["", tr("consents"), ""]
    for purpose, state, since, expires, history in summary.consents:
        line = tr("consent_line", purpose=t(f"consent.purpose_{purpose}", lang), state=tr(f"state.{state}"),
                  date=since.isoformat())
        if expires is not None:
            line += tr("consent_expires", date=expires.isoformat())
        steps = ("；" if lang == "zh" else "; ").join(f"{d.isoformat()} {tr(f'state.{s}')}" for d, s in history)
        lines.append(f"  · {line}")
        lines.append(f"    {tr('consent_history')}{sep}{steps}")
    if not summary.consents:
        lines.append("  · " + tr("consents_none"))
    lines += ["", tr("retention"), ""]
    for scope, target, kept_channel, days, basis in summary.retention:
        if scope == "source":
            line = tr("retention_source", channel=channel_label(kept_channel or "other", lang), source=target,
                      days=days)
        else:
            line = tr("retention_purpose", purpose=t(f"consent.purpose_{target}", lang), days=days)
        lines.append("  · " + line + (tr("retention_basis", basis=basis) if basis else ""))
    if not summary.retention:
        lines.append("  · " + tr("retention_none"))
    lines += ["", tr("tags"), "", tr("rights"), "", tr("rights_text", id=summary.request_id,
                                                          days=due_days or Settings.from_env().dsr_due_working_days)]
    lines += ["", tr("files")]
    return "\n".join(lines) + "\n"


def access_package(db: Database, actor: str, request_id: int) -> dict[str, bytes]:
    """The access/portability package of a verified access request: {file name: bytes}, a plain-language
    summary for the person (SUMMARY_FILES: Chinese and English), CSV files (UTF-8 with BOM, formulas
    neutralized) and `package.json` holding everything. Audited; the request moves to in_progress
    until the steward closes it."""
    with db.cursor() as cur:
        req = _actionable(cur, request_id, "access")
        data = person_data(cur, req.oneids)
        summary = person_summary(cur, request_id, req.oneids)
    # UTF-8 with a BOM, so that every text editor (Windows Notepad too) shows the Chinese
    files = {name: ("\ufeff" + summary_text(summary, lang)).encode("utf-8") for lang, name in SUMMARY_FILES.items()}
    files.update({f"{name}.csv": tabular.to_csv_bytes(frame) for name, frame in data.items()})
    manifest = {
        "request_id": request_id, "generated_at": utcnow().isoformat(timespec="seconds"), "generated_by": actor,
        "oneids": req.oneids,
        "files": {f"{name}.csv": len(frame) for name, frame in data.items()},
        "notes": {
            "tags": TAGS_NOTE,
            "consent": ("Consent records are in consent_records.csv; without that file, none are held."),
            "source_rows": "Each source_rows file holds the rows exactly as uploaded, under the file's own headers.",
            "summary": f"A plain-language summary for the person: {', '.join(SUMMARY_FILES.values())}.",
        },
        "data": {name: _json_rows(frame) for name, frame in data.items()},
    }
    files["package.json"] = json.dumps(manifest, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    with db.transaction() as cur:
        if get(cur, request_id).status == "verified":
            _update(cur, actor, request_id, status="in_progress")
        audit.record(cur, actor, Event.DSR_ACCESS_PACKAGE, "dsr_request", request_id,
                     {"oneids": req.oneids, "files": manifest["files"]})
    return files


def package_zip(files: dict[str, bytes]) -> bytes:
    """The package as one ZIP, the person's summary first."""
    buffer = io.BytesIO()
    first = [name for name in SUMMARY_FILES.values() if name in files]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in [(n, files[n]) for n in first] + sorted(i for i in files.items() if i[0] not in first):
            zf.writestr(name, content)
    return buffer.getvalue()


def write_package(files: dict[str, bytes], out: Path) -> Path:
    """Write the package into directory `out`, or as one zip file when `out` ends in .zip."""
    out = Path(out)
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(package_zip(files))
        return out
    for name, content in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return out


PACKAGE_PREFIX = "access-request-"
PACKAGE_FOLDER = "access-packages"  # beside the store


def package_dir(db: Database) -> Path:
    """Where the app keeps built access packages: beside the store, readable only by the server's user."""
    path = db.path.parent / PACKAGE_FOLDER
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _packages(db: Database, request_id: int) -> list[Path]:
    return sorted((db.path.parent / PACKAGE_FOLDER).glob(f"{PACKAGE_PREFIX}{int(request_id)}-*.zip"))


def save_package(db: Database, request_id: int, files: dict[str, bytes]) -> Path:
    """Keep the package as one ZIP in `package_dir` (written privately, then renamed into place);
    it replaces the request's earlier ones."""
    earlier = _packages(db, request_id)
    out = package_dir(db) / f"{PACKAGE_PREFIX}{int(request_id)}-{utcnow():%Y%m%d-%H%M%S-%f}.zip"
    with tabular.private_part(out) as part:
        part.write_bytes(package_zip(files))
        os.replace(part, out)
    for old in earlier:
        old.unlink(missing_ok=True)
    return out


def discard_packages(db: Database, request_id: int) -> int:
    """Remove the request's kept packages (once it is closed, the person's data is not kept here)."""
    found = _packages(db, request_id)
    for path in found:
        path.unlink(missing_ok=True)
    return len(found)


def discard_packages_of(db: Database, oneids: list[str]) -> int:
    """Remove the kept packages of every request about these OneIDs (their people were erased)."""
    if not oneids:
        return 0
    with db.cursor() as cur:
        requests = cur.execute("SELECT request_id FROM dsr_requests WHERE list_has_any(oneids, ?::VARCHAR[])",
                               [oneids]).fetchall()
    return sum(discard_packages(db, request_id) for (request_id,) in requests)


# ---------------------------------------------------------------- deletion

@dataclass
class DeletionResult:
    request_id: int
    tombstone_id: int
    records: int
    deleted: dict[str, int]
    oneids: list[str]


def execute_deletion(db: Database, actor: str, request_id: int) -> DeletionResult:
    """Erase the person (every OneID of a verified deletion request) in one transaction: raw and
    standardized rows, everything derived, their records not yet resolved; keep a tombstone of
    keyed identifier hashes; redact the requester details of the person's requests; close the
    request. The audit record holds counts per table and ids only. The pipeline's `delete_person`
    standardizes stale batches first, in the same transaction, so every row of theirs is found."""
    key = suppression.hmac_key()
    with db.transaction() as cur:
        req = _actionable(cur, request_id, "deletion")
        records = _records_of(cur, req.oneids)
        erasure.stage(cur, records)
        in_set = ("EXISTS (SELECT 1 FROM record_set p WHERE p.batch_id = std_records.batch_id "
                  "AND p.row_number = std_records.row_number)")
        tombstone_id = suppression.add_tombstone(cur, actor, request_id, suppression.tombstone_hashes(cur, in_set, key))
        unresolved = suppression.matching_rows(
            cur, "NOT EXISTS (SELECT 1 FROM crosswalk c WHERE c.batch_id = std_records.batch_id "
                 "AND c.row_number = std_records.row_number)", key, f"t.tombstone_id = {int(tombstone_id)}")
        everything = sorted(set(records) | {(b, r) for b, r, _, _ in unresolved})
        deleted = erasure.erase(cur, everything, erased_oneids=req.oneids)
        now = utcnow()
        redacted = scalar(cur,
            "UPDATE dsr_requests SET requester = ?, identity_check = CASE WHEN identity_check IS NULL THEN NULL ELSE ? END, "
            "identifiers = NULL, redacted_at = ? WHERE list_has_any(oneids, ?::VARCHAR[]) OR request_id = ?",
            [ERASED, ERASED, now, req.oneids, request_id])
        response = f"Deleted {len(everything)} source records of {len(req.oneids)} OneID(s); tombstone {tombstone_id}."
        _update(cur, actor, request_id, status="done", response=response, closed_at=now)
        audit.record(cur, actor, Event.DSR_DELETE, "dsr_request", request_id,
                     {"oneids": req.oneids, "tombstone_id": tombstone_id, "records": len(everything),
                      "unresolved_records": len(unresolved), "deleted": deleted, "requests_redacted": redacted})
    db.checkpoint()  # write the deletions into the database file now
    return DeletionResult(request_id, tombstone_id, len(everything), deleted, list(req.oneids))


# ---------------------------------------------------------------- correction and withdrawal

def correct(db: Database, actor: str, request_id: int, field_name: str, value: str, reason: str,
            oneid: str | None = None) -> tuple[str, int]:
    """Apply a correction as a steward override with lineage (governance.golden.overrides), in one
    transaction; returns the OneID and the override id (the pipeline's `correct` then refreshes
    that golden record). Audited on the request (field name and override id only)."""
    with db.transaction() as cur:
        req = _actionable(cur, request_id, "correction")
        target = oneid or req.oneids[0]
        if target not in req.oneids:
            raise GovernanceError(f"{target} is not a OneID of request {request_id}.")
        override_id = overrides.set_override(db, actor, target, field_name, value, reason)
        detail = get(cur, request_id).detail
        detail.setdefault("corrections", []).append({"oneid": target, "field": field_name, "override_id": override_id})
        _update(cur, actor, request_id, status="in_progress", detail=json.dumps(detail, ensure_ascii=False))
        audit.record(cur, actor, Event.DSR_CORRECT, "dsr_request", request_id,
                     {"oneid": target, "field": field_name, "override_id": override_id})
    return target, override_id


def withdraw(db: Database, actor: str, request_id: int, purpose: str) -> None:
    """Withdraw consent for `purpose` in the consent ledger, in one transaction; it takes effect at once."""
    purpose = (purpose or "").strip()
    if not purpose:
        raise GovernanceError("Name the purpose whose consent is withdrawn.")
    with db.transaction() as cur:
        req = _actionable(cur, request_id, "withdrawal")
        for oneid in req.oneids:
            consent.withdraw(db, actor, oneid, purpose, method="other", evidence_ref=f"dsr:{request_id}")
        detail = get(cur, request_id).detail
        detail.setdefault("withdrawals", []).append({"purpose": purpose})
        _update(cur, actor, request_id, status="in_progress", detail=json.dumps(detail, ensure_ascii=False))
        audit.record(cur, actor, Event.DSR_WITHDRAW, "dsr_request", request_id,
                     {"oneids": req.oneids, "purpose": purpose})
