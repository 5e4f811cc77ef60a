"""Typed errors. Pages and the CLI turn any GovernanceError into one clear message."""


class GovernanceError(Exception):
    """Base class: the message is meant for the user, in plain words."""


class ConfigError(GovernanceError):
    """A setting or secret is missing or unreadable."""


class StoreBusyError(GovernanceError):
    """The database file is locked by another process."""


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
