"""Helpers shared by the test layers (importable, unlike conftest)."""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from governance.access import auth
from governance.store.storage import Database, open_database
from governance.store.util import utcnow

ROOT = Path(__file__).resolve().parents[1]
PASSWORDS = {"admin": "admin-pass-123", "steward": "steward-pass-123", "analyst": "analyst-pass-123"}


def app_pages() -> list[tuple[str, str, str, str, str]]:
    """app.PAGES, read without running the Streamlit script."""
    for node in ast.parse((ROOT / "app.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "PAGES":
            return ast.literal_eval(node.value)
    raise AssertionError("app.py has no PAGES list")


def signed_in_session(database, username: str) -> dict:
    """Session-state values of a signed-in user, as app.py leaves them after a sign-in."""
    session_id = uuid.uuid4().hex
    auth.open_session(database, username, session_id, utcnow() + timedelta(hours=1))
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


MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Z])\d{17}[\dX](?![0-9A-Z])")


def column_headers(element) -> dict[str, str | None]:
    """Column -> the header an AppTest dataframe shows for it (None: the column's own name)."""
    config = json.loads(element.proto.columns or "{}")
    return {c: v.get("label") for c, v in config.items() if not c.startswith("_")}


def unlabelled_columns(at) -> list[str]:
    """Columns of the page's tables shown without a header from i18n (a table not rendered by
    governance.ui.widgets.table)."""
    out = []
    for element in at.dataframe:
        headers = column_headers(element)
        out += [str(c) for c in element.value.columns if not headers.get(str(c))]
    return out


def visible_text(at) -> str:
    """Everything an AppTest page shows as text: titles, messages, metrics and table contents."""
    parts = [e.value for kind in ("title", "markdown", "caption", "error", "warning", "info", "success")
             for e in getattr(at, kind)]
    parts += [frame.value.to_string() for frame in at.dataframe]
    parts += [str(m.value) for m in at.metric]
    return "\n".join(str(p) for p in parts)


def build_template(path: Path, build: Callable[[Database], object]) -> Path:
    """A store seeded once by `build(db)`, checkpointed and closed at `path`: the template a module-scoped
    fixture builds and each test copies with `store_copy`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = open_database(path)
    try:
        build(db)
        db.checkpoint()
    finally:
        db.close()
    return path


@contextmanager
def store_copy(template: Path, path: Path) -> Iterator[Database]:
    """A test's own copy of a closed template store, written to `path` and open while the block runs, so tests
    that change the store stay independent of each other and of their order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, path)
    db = open_database(path)
    try:
        yield db
    finally:
        db.close()


def crm_template(path: Path, header: str, people: dict[str, tuple], then: Callable[[Database], object] | None = None) -> Path:
    """A page-test template (build_template): one user per role (PASSWORDS) and a resolved CRM upload of
    `people` ({name: (card, other columns…)} under `header`, whose second column is the name); `then(db)`
    adds what a module needs."""
    def build(db: Database) -> None:
        from governance import pipeline

        for role, password in PASSWORDS.items():
            auth.create_user(db, "test", role, password, role)
        crm = path.parent / "crm.csv"
        crm.write_text(header + "".join(",".join((c[0], n, *c[1:])) + "\n" for n, c in people.items()),
                       encoding="utf-8")
        pipeline.load_file(db, "steward", crm, source="crm", channel="crm")
        pipeline.resolve(db, "steward", use_model=False)
        if then is not None:
            then(db)

    return build_template(path, build)


@contextmanager
def page_store(template: Path, path: Path, monkeypatch) -> Iterator[Database]:
    """store_copy for page tests: the app reads the copy (STEWARD_DB) and jobs run inline."""
    from governance.jobs import runner as jobs

    monkeypatch.setenv("STEWARD_DB", str(path))
    monkeypatch.setattr(jobs, "BACKGROUND", False)
    with store_copy(template, path) as db:
        yield db


SAVED_MODEL = (ROOT / "tests" / "fixtures" / "oneid_model.json").read_text(encoding="utf-8")


