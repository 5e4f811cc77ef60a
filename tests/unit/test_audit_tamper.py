"""The audit log is tamper-evident: a keyed chain, its head anchored outside the store, gaps checked.
Each test tampers the way someone holding only the store file would."""
from __future__ import annotations

import json
import re
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from governance import bootstrap, cli
from governance.access import audit
from governance.access.events import Event
from governance.store import config
from governance.store.errors import ConfigError
from governance.store.storage import open_database

ROOT = Path(__file__).resolve().parents[2]
OLD_STORE = ROOT / "tests" / "fixtures" / "store_main_v11"  # made by the release before the audit key
COLUMNS = "id, ts, actor, action, object_type, object_id, detail"


def _events(db, n: int) -> None:
    for i in range(n):
        audit.log(db, "alice", Event.ROPA_EXPORT, "ropa", f"file-{i}")


def _check(db) -> audit.ChainCheck:
    with db.cursor() as cur:
        return audit.verify_chain(cur)


def _cli_verify(path: Path, capsys) -> tuple[int, str]:
    code = cli.main(["--db", str(path), "audit", "verify"])
    out = capsys.readouterr()
    open_database(path).close()
    return code, (out.out + out.err).strip().splitlines()[-1]


def _rewrite(db, first_id: int, digest, last_id: int | None = None) -> None:
    """Change the detail of row `first_id` and recompute the hash of it and every later row (up to
    `last_id`) with `digest`."""
    with db.transaction() as cur:
        rows = cur.execute(f"SELECT {COLUMNS}, prev_hash FROM audit_log WHERE id BETWEEN ? AND ? ORDER BY id",
                           [first_id, last_id or 2**62]).fetchall()
        prev = rows[0][-1]
        for row_id, ts, actor, action, otype, oid, detail, _ in rows:
            detail = '{"file": "innocent.csv"}' if row_id == first_id else detail
            new = digest(prev, row_id, ts, actor, action, otype, oid, detail)
            cur.execute("UPDATE audit_log SET detail = ?, prev_hash = ?, hash = ? WHERE id = ?", [detail, prev, new, row_id])
            prev = new


def test_deleting_the_newest_rows_is_detected(db, tmp_path, capsys):
    _events(db, 5)
    with db.transaction() as cur:  # a decision recorded inside its own transaction, then another event
        audit.record(cur, "alice", Event.REVIEW_APPROVE, "pair", "1:2")
    _events(db, 1)
    assert _check(db).ok
    with db.transaction() as cur:
        cur.execute("DELETE FROM audit_log WHERE id > 4")
    check = _check(db)
    assert not check.ok and check.reason.startswith("newest rows deleted after id 4")
    _events(db, 2)  # later events chain on from row 4; the deletion stays on record
    assert not _check(db).ok
    db.close()
    code, line = _cli_verify(db.path, capsys)
    assert code == 1 and "newest rows deleted after id 4" in line


@pytest.mark.parametrize("digest", [
    audit._row_hash,  # plain SHA-256, as the chain was before the key
    lambda *row: audit._row_mac(b"not the audit key", *row),
], ids=["sha256", "wrong-key"])
def test_rewriting_a_row_and_recomputing_the_chain_is_detected(db, digest):
    _events(db, 6)
    _rewrite(db, 3, digest)
    check = _check(db)
    assert not check.ok and check.first_bad_id == 3 and check.reason == "rewritten"


def test_rewriting_the_whole_log_as_an_unkeyed_chain_is_caught_by_the_anchor(db):
    _events(db, 4)
    _rewrite(db, 1, audit._row_hash)
    check = _check(db)
    assert not check.ok and check.first_bad_id == 4 and check.reason.startswith("rewritten")


def test_deleting_a_middle_row_is_a_gap(db, capsys):
    _events(db, 5)
    with db.transaction() as cur:
        cur.execute("DELETE FROM audit_log WHERE id = 3")
    check = _check(db)
    assert not check.ok and check.first_bad_id == 4 and check.reason == "gap at id 3 (rows deleted)"
    db.close()
    code, line = _cli_verify(db.path, capsys)
    assert code == 1 and line == "Audit chain broken at row id 4: gap at id 3 (rows deleted)."


def test_a_rolled_back_audit_write_leaves_the_chain_intact(db):
    _events(db, 1)
    with db.transaction() as cur:  # committed, not anchored yet
        audit.record(cur, "alice", Event.REVIEW_APPROVE, "pair", "1:2")
    with pytest.raises(RuntimeError), db.transaction() as cur:
        audit.record(cur, "alice", Event.REVIEW_REJECT, "pair", "3:4")
        raise RuntimeError("the action failed after its audit row")
    anchor = _anchor(db)
    assert (anchor["id"], anchor["rows"]) == (2, 2)  # the committed head, never the rolled-back row
    _events(db, 1)
    with db.cursor() as cur:
        ids = [r[0] for r in cur.execute("SELECT id FROM audit_log ORDER BY id").fetchall()]
    assert ids == [1, 2, 4]  # the rolled-back transaction consumed id 3: a gap the chain bridges
    check = audit.verify(db)
    assert check.ok and (check.rows, check.head_id) == (3, 4) and _anchor(db)["id"] == 4


