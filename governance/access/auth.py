"""Users, roles, permissions, sign-in checks and server-side sessions (no Streamlit here).

Passwords are bcrypt hashes (cost 12, the format streamlit-authenticator checks).
A session is a row in `user_sessions`; signing out revokes it, so a copied cookie
is refused afterwards (see `session_user`).
"""
from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
import duckdb
import pandas as pd

from governance.access import audit
from governance.access.events import Event
from governance.store.config import Settings
from governance.store.errors import AuthError, PermissionDenied
from governance.store.storage import Database, scalar
from governance.store.util import utcnow

ROLES = ("admin", "steward", "analyst")

# The role-to-permission matrix. Pages and CLI commands name the permission they need.
PERMISSIONS: dict[str, frozenset[str]] = {
    "home.view": frozenset(ROLES),
    "sources.view": frozenset(ROLES),
    "ingest.upload": frozenset({"admin", "steward"}),
    "mapping.edit": frozenset({"admin", "steward"}),
    "pii.unmasked": frozenset({"admin", "steward"}),
    "quality.view": frozenset(ROLES),
    "quality.run": frozenset({"admin", "steward"}),
    "rules.edit": frozenset({"admin", "steward"}),
    "review.view": frozenset(ROLES),
    "review.decide": frozenset({"admin", "steward"}),
    "customer.view": frozenset(ROLES),
    "golden.edit": frozenset({"admin", "steward"}),
    "users.manage": frozenset({"admin"}),
    "audit.view": frozenset({"admin"}),
    "masking.manage": frozenset({"admin"}),
    "ropa.view": frozenset({"admin", "steward"}),
    "dsr.manage": frozenset({"admin", "steward"}),
    "retention.manage": frozenset({"admin", "steward"}),
    "export.run": frozenset({"admin", "steward"}),
    "consent.view": frozenset(ROLES),
    "consent.edit": frozenset({"admin", "steward"}),
    "tags.view": frozenset(ROLES),
    "tags.edit": frozenset({"admin", "steward"}),
    "tags.approve": frozenset({"admin", "steward"}),
    "tags.categories": frozenset({"admin"}),
    "tags.source_map": frozenset({"admin", "steward"}),
    "audiences.view": frozenset(ROLES),
    "audiences.edit": frozenset({"admin", "steward"}),
    "audiences.export": frozenset({"admin", "steward"}),
    "audiences.push": frozenset({"admin", "steward"}),
    "destinations.manage": frozenset({"admin"}),
    "apikeys.manage": frozenset({"admin"}),
}

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
MIN_PASSWORD_LENGTH = 10
BCRYPT_MAX_BYTES = 72


def can(role: str | None, permission: str) -> bool:
    """True when `role` holds `permission`; unknown permissions are denied."""
    return role is not None and role in PERMISSIONS.get(permission, frozenset())


def permissions_of(role: str) -> list[str]:
    return sorted(p for p, roles in PERMISSIONS.items() if role in roles)


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(12)).decode("ascii")


@functools.cache
def _unknown_user_hash() -> str:
    """A hash no password matches: an unknown user's attempt takes as long as a known one's."""
    return hash_password(secrets.token_hex(16))


def check_password(password: str, password_hash: str) -> bool:
    data = password.encode("utf-8")
    if len(data) > BCRYPT_MAX_BYTES:
        return False
    return bcrypt.checkpw(data, password_hash.encode("ascii"))


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
        raise AuthError(f"The password must be at most {BCRYPT_MAX_BYTES} bytes long.")


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    email: str | None
    disabled: bool
    failed_attempts: int
    locked_until: datetime | None

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())


_USER_COLUMNS = "username, display_name, role, email, disabled, failed_attempts, locked_until"


def get_user(cur: duckdb.DuckDBPyConnection, username: str) -> User | None:
    row = cur.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", [normalize_username(username)]).fetchone()
    return User(*row) if row else None


def count_users(cur: duckdb.DuckDBPyConnection) -> int:
    return scalar(cur, "SELECT count(*) FROM users")


