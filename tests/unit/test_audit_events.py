"""The audit log records declared events only (governance/access/events.py)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from governance import cli, pipeline
from governance.access import audit, auth, events
from governance.access.events import EVENTS, Event
from governance.oneid import review
from governance.privacy import consent, dsr
from governance.store.storage import open_database
from governance.store.util import utcnow
from helpers import ROOT, load_generated


def _python_files() -> list[Path]:
    return sorted([*(ROOT / "governance").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"])


def _action_argument(call: ast.Call) -> ast.expr | None:
    """The action argument of an `audit.record(cur, actor, action, …)` / `audit.log(db, actor, action, …)` call."""
    for keyword in call.keywords:
        if keyword.arg == "action":
            return keyword.value
    return call.args[2] if len(call.args) > 2 else None


def _audit_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("record", "log")
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit"):
            yield node


def test_no_call_site_passes_a_string_literal_as_the_action():
    found, offenders = 0, []
    for path in _python_files():
        for call in _audit_calls(ast.parse(path.read_text(encoding="utf-8"))):
            found += 1
            action = _action_argument(call)
            literal = action is None or any(
                isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Constant) and isinstance(n.value, str))
                for n in ast.walk(action))
            if literal:
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert found > 30  # the scan does see the call sites
    assert offenders == []


def test_every_event_is_declared_once_with_both_labels_and_a_description():
    assert set(EVENTS) == set(Event)
    for event, info in EVENTS.items():
        assert info.zh.strip() and info.en.strip() and info.description.strip(), event
        assert not info.zh.isascii(), event  # the Chinese label is Chinese
    for lang in ("zh", "en"):  # the Audit page's filter tells events apart by their label
        labels = [events.label(e, lang) for e in Event]
        assert len(set(labels)) == len(labels), lang
    assert events.label("ingest.batch", "en") == "Batch ingested" and events.label(Event.INGEST_BATCH, "zh") == "导入批次"
    assert events.label("legacy.thing", "en") == "legacy.thing"


def test_stored_values_are_the_historic_strings():
    # Renaming a value would orphan rows already in the hash-chained log.
    assert Event.STANDARDIZE_RUN == "standardize.run" and Event.LOGOUT == "logout"
    assert Event.DSR_SUPPRESSION_LIFT.value == "dsr.suppression_lift" and Event.CONSENT_WITHDRAWN == "consent.withdrawn"
    assert len({e.value for e in Event}) == len(Event)


def test_recording_an_undeclared_action_raises(db):
    with pytest.raises(ValueError, match="not a declared audit event"):
        with db.transaction() as cur:
            audit.record(cur, "alice", "made.up", "user", "alice")
    with pytest.raises(ValueError):
        audit.log(db, "alice", "", "user", "alice")
    with pytest.raises(ValueError):
        audit.log(db, "alice", None, "user", "alice")
    audit.log(db, "alice", "ropa.export", "ropa", "md")  # a declared value as a plain string is that event
    audit.log(db, "alice", Event.ROPA_EXPORT, "ropa", "csv")
    with db.cursor() as cur:
        assert cur.execute("SELECT action, object_id FROM audit_log ORDER BY id").fetchall() == [
            ("ropa.export", "md"), ("ropa.export", "csv")]
        assert audit.verify_chain(cur).ok


def _insert_legacy_row(cur, action: str) -> None:
    """A row written before its action was declared (or by an older version): correctly chained."""
    row_id = cur.execute("SELECT nextval('audit_seq')").fetchone()[0]
    last = cur.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    prev = last[0] if last else audit.GENESIS
    ts = utcnow()
    digest = audit._row_hash(prev, row_id, ts, "old", action, None, None, None)
    cur.execute("INSERT INTO audit_log VALUES (?, ?, 'old', ?, NULL, NULL, NULL, ?, ?)", [row_id, ts, action, prev, digest])


def test_audit_verify_warns_about_undeclared_actions_and_the_filter_offers_them(tmp_path, capsys):
    db_path = tmp_path / "cli.duckdb"
    db = open_database(db_path)
    with db.transaction() as cur:
        _insert_legacy_row(cur, "legacy.thing")
    with db.cursor() as cur:
        choices = audit.action_choices(cur)
        assert choices[:len(Event)] == list(Event) and choices[len(Event):] == ["legacy.thing"]
        assert audit.undeclared_actions(cur) == {"legacy.thing": 1}
        assert audit.verify_chain(cur).ok
    db.close()
    code = cli.main(["--db", str(db_path), "audit", "verify"])
    out, err = capsys.readouterr()
    assert code == 0 and "intact: 1 rows" in out
    assert "1 rows with an undeclared action: legacy.thing (1)" in err


def test_actions_emitted_by_a_working_flow_are_all_declared(tmp_path, capsys):
    db_path = tmp_path / "flow.duckdb"
    db = open_database(db_path)
    auth.create_user(db, "root", "alice", "alice-pass-123", "steward")
    assert auth.authenticate(db, "alice", "alice-pass-123").ok
    assert not auth.authenticate(db, "alice", "wrong").ok
    load_generated(db, tmp_path / "w", 40, seed=7)
    pipeline.refresh_quality(db, "alice")
    review.bulk_decide(db, "alice", 0.0, 1.0, "approve")
    with db.cursor() as cur:
        oneid = cur.execute("SELECT min(oneid) FROM crosswalk").fetchone()[0]
    consent.grant(db, "alice", oneid, "marketing", method="written")
    consent.withdraw(db, "alice", oneid, "marketing", method="written")
    request_id = dsr.create(db, "alice", "access", "某某", oneids=[oneid])
    dsr.verify(db, "alice", request_id, "ID seen")
    dsr.reject(db, "alice", request_id, "duplicate")
    db.close()
    assert cli.main(["--db", str(db_path), "ropa", "--out", str(tmp_path / "ropa.md"), "--actor", "alice"]) == 0
    assert cli.main(["--db", str(db_path), "audit", "verify"]) == 0
    assert "undeclared" not in capsys.readouterr().err

    db = open_database(db_path)
    with db.cursor() as cur:
        emitted = {row[0] for row in cur.execute("SELECT DISTINCT action FROM audit_log").fetchall()}
    db.close()
    assert emitted <= {e.value for e in Event}
    assert {"login.success", "login.failure", "user.create", "ingest.batch", "standardize.run", "oneid.resolve",
            "consent.grant", "consent.withdrawn", "dsr.create", "dsr.verify", "dsr.reject", "ropa.export"} <= emitted
