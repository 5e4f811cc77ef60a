"""Activation files: an audience written for one channel, bound to a purpose, with nobody past the exclusions.

The members always come from `members.eligible_sql(cur, rule, purpose, channel, app_id)` (consent for the
purpose, minors only with a guardian's consent, erased and suppressed people out, a usable contact for the
channel); a snapshot audience keeps only those of its newest frozen list who are still eligible. One row per
person, identifiers de-duplicated and sorted. Rows stream from DuckDB as Arrow batches (`CHUNK_ROWS`), hashes
are computed in SQL (`md5()`, `sha256()`), so 500,000 members stay far below 1 GiB.

Layouts (UTF-8, LF line ends, one identifier per line unless said otherwise):

- **sms**: normalized 11-digit mobiles (the person's first valid mainland mobile in the golden record), no
  header, `.txt`. Needs the purpose `marketing`. Chosen because it is what bulk-SMS consoles take as a
  number file; a CSV with a `mobile` header would need a column mapping on most of them.
- **wechat**: CSV with a header: `app_id,open_id` (one open_id of that app per person) with `app_id`, or
  `union_id` without it. Template and subscribe messages are sent per app, so the app id is in every row.
- **douyin_dmp** (Ocean Engine / 巨量引擎 DMP), **databank** (Alibaba 品牌数据银行), **tencent_ads**
  (腾讯广告): lower-case hex MD5 or SHA-256 (`hash`, default sha256) of the normalized 11-digit mobile,
  no header.
  - tencent_ads: a ZIP holding one `.txt` (`<out stem>.txt`). Tencent's Marketing API documents the
    customer-file audience upload (developers.e.qq.com/docs/audience_management/file and
    custom_audience_files/add): a txt or csv file with one id per line, or its zip (at most 100 MB
    zipped); user_id_type HASH_MOBILE_PHONE is the MD5 of the 11-digit number, SHA256_MOBILE_PHONE its
    SHA-256.
  - douyin_dmp: a plain `.txt`. Ocean Engine's audience-upload API (as mirrored by the open-source
    bububa/oceanengine SDK) lists the data types 手机号-MD5 and 手机号-SHA256; we found no public page of
    Ocean Engine's own describing the console's file layout, so this follows the common layout above.
    Its DMP *data-source* API takes zipped protobuf files instead, which this does not write.
  - databank: a plain `.txt`. Alibaba documents pushing mobile numbers to Databank hashed with MD5 or
    SHA-256 (help.aliyun.com, Quick Audience "Data Bank push"); we found no public description of a
    file-upload layout, so this follows the common layout above.
- **csv** / **xlsx**: chosen golden fields for an agency through the export machinery
  (`governance.exports.datasets`): masked by default, formulas neutralized, a manifest beside the file,
  a row in export_manifests and its own audit record, filtered to the audience's eligible members.

Every file lands under a private temporary name (mode 0600) and is renamed into place only once its row
in `activations` and its audit record (`audience.export`) are committed.
"""
from __future__ import annotations

import csv
import io
import os
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import duckdb

from governance.access import audit, auth
from governance.access.events import Event
from governance.audiences import library, members
from governance.exports import datasets
from governance.privacy import consent
from governance.standardize.engine import VALID_SQL
from governance.store.errors import GovernanceError, PermissionDenied
from governance.store.storage import Database, relation, scalar
from governance.store.tabular import file_name_part, private_part, sweep_parts
from governance.store.util import utcnow

CHANNELS = members.CHANNELS  # sms, wechat, douyin_dmp, databank, tencent_ads, csv, xlsx
HASHED = ("douyin_dmp", "databank", "tencent_ads")
ZIPPED = ("tencent_ads",)
HASHES = ("md5", "sha256")
CHUNK_ROWS = 50_000
# the person's first mainland mobile among the golden " | "-joined values (valid ones only)
FIRST_MOBILE = "regexp_extract(g.mobile, '(^| )(1[3-9][0-9]{9})( |$)', 2)"
EXTENSIONS = {"sms": "txt", "wechat": "csv", "douyin_dmp": "txt", "databank": "txt", "tencent_ads": "zip",
              "csv": "csv", "xlsx": "xlsx"}


