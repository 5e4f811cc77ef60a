"""The headless CLI: init, ingest, sources --json, users, mapping and audit verify."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from governance import cli
from governance.store.storage import open_database

ROOT = Path(__file__).resolve().parents[2]


def run(db_path: Path, *args: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-m", "governance", "--db", str(db_path), *args], cwd=ROOT,
                          capture_output=True, text=True, input=stdin, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "cli.duckdb"


def call(db_path: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--db", str(db_path), *args])
    out = capsys.readouterr()
    open_database(db_path).close()  # let the next call (or process) open it afresh
    return code, out.out, out.err


def test_init_creates_admin_with_private_password_file(db_path, capsys, monkeypatch):
    monkeypatch.delenv("STEWARD_ADMIN_PASSWORD", raising=False)
    code, out, _ = call(db_path, capsys, "init", "--no-demo")
    assert code == 0 and "Created user 'admin'" in out
    secret_file = db_path.parent / "initial-admin-password.txt"
    password = secret_file.read_text().strip()
    assert password in out and len(password) >= 16
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    code, out, _ = call(db_path, capsys, "init", "--no-demo")  # second start: nothing new
    assert "Created user" not in out
    code, _, _ = call(db_path, capsys, "users", "reset-password", "admin", "--actor", "admin")
    assert code == 0 and not secret_file.exists()  # the initial password is no longer valid, nor kept


def test_init_uses_admin_password_from_environment(db_path, capsys, monkeypatch):
    monkeypatch.setenv("STEWARD_ADMIN_PASSWORD", "from-the-env-123")
    code, out, _ = call(db_path, capsys, "init", "--no-demo")
    assert code == 0 and "from-the-env-123" not in out
    assert not (db_path.parent / "initial-admin-password.txt").exists()
    from governance.access import auth
    db = open_database(db_path)
    assert auth.authenticate(db, "admin", "from-the-env-123").ok
    db.close()


def test_secrets_generated_once_and_private(tmp_path, monkeypatch):
    from governance import bootstrap
    path = tmp_path / "secrets.toml"
    monkeypatch.delenv("STEWARD_COOKIE_KEY", raising=False)
    first = bootstrap.ensure_secrets(path)
    assert len(first["cookie_key"]) >= 48 and first["cookie_key"] != first["hmac_key"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert bootstrap.ensure_secrets(path) == first
    monkeypatch.setenv("STEWARD_COOKIE_KEY", "k" * 64)
    assert bootstrap.ensure_secrets(path)["cookie_key"] == "k" * 64


def test_library_reads_secrets_but_never_writes_them(tmp_path, monkeypatch):
    from governance.store import config
    from governance.store.errors import ConfigError
    path = tmp_path / "none.toml"
    monkeypatch.setenv("STEWARD_SECRETS_FILE", str(path))
    monkeypatch.delenv("STEWARD_HMAC_KEY", raising=False)
    monkeypatch.setenv("STEWARD_COOKIE_KEY", "c" * 64)
    with pytest.raises(ConfigError, match="governance init"):
        config.secrets()
    assert config.secret("cookie_key") == "c" * 64  # each use needs only its own secret
    assert not path.exists()
    monkeypatch.setenv("STEWARD_HMAC_KEY", "h" * 64)
    assert config.secrets() == {"cookie_key": "c" * 64, "hmac_key": "h" * 64}
    assert not path.exists()


def test_ingest_and_sources_json(db_path, tmp_path, capsys):
    crm = tmp_path / "crm_export.csv"
    crm.write_text("Customer ID,Name,Mobile,Level\nC1,张三,13800138000,gold\nC2,李四,13912345678,\n", encoding="utf-8")
    pos = tmp_path / "pos.csv"
    pos.write_bytes("姓名,手机\n王五,13512345678\n".encode("gbk"))
    code, out, _ = call(db_path, capsys, "ingest", str(crm), "--channel", "crm", "--actor", "ci")
    assert code == 0 and json.loads(out)["rows"] == 2
    mapping_file = tmp_path / "m.json"
    mapping_file.write_text(json.dumps({"姓名": "name", "手机": None}), encoding="utf-8")
    code, out, _ = call(db_path, capsys, "ingest", str(pos), "--source", "store_pos", "--channel", "pos",
                        "--mapping", str(mapping_file), "--encoding", "gbk")
    assert code == 0
    code, out, _ = call(db_path, capsys, "sources", "--json")
    assert json.loads(out) == [
        {"source": "crm_export", "channel": "crm", "batches": 1, "rows": 2,
         "mapping": {"Customer ID": "member_card", "Name": "name", "Mobile": "mobile", "Level": None}},
        {"source": "store_pos", "channel": "pos", "batches": 1, "rows": 1, "mapping": {"姓名": "name", "手机": None}},
    ]
    db = open_database(db_path)
    with db.cursor() as cur:
        assert cur.execute("SELECT uploaded_by FROM batches ORDER BY batch_id").fetchall() == [("ci",), (cli._default_actor(),)]
    db.close()


def test_bad_input_exits_non_zero_with_one_line(db_path, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, out, err = run(db_path, "ingest", str(empty))
    assert code != 0 and out == ""
    assert err.strip().count("\n") == 0 and err.startswith("error: empty.csv: the file is empty")
    code, _, err = run(db_path, "ingest", str(tmp_path / "missing.csv"))
    assert code != 0 and "No such file" in err


def test_duplicate_file_needs_force(db_path, tmp_path, capsys):
    f = tmp_path / "a.csv"
    f.write_text("手机\n13800138000\n", encoding="utf-8")
    assert call(db_path, capsys, "ingest", str(f))[0] == 0
    code, _, err = call(db_path, capsys, "ingest", str(f))
    assert code == 2 and "already loaded" in err and "--force" in err   # the message names the flag
    assert call(db_path, capsys, "ingest", str(f), "--force")[0] == 0


def test_users_commands(db_path, capsys):
    code, out, _ = call(db_path, capsys, "users", "add", "bob", "--role", "analyst", "--name", "Bob")
    assert code == 0 and "Password for bob" in out
    assert call(db_path, capsys, "users", "set-role", "bob", "steward")[0] == 0
    assert call(db_path, capsys, "users", "disable", "bob")[0] == 0
    code, out, _ = call(db_path, capsys, "users", "list")
    assert "bob" in out and "steward" in out and "True" in out
    code, _, err = call(db_path, capsys, "users", "set-role", "nobody", "admin")
    assert code == 2 and "No user named 'nobody'" in err


def test_audit_verify_exit_codes(db_path, capsys):
    call(db_path, capsys, "users", "add", "bob", "--role", "analyst")
    assert call(db_path, capsys, "audit", "verify")[0] == 0
    db = open_database(db_path)
    with db.transaction() as cur:
        cur.execute("UPDATE audit_log SET detail = 'x'")
    db.close()
    code, _, err = call(db_path, capsys, "audit", "verify")
    assert code == 1 and "broken" in err


def test_resolve_review_and_export_crosswalk(db_path, tmp_path, capsys):
    f = tmp_path / "crm.csv"
    f.write_text("姓名,手机,身份证\n张伟,13912345678,11010519491231002X\nZhang Wei,13912345678,\n王芳,13912345678,\n",
                 encoding="utf-8")
    assert call(db_path, capsys, "ingest", str(f), "--channel", "crm")[0] == 0
    code, out, _ = call(db_path, capsys, "resolve", "--json", "--no-model")
    summary = json.loads(out)
    assert code == 0 and summary["records"] == 3 and summary["clusters"] == 2 and "rules" in summary["timings"]
    assert summary["golden_records"] == 2
    assert call(db_path, capsys, "review", "reject", "1:1", "1:2", "--actor", "alice")[0] == 0
    assert json.loads(call(db_path, capsys, "resolve", "--json", "--no-model")[1])["clusters"] == 3
    out_file = tmp_path / "xwalk.csv"
    code, _, _ = call(db_path, capsys, "export", "crosswalk", "--out", str(out_file))
    text = out_file.read_text(encoding="utf-8-sig")
    assert code == 0 and text.splitlines()[0].startswith("source,row_number,oneid,placed_by") and len(text.splitlines()) == 4
    code, _, err = call(db_path, capsys, "export", "crosswalk", "--out", str(out_file), "--unmasked")
    assert code == 2 and "--purpose" in err
    code, _, err = call(db_path, capsys, "export", "crosswalk", "--out", str(out_file), "--unmasked", "--purpose", "x",
                        "--force")
    assert code == 2 and "--actor USER" in err   # the CLI's own actor is no user


def test_review_queue_bulk_decisions(db_path, tmp_path, capsys):
    from helpers import load_generated

    db = open_database(db_path)
    load_generated(db, tmp_path / "w", 300, seed=3)
    with db.cursor() as cur:
        band = cur.execute("SELECT count(*) FROM match_pairs WHERE band = 'review' AND match_probability < 0.9").fetchone()[0]
    db.close()
    assert band > 0
    code, out, _ = call(db_path, capsys, "review", "list", "--limit", "3")
    assert code == 0 and "record_l" in out and "fuses_oneids" in out and len(out.splitlines()) == 4
    code, out, _ = call(db_path, capsys, "review", "bulk", "reject", "--low", "0", "--high", "0.9", "--dry-run")
    assert code == 0 and out.startswith(f"reject {band} undecided pairs")
    assert call(db_path, capsys, "review", "decisions")[1].strip() == "nothing to show"  # a dry run decides nothing
    code, out, _ = call(db_path, capsys, "review", "bulk", "reject", "--low", "0", "--high", "0.9", "--actor", "alice")
    assert code == 0 and f"decided {band} pairs" in out
    code, out, _ = call(db_path, capsys, "review", "decisions", "--limit", "2")
    assert code == 0 and "reject" in out and "alice" in out and len(out.splitlines()) == 3


def test_golden_rules_overrides_and_refresh(db_path, tmp_path, capsys):
    f = tmp_path / "crm.csv"
    f.write_text("姓名,手机,邮箱\n张伟,13912345678,a@qq.com\n张伟,13912345678,zhangwei@163.com\n", encoding="utf-8")
    assert call(db_path, capsys, "ingest", str(f), "--channel", "crm")[0] == 0
    summary = json.loads(call(db_path, capsys, "resolve", "--json", "--no-model")[1])
    assert summary["golden_records"] == 1 and summary["golden_mode"] == "full"
    code, out, _ = call(db_path, capsys, "golden", "rules")
    assert code == 0 and "name\tsource_priority\tv0" in out
    code, out, _ = call(db_path, capsys, "golden", "set-rule", "email", "most_complete", "--comment", "longest", "--actor", "alice")
    assert code == 0 and "version 1" in out
    assert call(db_path, capsys, "golden", "set-rule", "name", "source_priority", "--priority", "crm,nowhere")[0] == 2
    db = open_database(db_path)
    with db.cursor() as cur:
        oneid, email = cur.execute("SELECT oneid, email FROM golden_records").fetchone()
    db.close()
    assert email == "zhangwei@163.com"
    code, out, _ = call(db_path, capsys, "golden", "override", oneid, "name", "张 卫", "--reason", "ID card check",
                        "--actor", "alice")
    assert code == 0 and out.strip() == "override 1"
    code, out, _ = call(db_path, capsys, "golden", "overrides")
    assert "ID card check" in out and "张卫" not in out
    assert json.loads(call(db_path, capsys, "golden", "refresh", "--json")[1])["mode"] == "incremental"
    assert call(db_path, capsys, "golden", "remove-override", "1", "--reason", "undo", "--actor", "alice")[0] == 0
    assert call(db_path, capsys, "golden", "remove-override", "1", "--reason", "again")[0] == 2


def test_resolve_takes_one_way_to_get_its_model(db_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--db", str(db_path), "resolve", "--retrain", "--no-model"])
    assert stop.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_resolve_saves_the_model_it_scored_with_for_a_later_run(db_path, tmp_path, capsys):
    from helpers import SAVED_MODEL, load_generated

    db = open_database(db_path)
    load_generated(db, tmp_path / "w", 150, seed=3, resolve=False)
    db.close()
    given, saved = tmp_path / "given.json", tmp_path / "saved.json"
    given.write_text(SAVED_MODEL, encoding="utf-8")
    assert call(db_path, capsys, "resolve", "--model", str(given), "--save-model", str(saved))[0] == 0
    first = json.loads(saved.read_text(encoding="utf-8"))
    names = [c["output_column_name"] for c in first["comparisons"]]
    assert names == [c["output_column_name"] for c in json.loads(SAVED_MODEL)["comparisons"]]

    def crosswalk() -> list:
        with open_database(db_path).cursor() as cur:
            return cur.execute("SELECT rec_id, oneid FROM crosswalk ORDER BY rec_id").fetchall()

    before = crosswalk()
    assert call(db_path, capsys, "resolve", "--model", str(saved))[0] == 0
    assert crosswalk() == before
    code, _, err = call(db_path, capsys, "resolve", "--no-model", "--save-model", str(tmp_path / "none.json"))
    assert code == 2 and "no model to save" in err and len(err.strip().splitlines()) == 1


def test_resolve_says_how_it_ran_and_checks_the_engine_options(db_path, tmp_path, capsys):
    from helpers import SAVED_MODEL, load_generated

    db = open_database(db_path)
    load_generated(db, tmp_path / "w", 60, seed=3, resolve=False)
    db.close()
    given = tmp_path / "given.json"
    given.write_text(SAVED_MODEL, encoding="utf-8")
    assert "resolve (full: the first run that keeps its links)" in call(db_path, capsys, "resolve", "--model", str(given))[1]
    assert "resolve (incremental: 0 records clustered again)" in call(db_path, capsys, "resolve")[1]
    assert "resolve (full: asked for (--full))" in call(db_path, capsys, "resolve", "--full")[1]
    for args, message in ((["--spark-master", "local[2]"], "apply only with --engine spark"),
                          (["--engine", "spark", "--spark-conf", "executor-memory"], "A Spark setting is key=value")):
        code, _, err = call(db_path, capsys, "resolve", *args)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_review_thresholds_recommends_from_decisions_and_applies(db_path, tmp_path, capsys):
    from helpers import load_generated

    db = open_database(db_path)
    load_generated(db, tmp_path / "w", 300, seed=7)
    db.close()
    code, out, _ = call(db_path, capsys, "review", "thresholds", "--apply", "--actor", "alice")
    assert code == 0 and "too few decisions" in out and "auto-accept 0.99" in out
    assert out.rstrip().endswith("nothing applied: too few decisions")
    db = open_database(db_path)
    with db.transaction() as cur:  # 60 approved labels in each of the bands 0.95 and 0.90
        for i in range(120):
            rec_l, rec_r = 10**15 + 2 * i, 10**15 + 2 * i + 1
            cur.execute("INSERT INTO match_pairs VALUES ((SELECT max(run_id) FROM oneid_runs), ?, ?, ?, 0.0, 'review', NULL, false)",
                        [rec_l, rec_r, 0.96 if i < 60 else 0.91])
            cur.execute("INSERT INTO review_decisions VALUES (nextval('decision_seq'), ?, ?, 'approve', 'alice', now(), "
                        "NULL, NULL, NULL)", [rec_l, rec_r])
    db.close()
    code, out, _ = call(db_path, capsys, "review", "thresholds", "--json")
    report = json.loads(out)
    assert code == 0 and report["recommended"] == {"auto_accept": 0.9, "review_low": 0.6}
    assert {b["low"]: b["labels"] for b in report["bands"]} == {0.9: 60, 0.95: 60} and report["held"] == 0
    db = open_database(db_path)
    with db.transaction() as cur:  # a band of labels the guards hold back alone: no precision, and valid JSON
        cur.execute("INSERT INTO match_pairs VALUES ((SELECT max(run_id) FROM oneid_runs), 7, 8, 0.71, 0.0, 'review', "
                    "NULL, true)")
        cur.execute("INSERT INTO review_decisions VALUES (nextval('decision_seq'), 7, 8, 'reject', 'alice', now(), "
                    "NULL, NULL, NULL)")
    db.close()
    code, out, _ = call(db_path, capsys, "review", "thresholds", "--json")
    report = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert [(b["labels"], b["held"], b["precision"]) for b in report["bands"] if b["low"] == 0.7] == [(0, 1, None)]
    code, out, _ = call(db_path, capsys, "review", "thresholds", "--apply", "--json", "--actor", "alice")
    report = json.loads(out)
    assert code == 0 and report["applied"]["oneids"] > 0 and report["skipped"] is None
    db = open_database(db_path)
    with db.cursor() as cur:
        assert cur.execute("SELECT auto_accept, review_low FROM oneid_models ORDER BY run_id DESC LIMIT 1").fetchone() == (0.9, 0.6)
        assert cur.execute("SELECT actor FROM audit_log WHERE action = 'oneid.thresholds_apply'").fetchall() == [("alice",)]
    db.close()


def test_an_output_never_replaces_the_store_its_wal_or_the_secrets_and_needs_force_over_a_file(db_path, tmp_path, capsys,
                                                                                             monkeypatch):
    from governance.access.audit import anchor_path
    from governance.store.config import secrets_path

    assert call(db_path, capsys, "init", "--no-demo")[0] == 0
    store_bytes = db_path.read_bytes()
    secrets = secrets_path()
    for target in (db_path, Path(f"{db_path}.wal"), secrets, anchor_path(db_path.resolve())):
        for command in (["export", "crosswalk"], ["ropa"]):
            code, _, err = call(db_path, capsys, *command, "--out", str(target), "--force")
            assert code != 0 and "Steward's" in err and len(err.strip().splitlines()) == 1, (command, target, err)
    assert db_path.read_bytes() == store_bytes and call(db_path, capsys, "sources", "--json")[0] == 0
    f = tmp_path / "crm.csv"
    f.write_text("姓名,手机\n张伟,13912345678\n", encoding="utf-8")
    assert call(db_path, capsys, "ingest", str(f))[0] == 0 and call(db_path, capsys, "resolve", "--no-model")[0] == 0
    existing = tmp_path / "report.csv"
    existing.write_text("keep me", encoding="utf-8")
    code, _, err = call(db_path, capsys, "export", "crosswalk", "--out", str(existing))
    assert code != 0 and "--force" in err and existing.read_text(encoding="utf-8") == "keep me"
    code, _, err = call(db_path, capsys, "ropa", "--out", str(existing))
    assert code != 0 and existing.read_text(encoding="utf-8") == "keep me"
    code, _, err = call(db_path, capsys, "export", "crosswalk", "--out", str(existing), "--force")
    assert code == 0, err
    assert existing.read_text(encoding="utf-8-sig").startswith("source,row_number,oneid")
    code, _, err = call(db_path, capsys, "export", "crosswalk", "--out", str(tmp_path))
    assert code != 0 and "folder" in err


@pytest.mark.parametrize("left, right, message", [
    ("1:x", "1:2", "BATCH:ROW"), ("99999999999999:1", "1:1", "BATCH:ROW"), ("1:1", "1:1", "itself"),
    ("999:1", "999:2", "no record 999:1"), ("1:1", "1:9", "no record 1:9"),
])
def test_review_refuses_malformed_missing_and_self_pairs_in_one_line(db_path, tmp_path, capsys, left, right, message):
    f = tmp_path / "crm.csv"
    f.write_text("姓名,手机\n张伟,13912345678\n王芳,13812345678\n", encoding="utf-8")
    assert call(db_path, capsys, "ingest", str(f))[0] == 0
    code, _, err = call(db_path, capsys, "review", "approve", left, right, "--actor", "alice")
    assert code != 0 and message in err and len(err.strip().splitlines()) == 1, err
    assert call(db_path, capsys, "review", "decisions")[1].strip() == "nothing to show"


def test_an_unexpected_failure_is_one_line_with_an_incident_and_a_private_log(db_path, capsys, monkeypatch):
    assert call(db_path, capsys, "init", "--no-demo")[0] == 0

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret detail 13912345678")

    monkeypatch.setattr(cli.catalogue, "as_json", broken)
    code, out, err = call(db_path, capsys, "sources")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "incident" in err and "13912345678" not in err
    incident = err.split("incident ")[1].split(";")[0]
    log = db_path.parent / "incidents.log"
    assert f"incident {incident}" in log.read_text(encoding="utf-8") and "13912345678" in log.read_text(encoding="utf-8")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_the_store_its_folder_and_an_export_are_private(tmp_path, capsys):
    db_path = tmp_path / "new-folder" / "store.duckdb"
    assert call(db_path, capsys, "init", "--no-demo")[0] == 0
    f = tmp_path / "crm.csv"
    f.write_text("姓名,手机\n张伟,13912345678\n", encoding="utf-8")
    assert call(db_path, capsys, "ingest", str(f))[0] == 0 and call(db_path, capsys, "resolve", "--no-model")[0] == 0
    out = tmp_path / "exports" / "x.csv"
    assert call(db_path, capsys, "export", "crosswalk", "--out", str(out))[0] == 0
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in (db_path, out, Path(f"{out}.manifest.json"))}
    assert set(modes.values()) == {0o600}, modes
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == stat.S_IMODE(out.parent.stat().st_mode) == 0o700


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("name, text, args, message", [
    ("deep.json", DEEP, ("--channel", "crm"), "deep.json: the JSON is nested too deeply"),
    ("deep.jsonl", '{"a": ' + DEEP + "}\n", ("--channel", "crm"), "deep.jsonl: line 1: the JSON is nested too deeply"),
    ("people.csv", "手机号\n13800138000\n", ("--mapping", "{mapping}"), "Cannot read the mapping file"),
])
def test_deep_json_and_an_invalid_mapping_file_are_one_line(db_path, tmp_path, capsys, name, text, args, message):
    (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "mapping.json").write_text("{not json", encoding="utf-8")
    args = tuple(a.format(mapping=tmp_path / "mapping.json") for a in args)
    code, out, err = call(db_path, capsys, "ingest", str(tmp_path / name), *args)
    assert (code, out) == (2, "") and err.count("\n") == 1 and err.startswith("error: ") and message in err


@pytest.mark.parametrize("text, message", [("{not json", "Expecting property name"), (DEEP, "nested too deeply"),
                                           ('["a"]', "must hold a JSON object")])
def test_mapping_set_refuses_a_bad_file_in_one_line(db_path, tmp_path, capsys, text, message):
    (tmp_path / "people.csv").write_text("手机号\n13800138000\n", encoding="utf-8")
    assert call(db_path, capsys, "ingest", str(tmp_path / "people.csv"), "--channel", "crm")[0] == 0
    (tmp_path / "mapping.json").write_text(text, encoding="utf-8")
    code, out, err = call(db_path, capsys, "mapping", "set", "people", str(tmp_path / "mapping.json"))
    assert (code, out) == (2, "") and err.count("\n") == 1 and message in err


def test_a_one_megabyte_header_is_stored_whole_but_summarized_short(db_path, tmp_path, capsys):
    header = "a" * 1_000_000
    (tmp_path / "wide.csv").write_text(f"name,{header}\nzhang,x\n", encoding="utf-8")
    code, out, err = call(db_path, capsys, "ingest", str(tmp_path / "wide.csv"), "--channel", "crm")
    assert code == 0 and len(out) < 2_000, err
    [change] = json.loads(out)["renamed_headers"]
    assert change["raw"].endswith("… (1,000,000 characters)")
    with open_database(db_path).cursor() as cur:
        assert cur.execute("SELECT max(length(header_raw)) FROM batch_columns").fetchone() == (1_000_000,)


def test_incidents_older_than_their_keep_are_dropped_when_one_is_logged(tmp_path):
    """A traceback may hold personal data: the incident log keeps 30 days of them."""
    from datetime import datetime, timedelta, timezone

    from governance.store.errors import INCIDENT_KEEP_DAYS, log_incident

    log = tmp_path / "incidents.log"
    old = (datetime.now(timezone.utc) - timedelta(days=INCIDENT_KEEP_DAYS + 1)).isoformat(timespec="seconds")
    recent = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat(timespec="seconds")
    log.write_text(f"--- incident aaaa1111 at {old}\nValueError: 13812345678\n\n"
                   f"--- incident bbbb2222 at {recent}\nValueError: other\n\n", encoding="utf-8")
    incident, path = log_incident(RuntimeError("new"), tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "aaaa1111" not in text and "13812345678" not in text
    assert "bbbb2222" in text and f"incident {incident}" in text and (path.stat().st_mode & 0o777) == 0o600


def test_mapping_show_explain_puts_the_least_certain_columns_first(db_path, tmp_path, capsys):
    (tmp_path / "calls.csv").write_text("手机号,坐席姓名,客户称呼,备注\n13800138000,李娜,王先生,回访\n13912345678,周杰,李女士,\n",
                                        encoding="utf-8")
    assert call(db_path, capsys, "ingest", str(tmp_path / "calls.csv"), "--channel", "other")[0] == 0
    code, out, _ = call(db_path, capsys, "mapping", "show", "calls", "--explain")
    lines = [line.split("\t") for line in out.splitlines()]
    assert code == 0 and lines == [["客户称呼", "name", "0.75", "synonym"], ["手机号", "mobile", "0.95", "synonym"],
                                   ["坐席姓名", "-", "", "none"], ["备注", "-", "", "none"]]