def test_a_crash_before_commit_leaves_the_chain_intact(db, capsys):
    _events(db, 2)
    db.close()
    script = ("import os, signal, sys\n"
              "from governance.access import audit\nfrom governance.access.events import Event\n"
              "from governance.store.storage import open_database\n"
              "db = open_database(sys.argv[1])\n"
              "with db.transaction() as cur:\n"
              "    audit.record(cur, 'bob', Event.EXPORT_UNMASKED, 'export', 'golden')\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", script, str(db.path)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    code, line = _cli_verify(db.path, capsys)
    assert code == 0 and line.startswith("Audit chain intact: 2 rows, head id 2 (hmac:")


def _old_store(path: Path) -> None:
    """The earlier release's store, from its export (as tests/unit/test_store.py builds it)."""
    con = duckdb.connect(str(path))
    con.execute((OLD_STORE / "schema.sql").read_text(encoding="utf-8"))
    load = (OLD_STORE / "load.sql").read_text(encoding="utf-8")
    con.execute(re.sub(r"FROM '([^']+)'", lambda m: f"FROM '{OLD_STORE / m.group(1)}'", load))
    con.close()


def test_an_upgraded_store_verifies_intact_then_chains_keyed_rows(tmp_path, capsys):
    path = tmp_path / "old.duckdb"
    _old_store(path)
    code, line = _cli_verify(path, capsys)
    assert code == 0 and line.startswith("Audit chain intact: 24 rows, head id 24 (")
    db = open_database(path)
    _events(db, 1)
    with db.cursor() as cur:
        rows = cur.execute("SELECT id, prev_hash, hash FROM audit_log ORDER BY id").fetchall()
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for _, _, h in rows[:24])  # the old rows keep their hashes
    assert rows[24][0] == 25 and rows[24][1] == rows[23][2] and rows[24][2].startswith("hmac:")
    assert audit.verify(db).ok
    _rewrite(db, 10, audit._row_hash, last_id=24)  # the old, unkeyed rows are pinned by the first keyed one
    with db.transaction() as cur:
        cur.execute("UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE id = 24) WHERE id = 25")
    check = _check(db)
    assert not check.ok and check.first_bad_id == 25 and check.reason == "rewritten"
    db.close()


def _anchor(db) -> dict:
    return json.loads(audit.anchor_path(db.path).read_text(encoding="utf-8"))


def test_the_anchor_is_private_and_cannot_be_forged_or_removed(db):
    _events(db, 3)
    file = audit.anchor_path(db.path)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600 and stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    assert file.parent.parent == config.secrets_path().parent
    assert _anchor(db)["id"] == 3
    forged = {**_anchor(db), "id": 2, "rows": 2}
    with db.cursor() as cur:
        forged["hash"] = cur.execute("SELECT hash FROM audit_log WHERE id = 2").fetchone()[0]
    file.write_text(json.dumps(forged), encoding="utf-8")  # an older head, to hide row 3's deletion
    check = _check(db)
    assert not check.ok and check.reason.startswith("anchor forged")
    _events(db, 1)
    assert json.loads(file.read_text(encoding="utf-8")) == forged  # never overwritten: it stays on record
    file.unlink()
    check = _check(db)
    assert not check.ok and check.reason == f"anchor missing ({file})"
    _events(db, 1)
    assert not file.exists() and not audit.verify(db).ok


def test_a_copied_store_starts_its_own_anchor_and_a_restored_backup_is_reanchored_on_request(db, tmp_path, capsys):
    _events(db, 3)
    db.close()
    backup = tmp_path / "backup" / "test.duckdb"
    backup.parent.mkdir()
    shutil.copyfile(db.path, backup)
    code, line = _cli_verify(backup, capsys)  # a copy at another path: intact, anchored from now on
    assert code == 0 and line.startswith("Audit chain intact: 3 rows") and audit.anchor_path(backup).exists()
    again = open_database(db.path)
    _events(again, 2)
    again.close()
    shutil.copyfile(backup, db.path)  # the backup restored over the store: its newest rows are gone
    code, line = _cli_verify(db.path, capsys)
    assert code == 1 and "newest rows deleted after id 3" in line
    code = cli.main(["--db", str(db.path), "audit", "verify", "--reanchor"])
    assert code == 0 and capsys.readouterr().out.startswith("Re-anchored. Audit chain intact: 3 rows")
    assert _cli_verify(db.path, capsys)[0] == 0


def test_reanchoring_refuses_a_rewritten_chain(db, capsys):
    _events(db, 3)
    _rewrite(db, 2, audit._row_hash)
    db.close()
    code = cli.main(["--db", str(db.path), "audit", "verify", "--reanchor"])
    assert code == 1 and "Audit chain broken at row id 2: rewritten." in capsys.readouterr().err
    open_database(db.path).close()


def test_a_fresh_store_verifies_intact(tmp_path, capsys):
    code, line = _cli_verify(tmp_path / "fresh.duckdb", capsys)
    assert code == 0 and line == "Audit chain intact: 0 rows."


def test_the_audit_key_is_added_to_an_existing_secrets_file(tmp_path, monkeypatch):
    path = tmp_path / "secrets.toml"
    path.write_text('cookie_key = "c"\nhmac_key = "h"\n', encoding="utf-8")
    monkeypatch.delenv("STEWARD_COOKIE_KEY", raising=False)
    monkeypatch.delenv("STEWARD_HMAC_KEY", raising=False)
    bootstrap.ensure_secrets(path)
    stored = config.stored_secrets(path)
    assert (stored["cookie_key"], stored["hmac_key"]) == ("c", "h") and re.fullmatch(r"[0-9a-f]{64}", stored["audit_key"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    bootstrap.ensure_secrets(path)
    assert config.stored_secrets(path) == stored


def test_recording_without_the_audit_key_stops_with_a_message(db, tmp_path, monkeypatch):
    path = tmp_path / "secrets.toml"
    path.write_text('cookie_key = "c"\nhmac_key = "h"\n', encoding="utf-8")
    monkeypatch.setenv("STEWARD_SECRETS_FILE", str(path))
    with pytest.raises(ConfigError, match="governance init"):
        audit.log(db, "alice", Event.ROPA_EXPORT, "ropa", "md")
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM audit_log").fetchone() == (0,)