def list_users(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return cur.execute(
        f"SELECT {_USER_COLUMNS}, created_at, updated_at FROM users ORDER BY username"
    ).df()


def _require_user(cur: duckdb.DuckDBPyConnection, username: str) -> User:
    user = get_user(cur, username)
    if user is None:
        raise AuthError(f"No user named {username!r}.")
    return user


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AuthError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")


def create_user(db: Database, actor: str, username: str, password: str, role: str,
                display_name: str | None = None, email: str | None = None) -> User:
    username = normalize_username(username)
    if not USERNAME_RE.match(username):
        raise AuthError("A username is 2–32 characters: lower-case letters, digits, '.', '_' or '-'.")
    _check_role(role)
    validate_password(password)
    password_hash = hash_password(password)
    with db.transaction() as cur:
        if get_user(cur, username):
            raise AuthError(f"The user {username!r} already exists.")
        now = utcnow()
        cur.execute(
            "INSERT INTO users (username, display_name, email, role, password_hash, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [username, (display_name or username).strip(), email or None, role, password_hash, now, now],
        )
        audit.record(cur, actor, Event.USER_CREATE, "user", username, {"role": role})
        return _require_user(cur, username)


INITIAL_ADMIN_PASSWORD_FILE = "initial-admin-password.txt"  # beside the store, until the admin's password changes


def set_password(db: Database, actor: str, username: str, password: str) -> None:
    """Set a user's password (sessions revoked, audited); the admin's also removes the file that held
    the generated initial password."""
    validate_password(password)
    password_hash = hash_password(password)
    with db.transaction() as cur:
        user = _require_user(cur, username)
        cur.execute(
            "UPDATE users SET password_hash = ?, failed_attempts = 0, locked_until = NULL, updated_at = ? "
            "WHERE username = ?", [password_hash, utcnow(), user.username])
        _revoke_user_sessions(cur, user.username, "password_reset")
        audit.record(cur, actor, Event.USER_PASSWORD_RESET, "user", user.username)
    if user.username == "admin":
        (db.path.parent / INITIAL_ADMIN_PASSWORD_FILE).unlink(missing_ok=True)


def set_role(db: Database, actor: str, username: str, role: str) -> None:
    _check_role(role)
    with db.transaction() as cur:
        user = _require_user(cur, username)
        if user.role == role:
            return
        _guard_last_admin(cur, user, losing_admin=(role != "admin"))
        cur.execute("UPDATE users SET role = ?, updated_at = ? WHERE username = ?", [role, utcnow(), user.username])
        audit.record(cur, actor, Event.USER_ROLE_CHANGE, "user", user.username, {"from": user.role, "to": role})


def set_disabled(db: Database, actor: str, username: str, disabled: bool) -> None:
    with db.transaction() as cur:
        user = _require_user(cur, username)
        if user.disabled == disabled:
            return
        if disabled:
            if normalize_username(actor) == user.username:
                raise AuthError("You cannot disable your own account.")
            _guard_last_admin(cur, user, losing_admin=True)
            _revoke_user_sessions(cur, user.username, "disabled")
        cur.execute("UPDATE users SET disabled = ?, updated_at = ? WHERE username = ?", [disabled, utcnow(), user.username])
        audit.record(cur, actor, Event.USER_DISABLE if disabled else Event.USER_ENABLE, "user", user.username)


def unlock(db: Database, actor: str, username: str) -> None:
    with db.transaction() as cur:
        user = _require_user(cur, username)
        cur.execute("UPDATE users SET failed_attempts = 0, locked_until = NULL, updated_at = ? WHERE username = ?",
                    [utcnow(), user.username])
        audit.record(cur, actor, Event.USER_UNLOCK, "user", user.username)


def _guard_last_admin(cur: duckdb.DuckDBPyConnection, user: User, losing_admin: bool) -> None:
    if not (losing_admin and user.role == "admin" and not user.disabled):
        return
    admins = scalar(cur, "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled")
    if admins <= 1:
        raise AuthError("This is the last active administrator; appoint another admin first.")


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    reason: str  # ok | unknown_user | disabled | locked | bad_password
    locked_until: datetime | None = None
    user: User | None = None


def authenticate(db: Database, username: str, password: str, settings: Settings | None = None) -> LoginResult:
    """Check a sign-in attempt, count failures, lock after too many, and audit it."""
    settings = settings or Settings.from_env()
    name = normalize_username(username)
    with db.cursor() as cur:
        row = cur.execute("SELECT password_hash FROM users WHERE username = ?", [name]).fetchone()
    # bcrypt takes ~0.25 s: check outside the write lock.
    password_ok = check_password(password or "", row[0] if row else _unknown_user_hash()) and row is not None
    with db.transaction() as cur:
        user = get_user(cur, name)
        now = utcnow()
        if user is None:
            result = LoginResult(False, "unknown_user")
        elif user.disabled:
            result = LoginResult(False, "disabled", user=user)
        elif user.is_locked(now):
            result = LoginResult(False, "locked", user.locked_until, user)
        elif password_ok:
            cur.execute("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE username = ?", [name])
            result = LoginResult(True, "ok", user=user)
        else:
            attempts = user.failed_attempts + 1
            locked_until = None
            if attempts >= settings.lockout_attempts:
                locked_until = now + timedelta(minutes=settings.lockout_minutes)
                attempts = 0
            cur.execute("UPDATE users SET failed_attempts = ?, locked_until = ? WHERE username = ?",
                        [attempts, locked_until, name])
            result = LoginResult(False, "locked" if locked_until else "bad_password", locked_until, user)
        action = Event.LOGIN_SUCCESS if result.ok else Event.LOGIN_FAILURE
        detail = None if result.ok else {"reason": result.reason}
        audit.record(cur, name or "(empty)", action, "user", name or None, detail)
    return result


def open_session(db: Database, username: str, session_id: str, expires_at: datetime) -> None:
    """Record a new session (the password sign-in itself was audited by authenticate())."""
    with db.transaction() as cur:
        cur.execute("INSERT INTO user_sessions VALUES (?, ?, ?, ?, NULL, NULL)",
                    [session_id, normalize_username(username), utcnow(), expires_at])


def resume_session(db: Database, session_id: str, via: str = "cookie") -> User | None:
    """The user of a live session presented again (a reload with its cookie), audited as a resume."""
    with db.transaction() as cur:
        user = session_user(cur, session_id)
        if user is not None:
            audit.record(cur, user.username, Event.LOGIN_RESUME, "user", user.username, {"via": via})
    return user


def session_user(cur: duckdb.DuckDBPyConnection, session_id: str | None) -> User | None:
    """The active user of a live session, or None if revoked, expired, disabled or unknown."""
    if not session_id:
        return None
    row = cur.execute(
        "SELECT username FROM user_sessions WHERE session_id = ? AND revoked_at IS NULL AND expires_at > ?",
        [session_id, utcnow()]).fetchone()
    if not row:
        return None
    user = get_user(cur, row[0])
    if user is None or user.disabled:
        return None
    return user


def close_session(db: Database, session_id: str, actor: str, reason: str = "logout") -> None:
    with db.transaction() as cur:
        cur.execute("UPDATE user_sessions SET revoked_at = ?, revoked_reason = ? WHERE session_id = ? AND revoked_at IS NULL",
                    [utcnow(), reason, session_id])
        audit.record(cur, actor, Event.LOGOUT, "user", actor)


def _revoke_user_sessions(cur: duckdb.DuckDBPyConnection, username: str, reason: str) -> None:
    cur.execute("UPDATE user_sessions SET revoked_at = ?, revoked_reason = ? WHERE username = ? AND revoked_at IS NULL",
                [utcnow(), reason, username])


def require(role: str | None, permission: str) -> None:
    if not can(role, permission):
        raise PermissionDenied(f"This needs the permission {permission!r}.")


def require_user(cur: duckdb.DuckDBPyConnection, username: str, permission: str) -> User:
    """The active user `username` (the CLI's --actor), whose role must hold `permission`."""
    user = get_user(cur, normalize_username(username)) if username else None
    if user is None or user.disabled:
        raise PermissionDenied(f"{username!r} is not an active Steward user: pass --actor USER with your user name.")
    if not can(user.role, permission):
        raise PermissionDenied(f"{user.username} ({user.role}) may not do this: it needs the permission {permission!r}.")
    return user


def authenticator_credentials(cur: duckdb.DuckDBPyConnection) -> dict:
    """The credentials dict streamlit-authenticator expects, for enabled users only."""
    users = {}
    for username, display_name, email, role, password_hash in cur.execute(
            "SELECT username, display_name, email, role, password_hash FROM users WHERE NOT disabled").fetchall():
        users[username] = {"first_name": display_name, "last_name": "", "email": email or "",
                           "password": password_hash, "roles": [role]}
    return {"usernames": users}
