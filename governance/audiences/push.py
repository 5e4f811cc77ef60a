"""Pushes: an audience's activation file sent to an admin-configured destination, every attempt on record.

- **Destinations** (`push_destinations`, admin only, `destinations.manage`, audited `destination.save`):
  a *webhook* (an `https://` URL; plain `http://` only to 127.0.0.1 or localhost, for tests and a local
  relay) that names its HMAC secret, or an *outbox* folder an SFTP job picks up. The secret itself stays in
  the secrets file (`STEWARD_SECRETS_FILE`, default .streamlit/secrets.toml) as `NAME = "…"`; the store
  keeps only its name.
- **push** writes the file through `activation.export` (same exclusions, same `activations` row), then:
  - webhook: `POST` of the file's bytes with `X-Steward-Signature: sha256=<hex HMAC-SHA256(body, secret)>`,
    `X-Steward-Checksum: sha256=<hex SHA-256(body)>`, `X-Steward-Audience` (percent-encoded UTF-8),
    `X-Steward-Activation`, `-Version`, `-Channel`, `-Rows`. A network error, 408, 429 or 5xx is retried
    with exponential backoff (`ATTEMPTS` attempts, `BACKOFF_SECONDS` × 2^n); other answers are final.
    Redirects are not followed (the body would go to a host nobody configured). The file is spooled
    beside the store (`activations/`, mode 0700) and removed once the push ends: the activation row
    keeps its rows and checksum, and no copy of the identifiers lingers.
  - outbox: the file lands in the folder under a private name and is renamed into place, then
    `<file>.manifest.json` (audience, version, channel, purpose, rows, sha256) and last an empty
    `<file>.done`: a pickup job takes a file only once its `.done` exists. Files are mode 0600.
  Every attempt is a row in `push_deliveries` (HTTP status or error, the response cut to `RESPONSE_CHARS`);
  the activation's status becomes `delivered` or `failed`, audited `audience.push`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import duckdb
import pandas as pd

from governance.access import audit, auth
from governance.access.events import Event
from governance.audiences import activation, library
from governance.store.config import secrets_path, stored_secrets
from governance.store.errors import ConfigError, GovernanceError, PermissionDenied
from governance.store.storage import Database, scalar
from governance.store.tabular import private_part, remove_older, sweep_parts
from governance.store.util import utcnow

KINDS = ("webhook", "outbox")
ATTEMPTS = 3
BACKOFF_SECONDS = 1.0
TIMEOUT_SECONDS = 30.0
RESPONSE_CHARS = 500
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
NAME_RE = re.compile(r"^[\w.-]{1,64}$")
RETRY_STATUS = (408, 429)
MIME = {"txt": "text/plain; charset=utf-8", "csv": "text/csv; charset=utf-8", "zip": "application/zip",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class PushError(GovernanceError):
    """A destination or push that cannot go ahead (one-line message)."""


@dataclass(frozen=True)
class Destination:
    name: str
    kind: str
    target: str
    secret_name: str | None
    enabled: bool
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class PushResult:
    activation_id: int
    destination: str
    kind: str
    ok: bool
    attempts: int
    status_code: int | None  # the last HTTP status (webhook), None for an outbox or a network error
    path: Path               # the file pushed (the spooled file, or the file in the outbox)
    rows: int
    checksum: str


# ---------------------------------------------------------------------------------------------
# destinations
# ---------------------------------------------------------------------------------------------

WEBHOOK_SECRET_PREFIX = "webhook_"


def check_webhook_url(url: str) -> str:
    """An https:// URL, or http:// to this machine only; anything else is refused."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if not parts.hostname:
        raise PushError(f"{url!r} is not a URL: a webhook needs https://host/path.")
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS):
        if parts.username or parts.password:
            raise PushError("Put no credentials in a webhook URL; the HMAC secret signs every push.")
        return url
    raise PushError(f"A webhook must use https:// (plain http:// only to 127.0.0.1 or localhost), not {url!r}.")


def webhook_secret(secret_name: str, path: Path | None = None) -> str:
    """The HMAC secret a webhook names, from the secrets file. Its name starts with WEBHOOK_SECRET_PREFIX,
    so a destination can never name one of Steward's own keys (the HMAC pepper, the audit key)."""
    if not secret_name.startswith(WEBHOOK_SECRET_PREFIX):
        raise PushError(f"A webhook's secret is a secrets-file entry named {WEBHOOK_SECRET_PREFIX}…, "
                        f"not {secret_name!r}.")
    value = stored_secrets(path).get(secret_name)
    if not value:
        raise ConfigError(f"The secret {secret_name!r} is not in {path or secrets_path()}: add a line "
                          f'{secret_name} = "…" there (the key the receiver verifies signatures with).')
    return value