class ActivationError(GovernanceError):
    """An activation file that cannot be written as asked (one-line message)."""


@dataclass(frozen=True)
class ActivationResult:
    path: Path
    rows: int
    checksum: str  # sha256 of the file as written
    activation_id: int


@dataclass(frozen=True)
class Target:
    """What to export: the audience's version and the SELECT of its eligible OneIDs."""
    name: str
    version: int
    purpose: str
    channel: str
    snapshot_id: int | None
    members_sql: str


MESSAGE_CHANNELS = ("wechat", "douyin_dmp", "databank", "tencent_ads")  # like sms: marketing only


def needs_marketing(channel: str) -> bool:
    """Whether a file for the channel reaches people to market to them (its purpose must be marketing)."""
    return channel == "sms" or channel in MESSAGE_CHANNELS


def carries_identifiers(channel: str, masked: bool = True) -> bool:
    """Whether a file for the channel holds identifiers (exporting it needs `pii.unmasked`)."""
    return channel not in ("csv", "xlsx") or not masked


def wechat_apps(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The WeChat app ids that issued a usable open_id (a wechat file is per app id)."""
    return [r[0] for r in cur.execute(
        f"SELECT DISTINCT wechat_app_id FROM std_records WHERE wechat_app_id_status IN {VALID_SQL} "
        f"AND wechat_open_id_status IN {VALID_SQL} AND wechat_app_id IS NOT NULL ORDER BY 1").fetchall()]


def check_request(role: str | None, channel: str, purpose: str | None, hash: str = "sha256",
                  masked: bool = True) -> str:
    """The consent purpose of an allowed request; PermissionDenied or ActivationError otherwise."""
    if not auth.can(role, "audiences.export"):
        raise PermissionDenied("Exporting an audience needs the permission 'audiences.export' (stewards and admins).")
    if channel not in CHANNELS:
        raise ActivationError(f"Unknown channel {channel!r}; choose one of {', '.join(CHANNELS)}.")
    if hash not in HASHES:
        raise ActivationError(f"Unknown hash {hash!r}; choose md5 or sha256.")
    key = datasets.purpose_key(purpose)
    if key is None:
        raise ActivationError(f"An activation needs a consent purpose ({', '.join(consent.PURPOSES)}), "
                              f"not {purpose!r}.")
    if channel == "sms" and key != "marketing":
        raise ActivationError(f"An SMS file needs the purpose 'marketing' (granted marketing consent), not {key!r}.")
    if needs_marketing(channel) and key != "marketing":  # reaching a person to sell is marketing, whatever is typed
        raise ActivationError(f"A {channel} file reaches people to market to them: it needs the purpose "
                              f"'marketing', not {key!r}.")
    if carries_identifiers(channel, masked) and not auth.can(role, "pii.unmasked"):
        raise PermissionDenied(f"A {channel} file carries identifiers; it needs the permission 'pii.unmasked'.")
    return key


def target(cur: duckdb.DuckDBPyConnection, name: str, purpose: str, channel: str,
           app_id: str | None = None) -> Target:
    """The audience's current version and its eligible members for `purpose` and `channel` (a snapshot
    audience: those of its newest snapshot who are still eligible)."""
    audience = library.get(cur, name)  # AudienceError when there is none
    sql = members.eligible_sql(cur, audience.rule, purpose, channel, app_id)
    snapshot_id = None
    if audience.kind == "snapshot":
        snapshot_id = scalar(cur, "SELECT max(snapshot_id) FROM audience_snapshots WHERE name = ?", [name])
        if snapshot_id is None:
            raise ActivationError(f"The snapshot audience {name!r} has no snapshot yet; take one first.")
        sql = (f"SELECT oneid FROM ({sql}) e WHERE oneid IN "
               f"(SELECT oneid FROM audience_snapshot_members WHERE snapshot_id = {int(snapshot_id)})")
    return Target(name, int(audience.version), purpose, channel, snapshot_id, sql)


def identifier_sql(channel: str, members_sql: str, app_id: str | None = None, hash: str = "sha256") -> tuple[str, list]:
    """The SELECT of one file's rows (sorted, de-duplicated; one row per person) and its parameters."""
    if channel == "sms" or channel in HASHED:
        value = "mobile" if channel == "sms" else f"{'md5' if hash == 'md5' else 'sha256'}(mobile)"
        return (f"SELECT DISTINCT {value} AS id FROM (SELECT {FIRST_MOBILE} AS mobile FROM golden_wide g "
                f"WHERE g.oneid IN ({members_sql})) WHERE mobile <> '' ORDER BY 1"), []
    if channel == "wechat":
        records = (f"FROM crosswalk c JOIN std_records s USING (batch_id, row_number) "
                   f"WHERE c.oneid IN ({members_sql})")
        if app_id:
            return (f"SELECT DISTINCT ? AS app_id, open_id FROM (SELECT c.oneid, min(s.wechat_open_id) AS open_id "
                    f"{records} AND s.wechat_app_id = ? AND s.wechat_app_id_status IN {VALID_SQL} "
                    f"AND s.wechat_open_id_status IN {VALID_SQL} GROUP BY c.oneid) ORDER BY open_id"), [app_id, app_id]
        return (f"SELECT DISTINCT union_id FROM (SELECT c.oneid, min(s.wechat_union_id) AS union_id "
                f"{records} AND s.wechat_union_id_status IN {VALID_SQL} GROUP BY c.oneid) ORDER BY union_id"), []
    raise ActivationError(f"The channel {channel!r} is written through the export machinery.")


