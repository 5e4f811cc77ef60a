"""Input a second tester found the CLI did not expect: each gets one line and exit status 2, stores
nothing half-done and records no incident; an output never replaces a file it should not."""
from __future__ import annotations

import json
import os

import pytest

from governance import cli
from governance.golden import survivorship
from helpers import SAVED_MODEL, load_generated


@pytest.fixture
def store(db, tmp_path):
    load_generated(db, tmp_path / "d", 60, seed=3)
    survivorship.build_golden(db)
    return db


def run(db, capsys, *args: str) -> tuple[int, str]:
    """Exit status and stderr of `python -m governance --db DB ARGS` run in process (argparse's
    refusals end in SystemExit)."""
    try:
        code = cli.main(["--db", str(db.path), *args])
    except SystemExit as stop:
        code = int(stop.code or 0)
    return code, capsys.readouterr().err


def incidents(db) -> bool:
    return (db.path.parent / "incidents.log").exists()


def test_save_model_never_replaces_the_store_nor_a_file_without_force(store, capsys, tmp_path):
    size = store.path.stat().st_size
    code, err = run(store, capsys, "resolve", "--save-model", str(store.path))
    assert code == 2 and "is Steward's store" in err and store.path.stat().st_size == size
    taken = tmp_path / "taken.json"
    taken.write_text("mine", encoding="utf-8")
    code, err = run(store, capsys, "resolve", "--save-model", str(taken))
    assert code == 2 and "add --force" in err and taken.read_text(encoding="utf-8") == "mine"
    code, _ = run(store, capsys, "resolve", "--save-model", str(taken), "--force")
    assert code == 0 and "comparisons" in json.loads(taken.read_text(encoding="utf-8"))
    assert (taken.stat().st_mode & 0o077) == 0 and not incidents(store)


def test_an_access_package_goes_only_to_a_new_or_empty_folder(store, capsys, tmp_path):
    with store.cursor() as cur:
        first, second = (r[0] for r in cur.execute("SELECT oneid FROM golden_records ORDER BY oneid LIMIT 2").fetchall())
        requests = cur.execute("SELECT count(*) FROM dsr_requests").fetchone()[0]
    out = tmp_path / "package"
    assert run(store, capsys, "dsr", "access", "--oneid", first, "--out", str(out))[0] == 0
    code, err = run(store, capsys, "dsr", "access", "--oneid", second, "--out", str(out))
    assert code == 2 and "is not empty" in err
    code, err = run(store, capsys, "dsr", "access", "--oneid", second, "--out", str(store.path))
    assert code == 2 and "is Steward's store" in err
    with store.cursor() as cur:  # a refused output records no request
        assert cur.execute("SELECT count(*) FROM dsr_requests").fetchone()[0] == requests + 1
    assert json.loads((out / "package.json").read_text(encoding="utf-8"))["oneids"] == [first]


@pytest.mark.parametrize("args,says", [
    (("review", "list", "--limit", "-1"), "below 0"),
    (("review", "decisions", "--limit", "-1"), "below 0"),
    (("consent", "list", "--limit", "-1"), "below 0"),
    (("dsr", "create", "--type", "access", "--requester", "X", "--received", "2025-02-30"), "not a date"),
    (("retention", "set", "source", "{source}", "99999999999"), "from 1 to 36,500"),
    (("retention", "set", "purpose", "bogus", "30"), "No consent purpose named 'bogus'"),
    (("mapping", "set", "{source}", "{bad_mapping}"), "to a field name or null"),
    (("resolve", "--model", "{empty_model}"), "is not a OneID model"),
    (("mapping", "show", "nosuch"), "No source named 'nosuch'"),
    (("mapping", "set", "{source}", "{typo_mapping}"), "has no column 'mobiel'"),
    (("dsr", "purge", "12345"), "No tombstone 12345"),
    (("export", "golden", "--out", "{out}", "--filter", "min_completeness=5"), "between 0 and 1"),
])
def test_bad_input_is_one_line_not_an_incident(store, capsys, tmp_path, args, says):
    bad_mapping, empty_model, typo = tmp_path / "mapping.json", tmp_path / "model.json", tmp_path / "typo.json"
    with store.cursor() as cur:
        source, column = cur.execute("SELECT source, header FROM batches JOIN batch_columns USING (batch_id) "
                                     "ORDER BY batch_id, position LIMIT 1").fetchone()
        runs = cur.execute("SELECT count(*) FROM oneid_runs").fetchone()[0]
    bad_mapping.write_text(json.dumps({column: {"a": 1}}), encoding="utf-8")
    typo.write_text(json.dumps({"mobiel": "mobile"}), encoding="utf-8")
    empty_model.write_text("{}", encoding="utf-8")
    values = {"source": source, "bad_mapping": str(bad_mapping), "empty_model": str(empty_model),
              "typo_mapping": str(typo), "out": str(tmp_path / "golden.csv")}
    code, err = run(store, capsys, *(a.format(**values) for a in args))
    assert code == 2 and says in err and "Traceback" not in err and not incidents(store), err
    with store.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM oneid_runs").fetchone()[0] == runs


def test_a_store_path_that_is_another_file_is_refused_and_left_as_it_was(tmp_path, capsys):
    other = tmp_path / "notes.txt"
    other.write_text("not a store\n", encoding="utf-8")
    os.chmod(other, 0o644)
    code = cli.main(["--db", str(other), "sources"])
    assert code == 2 and "is not a Steward store" in capsys.readouterr().err
    assert other.read_text(encoding="utf-8") == "not a store\n" and (other.stat().st_mode & 0o777) == 0o644


def test_the_saved_model_fixture_passes_the_model_check():
    assert cli._is_model(SAVED_MODEL) and not cli._is_model("{}") and not cli._is_model("[1]")


def test_an_ingest_mapping_naming_a_column_the_file_lacks_is_refused(db, capsys, tmp_path):
    path, chosen = tmp_path / "members.csv", tmp_path / "mapping.json"
    path.write_text("姓名,手机\n张三,13800138000\n", encoding="utf-8")
    chosen.write_text(json.dumps({"姓名": "name", "手机号码": "mobile"}), encoding="utf-8")
    code, err = run(db, capsys, "ingest", str(path), "--mapping", str(chosen))
    assert code == 2 and "has no column '手机号码'; its columns are 姓名, 手机." in err
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM batches").fetchone()[0] == 0
