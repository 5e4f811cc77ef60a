"""Typed errors. Pages and the CLI turn any GovernanceError into one clear message, and anything
else into one line naming an incident whose details go to a private log (`log_incident`)."""
from __future__ import annotations

import os
import re
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path


class GovernanceError(Exception):
    """Base class: the message is meant for the user, in plain words."""


class ConfigError(GovernanceError):
    """A setting or secret is missing or unreadable."""


@dataclass(frozen=True)
class StoreHolder:
    """The process holding the store: its pid, what it does (`app` or a CLI command), since when."""
    pid: int
    activity: str
    started: datetime

    def describe(self) -> str:
        if self.activity == "app":
            return f"the app (process {self.pid})"
        return f"a command-line {self.activity} (process {self.pid}, started {self.started:%H:%M})"


class StoreBusyError(GovernanceError):
    """Another process held the store for longer than this one would wait (`holder`, when known)."""

    def __init__(self, path: Path, holder: StoreHolder | None):
        self.path, self.holder = path, holder
        who = holder.describe() if holder else "another process"
        super().__init__(f"The store {path} is busy: {who} is using it. Try again when it has finished.")


class IngestError(GovernanceError):
    """A file could not be ingested; nothing was stored."""


class DuplicateFileError(IngestError):
    """The same file (same sha256) was already loaded into this source."""

    def __init__(self, message: str, batch_id: int):
        super().__init__(message)
        self.batch_id = batch_id


class MappingError(GovernanceError):
    """A field mapping is invalid."""


class AuthError(GovernanceError):
    """Sign-in or user-management failure."""


class PermissionDenied(AuthError):
    """The user lacks the permission for an action."""


INCIDENT_LOG = "incidents.log"  # in the store's folder, readable only by its owner
INCIDENT_KEEP_DAYS = 30  # a traceback may hold personal data: kept for diagnosis, not for ever
_INCIDENT_HEAD = re.compile(r"^--- incident \w+ at (\S+)$", re.MULTILINE)


def _drop_old_incidents(path: Path, now: datetime) -> None:
    """Rewrite the log without the incidents older than INCIDENT_KEEP_DAYS."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    starts = list(_INCIDENT_HEAD.finditer(text))
    cutoff = now - timedelta(days=INCIDENT_KEEP_DAYS)
    keep_from = next((m.start() for m in starts if _when(m.group(1)) >= cutoff), len(text))
    if keep_from == 0:
        return
    part = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text[keep_from:])
    os.replace(part, path)


def _when(stamp: str) -> datetime:
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)


def log_incident(exc: BaseException, folder: Path) -> tuple[str, Path]:
    """Append an unexpected failure's traceback to `folder/incidents.log` (mode 0600) under a new
    incident id, dropping those older than INCIDENT_KEEP_DAYS; returns (the id, the log's path). The
    message shown to the user names the id only: a traceback may hold personal data."""
    incident = uuid.uuid4().hex[:8]
    path = folder / INCIDENT_LOG
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    now = datetime.now(timezone.utc)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _drop_old_incidents(path, now)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as log:
            log.write(f"--- incident {incident} at {now.isoformat(timespec='seconds')}\n{detail}\n")
        os.chmod(path, 0o600)
    except OSError:
        pass  # the id is still shown; the details are lost with the unwritable folder
    return incident, path
