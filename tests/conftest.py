"""Shared fixtures: a fresh temporary store per test, and AppTest sessions per role."""
from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("STEWARD_SECRETS_FILE", str(Path(os.environ.get("TMPDIR", "/tmp")) / f"steward-test-secrets-{os.getpid()}.toml"))

from governance import auth  # noqa: E402
from governance.storage import open_database  # noqa: E402
from governance.util import utcnow  # noqa: E402

PASSWORDS = {"admin": "admin-pass-123", "steward": "steward-pass-123", "analyst": "analyst-pass-123"}


@pytest.fixture
def db(tmp_path):
    database = open_database(tmp_path / "test.duckdb")
    yield database
    database.close()


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A store for AppTest runs, with one user per role; STEWARD_DB points at it."""
    path = tmp_path / "app.duckdb"
    monkeypatch.setenv("STEWARD_DB", str(path))
    database = open_database(path)
    for role, password in PASSWORDS.items():
        auth.create_user(database, "test", role, password, role)
    yield database
    database.close()


def signed_in_session(database, username: str) -> dict:
    """Session-state values of a signed-in user, as app.py leaves them after a sign-in."""
    session_id = uuid.uuid4().hex
    auth.open_session(database, username, session_id, utcnow() + timedelta(hours=1), via="password")
    with database.cursor() as cur:
        user = auth.get_user(cur, username)
    return {"steward_session": session_id, "authentication_status": True, "username": username,
            "name": user.display_name, "roles": [user.role], "email": None}


def app_test(database=None, username: str | None = None, lang: str = "en"):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["lang"] = lang
    if username:
        for key, value in signed_in_session(database, username).items():
            at.session_state[key] = value
    return at
