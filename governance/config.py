"""Settings: one table of names, defaults and help, read from the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = ROOT / "data" / "steward.duckdb"
SECRETS_FILE = ROOT / ".streamlit" / "secrets.toml"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Runtime settings. Each field: default, then the environment variable that overrides it."""

    max_upload_mb: int = field(default=500, metadata={"env": "STEWARD_MAX_UPLOAD_MB", "help": "Largest file accepted by ingest, in MB."})
    lockout_attempts: int = field(default=5, metadata={"env": "STEWARD_LOCKOUT_ATTEMPTS", "help": "Failed sign-ins that lock an account."})
    lockout_minutes: int = field(default=15, metadata={"env": "STEWARD_LOCKOUT_MINUTES", "help": "How long a locked account stays locked."})
    cookie_expiry_hours: int = field(default=12, metadata={"env": "STEWARD_COOKIE_HOURS", "help": "Lifetime of the sign-in cookie (under a day)."})
    page_size: int = field(default=50, metadata={"env": "STEWARD_PAGE_SIZE", "help": "Rows per page in paged tables."})
    dsr_due_working_days: int = field(default=15, metadata={"env": "STEWARD_DSR_DUE_DAYS", "help": "Working days to answer a data-subject request, on China's official calendar (extra days: STEWARD_HOLIDAYS, STEWARD_WORKDAYS)."})

    @classmethod
    def from_env(cls) -> "Settings":
        values = {f.name: _env_int(f.metadata["env"], f.default) for f in fields(cls)}
        values["cookie_expiry_hours"] = min(values["cookie_expiry_hours"], 24)
        return cls(**values)

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


def resolve_db_path(path: str | os.PathLike | None = None) -> Path:
    """`--db` beats STEWARD_DB beats data/steward.duckdb."""
    chosen = path or os.environ.get("STEWARD_DB") or DEFAULT_DB
    return Path(chosen).expanduser().resolve()