def _write_rows(reader, fh: IO[bytes], header: list[str] | None) -> int:
    """Rows of the Arrow reader as lines (one column) or CSV (several), chunk by chunk."""
    written = 0
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    if header:
        writer.writerow(header)
    for batch in reader:
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        if len(columns) == 1:
            text.write("".join(f"{v}\n" for v in columns[0]))
        else:
            writer.writerows(zip(*columns))
        written += batch.num_rows
    text.flush()
    text.detach()  # leave `fh` open for its owner
    return written


def _write_identifiers(cur: duckdb.DuckDBPyConnection, part: Path, out: Path, channel: str, members_sql: str,
                       app_id: str | None, hash: str) -> int:
    sql, params = identifier_sql(channel, members_sql, app_id, hash)
    reader = relation(cur, sql, params).to_arrow_reader(CHUNK_ROWS)
    header = (["app_id", "open_id"] if app_id else ["union_id"]) if channel == "wechat" else None
    if channel in ZIPPED:
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            info = zipfile.ZipInfo(f"{out.stem}.txt", date_time=utcnow().timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as member:
                return _write_rows(reader, member, header)
    with open(part, "wb") as fh:
        return _write_rows(reader, fh, header)


def _record(cur: duckdb.DuckDBPyConnection, actor: str, tgt: Target, file_name: str, rows: int, size: int,
            checksum: str, masked: bool, detail: dict[str, Any], destination: str | None = None,
            status: str = "written") -> int:
    activation_id = scalar(cur, "SELECT nextval('activation_seq')")
    cur.execute("INSERT INTO activations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [activation_id, tgt.name, tgt.version, tgt.snapshot_id, tgt.channel, tgt.purpose, file_name, rows,
                 size, checksum, masked, destination, status, actor, utcnow()])
    audit.record(cur, actor, Event.AUDIENCE_EXPORT, "audience", tgt.name,
                 {"activation_id": activation_id, "version": tgt.version, "snapshot_id": tgt.snapshot_id,
                  "channel": tgt.channel, "purpose": tgt.purpose, "file": file_name, "rows": rows,
                  "sha256": checksum, "masked": masked, **detail})
    return activation_id


