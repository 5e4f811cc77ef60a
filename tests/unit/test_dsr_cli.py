"""The dsr and retention CLI commands, each with --actor in the audit log."""
from __future__ import annotations

import json

from governance import cli
from governance.store.storage import open_database
from helpers import load_generated


def call(db_path, capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--db", str(db_path), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_dsr_and_retention_commands(tmp_path, capsys):
    db_path = tmp_path / "cli.duckdb"
    db = open_database(db_path)
    load_generated(db, tmp_path / "d", 100, seed=6)
    with db.cursor() as cur:
        oneid, mobile, n = cur.execute(
            "SELECT c.oneid, any_value(s.mobile), count(*) FROM crosswalk c JOIN std_records s USING (batch_id, row_number) "
            "WHERE s.mobile_status = 'valid' GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 1").fetchone()
        source = cur.execute("SELECT source FROM batches ORDER BY batch_id LIMIT 1").fetchone()[0]

    code, out, _ = call(db_path, capsys, "dsr", "create", "--type", "access", "--requester", "某某",
                        "--mobile", mobile, "--identity-check", "ID seen", "--actor", "alice")
    created = json.loads(out)
    assert code == 0 and created["status"] == "verified" and oneid in created["oneids"]
    code, out, _ = call(db_path, capsys, "dsr", "access", "--request", str(created["request_id"]),
                        "--out", str(tmp_path / "pkg"), "--actor", "alice")
    assert code == 0 and (tmp_path / "pkg" / "package.json").exists()
    code, out, _ = call(db_path, capsys, "dsr", "list")
    assert code == 0 and "in_progress" in out and "某某" not in out
    code, out, _ = call(db_path, capsys, "dsr", "close", str(created["request_id"]), "--response", "sent", "--actor", "alice")
    assert code == 0

    code, out, _ = call(db_path, capsys, "dsr", "delete", "--oneid", oneid, "--actor", "bob")
    result = json.loads(out)
    assert code == 0 and result["records"] >= n and result["deleted"]["crosswalk"] == n
    code, _, err = call(db_path, capsys, "dsr", "access", "--oneid", oneid, "--out", str(tmp_path / "x"), "--actor", "bob")
    assert code == 2 and "Unknown OneID" in err

    code, out, _ = call(db_path, capsys, "retention", "set", "source", source, "30", "--actor", "carol")
    assert code == 0
    code, out, _ = call(db_path, capsys, "retention", "scan", "--actor", "carol")
    assert code == 0 and json.loads(out)[0]["records"] == 0
    code, _, err = call(db_path, capsys, "retention", "apply", "source", source, "--confirm", "5", "--actor", "carol")
    assert code == 2 and "scan again" in err
    with db.cursor() as cur:
        actors = dict(cur.execute("SELECT action, actor FROM audit_log WHERE starts_with(action, 'dsr.') "
                                  "OR starts_with(action, 'retention.')").fetchall())
    assert actors["dsr.access_package"] == "alice" and actors["dsr.delete"] == "bob"
    assert actors["retention.set"] == "carol"
    code, out, _ = call(db_path, capsys, "compact", "--actor", "dave")  # closes the store, rewrites the file
    assert code == 0 and "compacted" in out
    again = open_database(db_path)
    with again.cursor() as cur:
        assert cur.execute("SELECT actor FROM audit_log WHERE action = 'store.compact'").fetchall() == [("dave",)]
    again.close()
