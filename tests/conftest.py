"""Shared fixtures: a fresh temporary store per test, and AppTest sessions per role."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("STEWARD_SECRETS_FILE", str(Path(os.environ.get("TMPDIR", "/tmp")) / f"steward-test-secrets-{os.getpid()}.toml"))

from governance import bootstrap  # noqa: E402
from governance.access import auth  # noqa: E402
from governance.jobs import runner as jobs  # noqa: E402
from governance.store.storage import open_database  # noqa: E402
from helpers import PASSWORDS  # noqa: E402

bootstrap.ensure_secrets()  # the first start's secrets file, which the library only reads


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
    monkeypatch.setattr(jobs, "BACKGROUND", False)  # jobs the pages queue run when a test drains them
    database = open_database(path)
    for role, password in PASSWORDS.items():
        auth.create_user(database, "test", role, password, role)
    yield database
    database.close()
