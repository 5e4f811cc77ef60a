"""`python -m governance apikeys add | list | revoke`: the key printed once, stored only as its hash, audited."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from governance import cli
from governance.access import auth
from governance.api import keys
from governance.cli_api import cmd_serve
from governance.store.storage import open_database


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def store_with_admin(tmp_path: Path) -> str:
    """A store whose user `admin` may manage keys (the CLI's --actor must be one)."""
    path = tmp_path / "keys.duckdb"
    db = open_database(path)
    auth.create_user(db, "test", "admin", "admin-pass-123", "admin")
    db.close()
    return str(path)


def stored_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}.wal")) if p.exists())


def test_add_list_revoke_round_trip_and_the_key_is_never_stored_in_clear(tmp_path, capsys):
    db_path = store_with_admin(tmp_path)
    code, out, _ = run(capsys, "--db", db_path, "apikeys", "add", "crm-sync", "--role", "analyst", "--scopes",
                       "customers:read,tags:read", "--expires", "2099-01-31", "--rate", "30", "--purpose", "analytics",
                       "--json", "--actor", "admin")
    assert code == 0
    shown = json.loads(out)
    assert shown["name"] == "crm-sync" and shown["key"].startswith("stw_") and len(shown["key"]) >= 40

    code, out, _ = run(capsys, "--db", db_path, "apikeys", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and len(listed) == 1
    row = listed[0]
    assert (row["name"], row["role"], row["scopes"], row["purpose"], row["status"], row["rate_per_minute"]) == \
        ("crm-sync", "analyst", "tags:read,customers:read", "analytics", "active", 30)
    assert row["prefix"] == shown["key"][:12]
    assert row["expires_at"].startswith("2099-01-31 16:00")  # the end of that day in China time, stored as UTC
    assert shown["key"] not in out

    db = open_database(db_path)
    with db.cursor() as cur:
        assert keys.verify(cur, shown["key"]).name == "crm-sync"
        stored = cur.execute("SELECT key_hash FROM api_keys").fetchone()[0]
        actions = [r[0] for r in cur.execute("SELECT actor || ' ' || action FROM audit_log ORDER BY id").fetchall()]
    assert stored == hashlib.sha256(shown["key"].encode()).hexdigest()
    assert "admin api_key.add" in actions

    code, out, _ = run(capsys, "--db", db_path, "apikeys", "revoke", "crm-sync", "--actor", "admin")
    assert code == 0 and "revoked" in out
    with db.cursor() as cur:
        assert keys.verify(cur, shown["key"]) is None
        assert keys.find(cur, shown["key"]).status() == "revoked"
    code, out, _ = run(capsys, "--db", db_path, "apikeys", "list")
    assert "crm-sync" in out and "revoked" in out and shown["key"] not in out

    db.close()  # everything on disk: the store and its write-ahead log
    secret = shown["key"].encode()
    raw = stored_bytes(Path(db_path))
    assert raw and secret not in raw and secret[4:] not in raw and secret[12:40] not in raw


def test_plain_add_prints_the_key_once_and_bad_input_is_one_line(tmp_path, capsys):
    db_path = store_with_admin(tmp_path)
    code, out, _ = run(capsys, "--db", db_path, "apikeys", "add", "mini", "--role", "steward", "--scopes", "tags:read",
                       "--actor", "admin")
    assert code == 0 and "stw_" in out and "shown once" in out
    code, out, _ = run(capsys, "--db", db_path, "apikeys", "list")
    assert "\tmarketing\t" in out  # the default purpose, shown in the list
    for args, message in ((("add", "x2", "--role", "analyst", "--scopes", "tags:write"), "Unknown scope"),
                          (("add", "mini", "--role", "analyst", "--scopes", "tags:read"), "already exists"),
                          (("add", "x3", "--role", "analyst", "--scopes", "tags:read", "--expires", "2001-01-01"),
                           "future"),
                          (("add", "x4", "--role", "analyst", "--scopes", "tags:read", "--expires", "soon"),
                           "Cannot read the expiry"),
                          (("add", "x5", "--role", "analyst", "--scopes", "tags:read", "--rate", "0"), "rate limit"),
                          (("revoke", "nobody"), "No API key"),
                          (("revoke", "mini", "--actor", "nobody"), "not an active Steward user")):
        code, out, err = run(capsys, "--db", db_path, "apikeys", *args, *(() if "--actor" in args else ("--actor", "admin")))
        assert code == 2 and err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1, err


def test_serve_is_a_command_with_a_port():
    args = cli.build_parser().parse_args(["serve", "--port", "9123"])
    assert args.func is cmd_serve and args.port == 9123


def test_add_refuses_an_admin_role_and_an_unknown_purpose(tmp_path, capsys):
    db_path = store_with_admin(tmp_path)
    for extra, message in ((("--role", "admin"), "invalid choice: 'admin'"),
                           (("--role", "analyst", "--purpose", "guardian"), "invalid choice: 'guardian'")):
        try:
            code, _, err = run(capsys, "--db", db_path, "apikeys", "add", "x1", *extra, "--scopes", "tags:read",
                               "--actor", "admin")
        except SystemExit as exc:  # argparse refuses a choice before the command runs
            code, err = exc.code, capsys.readouterr().err
        assert code == 2 and message in err, err
    db = open_database(db_path)
    with db.cursor() as cur:
        assert keys.list_keys(cur).empty
    db.close()
