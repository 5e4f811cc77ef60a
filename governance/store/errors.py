"""Typed errors. Pages and the CLI turn any GovernanceError into one clear message, and anything
else into one line naming an incident whose details go to a private log (`log_incident`)."""
from __future__ import annotations

import os
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
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


def log_incident(exc: BaseException, folder: Path) -> tuple[str, Path]:
    """Append an unexpected failure's traceback to `folder/incidents.log` (mode 0600) under a new
    incident id; returns (the id, the log's path). The message shown to the user names the id only:
    a traceback may hold personal data."""
    incident = uuid.uuid4().hex[:8]
    path = folder / INCIDENT_LOG
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as log:
            log.write(f"--- incident {incident} at {datetime.now(timezone.utc).isoformat(timespec='seconds')}\n{detail}\n")
        os.chmod(path, 0o600)
    except OSError:
        pass  # the id is still shown; the details are lost with the unwritable folder
    return incident, path
