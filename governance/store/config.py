"""Settings (one table of names, defaults and help, read from the environment) and secrets."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import cast

from governance.store.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = ROOT / "data" / "steward.duckdb"
SECRETS_FILE = ROOT / ".streamlit" / "secrets.toml"


SECRET_KEYS = {"cookie_key": "STEWARD_COOKIE_KEY", "hmac_key": "STEWARD_HMAC_KEY"}


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
    store_wait_seconds: int = field(default=10, metadata={"env": "STEWARD_STORE_WAIT", "help": "How long a page waits while a command-line job holds the store, before it says the store is busy."})
    page_size: int = field(default=50, metadata={"env": "STEWARD_PAGE_SIZE", "help": "Rows per page in paged tables."})
    export_keep_days: int = field(default=7, metadata={"env": "STEWARD_EXPORT_KEEP_DAYS", "help": "Days the app keeps a file written by the Export page beside the store, for download."})
    dsr_due_working_days: int = field(default=15, metadata={"env": "STEWARD_DSR_DUE_DAYS", "help": "Working days to answer a data-subject request, on China's official calendar (extra days: STEWARD_HOLIDAYS, STEWARD_WORKDAYS)."})

    @classmethod
    def from_env(cls) -> "Settings":
        values = {f.name: _env_int(f.metadata["env"], cast(int, f.default)) for f in fields(cls)}  # every field: an int default
        values["cookie_expiry_hours"] = min(values["cookie_expiry_hours"], 24)
        return cls(**values)

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


def resolve_db_path(path: str | os.PathLike | None = None) -> Path:
    """`--db` beats STEWARD_DB beats data/steward.duckdb."""
    chosen = path or os.environ.get("STEWARD_DB") or DEFAULT_DB
    return Path(chosen).expanduser().resolve()


def secrets_path() -> Path:
    """STEWARD_SECRETS_FILE beats .streamlit/secrets.toml."""
    return Path(os.environ.get("STEWARD_SECRETS_FILE") or SECRETS_FILE)


def stored_secrets(path: Path | None = None) -> dict[str, str]:
    """The secrets file's string values ({} when there is no file)."""
    path = path or secrets_path()
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return {k: str(v) for k, v in tomllib.load(fh).items() if isinstance(v, str)}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the secrets file {path}: {exc}") from None


def secret(name: str, path: Path | None = None) -> str:
    """One secret, from its environment variable, else from the secrets file. Never writes: the
    first start (`python -m governance init`, or the app's) creates the file."""
    value = os.environ.get(SECRET_KEYS[name]) or stored_secrets(path).get(name)
    if not value:
        raise ConfigError(f"The secret {name} is not set: run `python -m governance init` (it writes "
                          f"{path or secrets_path()}) or set {SECRET_KEYS[name]}.")
    return value


def secrets(path: Path | None = None) -> dict[str, str]:
    """Every secret (see `secret`)."""
    return {name: secret(name, path) for name in SECRET_KEYS}