def export(db: Database, actor: str, role: str | None, name: str, channel: str, purpose: str | None,
           out: str | os.PathLike, app_id: str | None = None, hash: str = "sha256", masked: bool = True,
           fields: tuple[str, ...] | list[str] = ()) -> ActivationResult:
    """Write the audience `name` for `channel` and `purpose` to `out`; recorded in `activations` and audited."""
    key = check_request(role, channel, purpose, hash, masked)
    app_id = (app_id or "").strip() or None
    if app_id and channel != "wechat":
        raise ActivationError("--app-id applies to the wechat channel only.")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with db.cursor() as cur:
        tgt = target(cur, name, key, channel, app_id)
    detail: dict[str, Any] = {"stated_purpose": purpose, "app_id": app_id,
                              "hash": hash if channel in HASHED else None}
    if channel in ("csv", "xlsx"):
        return _export_table(db, actor, role, tgt, purpose or key, out, masked, tuple(fields), detail)
    sweep_parts(out.parent)
    with private_part(out) as part:
        with db.cursor() as cur:
            rows = _write_identifiers(cur, part, out, channel, tgt.members_sql, app_id, hash)
        checksum, size = datasets.sha256_file(part), part.stat().st_size
        with db.transaction() as cur:
            activation_id = _record(cur, actor, tgt, out.name, rows, size, checksum, False, detail)
        os.replace(part, out)  # lands last: a file at `out` is always on record
    return ActivationResult(out, rows, checksum, activation_id)


def _export_table(db: Database, actor: str, role: str | None, tgt: Target, purpose: str, out: Path, masked: bool,
                  fields: tuple[str, ...], detail: dict[str, Any]) -> ActivationResult:
    """CSV or XLSX of golden fields through the export rules (manifest, masks, formula neutralization)."""
    flt = datasets.ExportFilter(audience=f"{tgt.name} v{tgt.version}", members=tgt.members_sql)
    request = datasets.ExportRequest("golden", actor, format=tgt.channel, fields=fields, filter=flt, masked=masked,
                                     purpose=purpose, role=role)
    manifest = datasets.run_export(db, request, out)
    with db.transaction() as cur:
        activation_id = _record(cur, actor, tgt, out.name, manifest.row_count, manifest.bytes, manifest.sha256, masked,
                                {**detail, "fields": manifest.fields, "export_manifest": manifest.id})
    return ActivationResult(out, manifest.row_count, manifest.sha256, activation_id)


def mark_pushed(cur: duckdb.DuckDBPyConnection, activation_id: int, destination: str, status: str) -> None:
    """A pushed file's destination and outcome (`delivered` or `failed`); this module writes `activations`."""
    cur.execute("UPDATE activations SET destination = ?, status = ? WHERE activation_id = ?",
                [destination, status, activation_id])


def recorded(cur: duckdb.DuckDBPyConnection, activation_id: int) -> Target:
    """The audience, version, purpose, channel and snapshot an activation file was written for."""
    row = cur.execute("SELECT audience, audience_version, purpose, channel, snapshot_id FROM activations "
                      "WHERE activation_id = ?", [activation_id]).fetchone()
    if row is None:
        raise ActivationError(f"There is no activation {activation_id}.")
    return Target(row[0], row[1], row[2], row[3], row[4], "")


def file_name(name: str, channel: str, when: datetime | None = None) -> str:
    """'steward-vip-sms-20261129-093000.txt': audience, channel, local time, the channel's extension."""
    when = when or datetime.now()
    return f"steward-{file_name_part(name)}-{channel}-{when:%Y%m%d-%H%M%S}.{EXTENSIONS[channel]}"


def activations(cur: duckdb.DuckDBPyConnection, name: str | None = None, limit: int = 50):
    """The latest activation files (of one audience), newest first."""
    where, params = ("WHERE audience = ?", [name]) if name else ("", [])
    return cur.execute(f"SELECT activation_id, created_at, actor, audience, audience_version, channel, purpose, file_name, "
                       f"row_count, checksum, masked, destination, status FROM activations {where} "
                       f"ORDER BY activation_id DESC LIMIT ?", [*params, limit]).df()