def load_generated(db, directory: Path, customers: int, seed: int, resolve: bool = True):
    """Ingest a generated multi-channel workspace, standardize it and (by default) resolve it with
    the saved Splink model. Returns the workspace (its ground truth included)."""
    from governance import pipeline, synth
    from governance.oneid import resolve as oneid
    from governance.sources import ingest

    workspace = synth.generate_workspace(customers, seed=seed)
    for spec, path in zip(workspace.files, synth.write_workspace(workspace, directory)):
        ingest.ingest_file(db, path, actor="t", source=spec.source, channel=spec.channel)
    pipeline.standardize(db, "t")
    if resolve:
        oneid.resolve(db, "t", model_json=SAVED_MODEL)
    return workspace


def mask_exports_in_python(set_attr, db, dataset: str, role: str) -> None:
    """Make `datasets.run_export` mask in Python (`datasets.mask_chunk`, chunk by chunk) instead of in
    its SQL: the reference the SQL masks are compared with. `set_attr` is monkeypatch.setattr or setattr."""
    from governance.access import masking
    from governance.exports import datasets
    from governance.store.config import secret

    with db.cursor() as cur:
        policy = masking.load_policy(cur, secret("hmac_key"))
    ds, open_writer = datasets.dataset(dataset), datasets.open_writer

    class MaskingWriter:
        def __init__(self, fmt: str, target):
            self._writer = open_writer(fmt, target)

        def write(self, frame):
            self._writer.write(datasets.mask_chunk(ds, frame, role, policy))

        def close(self):
            self._writer.close()

    set_attr(datasets, "_masked_sql", lambda expr, *_: expr)
    set_attr(datasets, "open_writer", MaskingWriter)


def scratch_secrets() -> None:
    """Benchmarks: a private secrets file for this run, written the way the first start writes it
    (unless STEWARD_SECRETS_FILE names one already)."""
    import os
    import tempfile

    from governance.bootstrap import ensure_secrets

    if not os.environ.get("STEWARD_SECRETS_FILE"):
        os.environ["STEWARD_SECRETS_FILE"] = str(Path(tempfile.mkdtemp(prefix="steward-bench-")) / "secrets.toml")
    ensure_secrets()


def pair_closure(cluster_of: dict[Hashable, object], truth_of: dict[Hashable, str]) -> tuple[float, float, float, int, int]:
    """Pair-closure precision, recall and F1 of the clusters' transitive closure against the truth, and the
    predicted and true pair counts."""
    clusters: dict[object, list[str]] = {}
    for rid, c in cluster_of.items():
        clusters.setdefault(c, []).append(truth_of[rid])
    predicted = sum(len(m) * (len(m) - 1) // 2 for m in clusters.values())
    correct = sum(sum(n * (n - 1) // 2 for n in Counter(m).values()) for m in clusters.values())
    true = sum(n * (n - 1) // 2 for n in Counter(truth_of.values()).values())
    p, r = (correct / predicted if predicted else 1.0), (correct / true if true else 1.0)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0), predicted, true


def plain_splink(records, threshold: float):
    """Plain Splink 5 (the benchmarks' baseline): the product's comparisons and training on the product's
    model input `records`, no rules, guards or review; (its DuckDB connection, the linker, the pairs
    scored at least `threshold`)."""
    import logging

    import duckdb
    from splink import DuckDBAPI, Linker

    from governance.oneid import model

    con = duckdb.connect()
    linker = Linker(DuckDBAPI(connection=con).register(records), model.settings(), log_level=logging.ERROR)
    model._train(linker, model.U_MAX_PAIRS, 42)
    return con, linker, linker.inference.predict(threshold_match_probability=threshold)


def run_cli(db_path: Path, *args: str) -> tuple[int, str, str]:
    """`python -m governance --db DB ARGS…` in a process of its own: (exit status, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "governance", "--db", str(db_path), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return proc.returncode, proc.stdout, proc.stderr