def add_destination(db: Database, actor: str, name: str, kind: str, target: str,
                    secret_name: str | None = None, enabled: bool = True) -> Destination:
    """Add or change a destination (admins only); audited."""
    name, target, secret_name = (name or "").strip(), (target or "").strip(), (secret_name or "").strip() or None
    if not NAME_RE.match(name):
        raise PushError(f"Bad destination name {name!r}: use letters, digits, '.', '-' or '_' (at most 64).")
    if kind not in KINDS:
        raise PushError(f"Unknown destination kind {kind!r}; choose webhook or outbox.")
    if kind == "webhook":
        target = check_webhook_url(target)
        if not secret_name:
            raise PushError("A webhook needs --secret-name: the secrets-file entry that signs its pushes.")
        webhook_secret(secret_name)  # present now, so that pushes can sign
    else:
        if not target or not Path(target).is_absolute():
            raise PushError(f"An outbox needs an absolute folder path, not {target!r}.")
        if Path(target).exists() and not Path(target).is_dir():
            raise PushError(f"{target} exists and is not a folder.")
        secret_name = None
    with db.transaction() as cur:
        auth.require_user(cur, actor, "destinations.manage")
        existed = scalar(cur, "SELECT count(*) FROM push_destinations WHERE name = ?", [name]) > 0
        cur.execute("DELETE FROM push_destinations WHERE name = ?", [name])
        now = utcnow()
        cur.execute("INSERT INTO push_destinations VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [name, kind, target, secret_name, enabled, actor, now])
        audit.record(cur, actor, Event.DESTINATION_SAVE, "destination", name,
                     {"kind": kind, "target": target, "secret_name": secret_name, "enabled": enabled,
                      "changed": existed})
    return Destination(name, kind, target, secret_name, enabled, actor, now)


def get_destination(cur: duckdb.DuckDBPyConnection, name: str) -> Destination | None:
    row = cur.execute("SELECT name, kind, target, secret_name, enabled, created_by, created_at FROM push_destinations "
                      "WHERE name = ?", [name]).fetchone()
    return Destination(*row) if row else None


def list_destinations(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return cur.execute("SELECT name, kind, target, secret_name, enabled, created_by, created_at FROM push_destinations "
                       "ORDER BY name").df()


def deliveries(cur: duckdb.DuckDBPyConnection, activation_id: int) -> pd.DataFrame:
    """Every attempt of one push, in order."""
    return cur.execute("SELECT attempt, attempted_at, status_code, ok, response FROM push_deliveries "
                       "WHERE activation_id = ? ORDER BY attempt", [activation_id]).df()


# ---------------------------------------------------------------------------------------------
# delivery
# ---------------------------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # refuse every redirect
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _digests(path: Path, secret: str) -> tuple[str, str]:
    """(HMAC-SHA256 with the secret, SHA-256) of the file, read in blocks."""
    mac, digest = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256), hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            mac.update(block)
            digest.update(block)
    return mac.hexdigest(), digest.hexdigest()


def _post(url: str, path: Path, headers: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """One POST of the file; (HTTP status or None for a network error, the response or error text)."""
    with open(path, "rb") as body:
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                return response.status, response.read(4 * RESPONSE_CHARS).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            text = exc.read(4 * RESPONSE_CHARS).decode("utf-8", "replace") if exc.fp else ""
            return exc.code, text or str(exc.reason)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return None, f"{type(exc).__name__}: {reason}"


def _log_attempt(db: Database, activation_id: int, attempt: int, status: int | None, ok: bool, text: str) -> None:
    with db.transaction() as cur:
        cur.execute("INSERT INTO push_deliveries VALUES (?, ?, ?, ?, ?, ?)",
                    [activation_id, attempt, utcnow(), status, ok, text[:RESPONSE_CHARS]])


def _retryable(status: int | None) -> bool:
    return status is None or status in RETRY_STATUS or status >= 500


def _webhook(db: Database, dest: Destination, result: activation.ActivationResult, tgt: activation.Target,
             sleep: Callable[[float], None], timeout: float) -> tuple[bool, int, int | None]:
    signature, checksum = _digests(result.path, webhook_secret(dest.secret_name or ""))
    headers = {"Content-Type": MIME.get(result.path.suffix.lstrip("."), "application/octet-stream"),
               "Content-Length": str(result.path.stat().st_size),
               "User-Agent": "Steward-push/1",
               "X-Steward-Signature": f"sha256={signature}", "X-Steward-Checksum": f"sha256={checksum}",
               "X-Steward-Audience": quote(tgt.name, safe=""), "X-Steward-Version": str(tgt.version),
               "X-Steward-Activation": str(result.activation_id), "X-Steward-Channel": tgt.channel,
               "X-Steward-Rows": str(result.rows), "X-Steward-File": quote(result.path.name, safe="")}
    status: int | None = None
    for attempt in range(1, ATTEMPTS + 1):
        status, text = _post(dest.target, result.path, headers, timeout)
        ok = status is not None and 200 <= status < 300
        _log_attempt(db, result.activation_id, attempt, status, ok, text)
        if ok or not _retryable(status):
            return ok, attempt, status
        if attempt < ATTEMPTS:
            sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
    return False, ATTEMPTS, status


def _write_private(path: Path, data: bytes) -> None:
    """`data` into `path` through a private file renamed into place."""
    with private_part(path) as part:
        part.write_bytes(data)
        os.replace(part, path)


def _outbox_manifest(result: activation.ActivationResult, tgt: activation.Target, actor: str) -> dict:
    return {"activation_id": result.activation_id, "audience": tgt.name, "version": tgt.version,
            "snapshot_id": tgt.snapshot_id, "channel": tgt.channel, "purpose": tgt.purpose, "file": result.path.name,
            "rows": result.rows, "bytes": result.path.stat().st_size, "sha256": result.checksum, "actor": actor,
            "created_at": utcnow().isoformat(timespec="seconds")}


KEEP_HOURS = 24  # activation files beside the store hold identifiers: downloaded at once, then removed


def sweep_spool(folder: Path, keep_hours: float = KEEP_HOURS) -> int:
    """Remove activation files older than `keep_hours` from the folder beside the store (a download not
    fetched in time, a webhook file a killed process left behind); returns how many."""
    return remove_older(folder, time.time() - keep_hours * 3600)


def spool_dir(db: Database) -> Path:
    """Where a webhook's file waits while it is sent: next to the store, readable only by the server's user."""
    path = db.path.parent / "activations"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def push(db: Database, actor: str, role: str | None, name: str, destination: str, channel: str | None = None,
         purpose: str | None = None, app_id: str | None = None, hash: str = "sha256",
         sleep: Callable[[float], None] = time.sleep, timeout: float = TIMEOUT_SECONDS) -> PushResult:
    """Write the audience's activation file (its own channel and purpose unless given) and send it to
    `destination`; returns the outcome (`ok` False after the last failed attempt)."""
    if not auth.can(role, "audiences.push"):
        raise PermissionDenied("Pushing an audience needs the permission 'audiences.push' (stewards and admins).")
    with db.cursor() as cur:
        dest = get_destination(cur, destination)
        audience = library.get(cur, name)  # AudienceError when there is none
    if dest is None:
        raise PushError(f"There is no destination {destination!r}; an admin adds it (destinations add).")
    if not dest.enabled:
        raise PushError(f"The destination {destination!r} is disabled.")
    channel = channel or audience.channel
    purpose = purpose or audience.purpose
    if dest.kind == "webhook":
        check_webhook_url(dest.target)
        webhook_secret(dest.secret_name or "")  # before any file is written
        folder = spool_dir(db)
        sweep_spool(folder)
    else:
        folder = Path(dest.target)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        sweep_parts(folder)
    out, n = folder / activation.file_name(name, channel), 1
    while out.exists():
        n += 1
        out = folder / f"{Path(activation.file_name(name, channel)).stem}-{n}.{activation.EXTENSIONS[channel]}"
    result = activation.export(db, actor, role, name, channel, purpose, out, app_id=app_id, hash=hash)
    with db.cursor() as cur:
        tgt = activation.recorded(cur, result.activation_id)
    if dest.kind == "webhook":
        try:
            ok, attempts, status = _webhook(db, dest, result, tgt, sleep, timeout)
        finally:
            out.unlink(missing_ok=True)
    else:
        manifest = _outbox_manifest(result, tgt, actor)
        _write_private(Path(f"{out}.manifest.json"), json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
        _write_private(Path(f"{out}.done"), b"")
        ok, attempts, status = True, 1, None
        _log_attempt(db, result.activation_id, 1, None, True, f"outbox: {out}")
    outcome = PushResult(result.activation_id, dest.name, dest.kind, ok, attempts, status, out, result.rows,
                         result.checksum)
    with db.transaction() as cur:
        activation.mark_pushed(cur, result.activation_id, dest.name, "delivered" if ok else "failed")
        audit.record(cur, actor, Event.AUDIENCE_PUSH, "audience", name,
                     {**{k: v for k, v in asdict(outcome).items() if k != "path"}, "file": out.name,
                      "version": tgt.version, "channel": channel, "purpose": tgt.purpose})
    return outcome
