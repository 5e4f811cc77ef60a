"""`python -m governance audiences …`: create, list, show, count (--json), snapshot, overlap, and bad input
as a one-line error without a traceback."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance import cli, pipeline
from governance.access import auth
from governance.store.storage import open_database

CRM = ("会员卡号,姓名,手机号,营销同意,出生日期,省份\n"
       "M1,张伟,13867541230,是,1990-01-01,广东省\n"
       "M2,李娜,13912345678,否,1991-02-02,广东省\n"
       "M3,王芳,13512345678,,1985-03-03,广东省\n"
       "M4,赵小明,13611112222,是,2016-05-05,广东省\n"
       "M6,孙丽,,是,1988-08-08,广东省\n"
       "M7,周强,13733334444,是,1980-01-01,浙江省\n")
GD = {"field": "province", "eq": "广东省"}


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "aud.duckdb"
    db = open_database(path)
    (tmp_path / "crm.csv").write_text(CRM, encoding="utf-8")
    pipeline.load_file(db, "t", tmp_path / "crm.csv", source="crm", channel="crm")
    for user, role in (("s1", "steward"), ("ana", "analyst")):
        auth.create_user(db, "t", user, "a long enough password", role)
    pipeline.resolve(db, "t", use_model=False)
    db.close()
    return path


def call(db_path: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--db", str(db_path), *args])
    out = capsys.readouterr()
    open_database(db_path).close()
    return code, out.out, out.err


def write(path: Path, data) -> str:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_round_trip(db_path, tmp_path, capsys):
    rule = write(tmp_path / "gd.json", GD)
    code, out, _ = call(db_path, capsys, "audiences", "create", "gd", "--rule", rule, "--purpose", "marketing",
                        "--actor", "s1")
    assert code == 0 and "saved gd version 1 (dynamic, marketing/sms): 1 members" in out
    code, out, _ = call(db_path, capsys, "audiences", "count", "gd", "--json")
    assert code == 0 and json.loads(out) == {"members": 1, "excluded": {
        "no_consent": 1, "withdrawn": 1, "minor": 1, "erased": 0, "no_contact": 1}}
    code, out, _ = call(db_path, capsys, "audiences", "count", "--rule", rule, "--channel", "csv", "--json")
    assert code == 0 and json.loads(out)["members"] == 2 and list(json.loads(out)["excluded"]) == [
        "no_consent", "withdrawn", "minor", "erased", "no_contact"]
    code, out, _ = call(db_path, capsys, "audiences", "count", "gd")
    assert code == 0 and out.startswith("members: 1 (marketing, sms)") and "no contact 1" in out
    call(db_path, capsys, "audiences", "create", "all", "--rule", write(tmp_path / "all.json", {"field": "age", "gte": 18}),
         "--purpose", "marketing", "--channel", "csv", "--actor", "s1", "--reason", "everyone")
    code, out, _ = call(db_path, capsys, "audiences", "list", "--json")
    assert [(a["name"], a["members"]) for a in json.loads(out)] == [("all", 3), ("gd", 1)]
    code, out, _ = call(db_path, capsys, "audiences", "show", "gd", "--json")
    shown = json.loads(out)
    assert shown["rule"] == GD and [v["version"] for v in shown["versions"]] == [1]
    code, out, _ = call(db_path, capsys, "audiences", "snapshot", "all", "--actor", "s1")
    assert code == 0 and "3 members" in out
    code, out, _ = call(db_path, capsys, "audiences", "overlap", "gd", "all")
    assert code == 0 and out.strip() == "gd & all: 1 / 3, both 1, jaccard 0.333"
    code, out, _ = call(db_path, capsys, "audiences", "overlap", "gd", "all", "--json")
    assert len(json.loads(out)) == 4


@pytest.mark.parametrize("args,message", [
    (("count", "--rule", "BAD"), "The rule is not valid JSON"),
    (("count", "--rule", "SHAPE"), "Unknown field 'nope'"),
    (("count",), "Give a saved audience NAME or --rule"),
    (("count", "nobody"), "No saved audience 'nobody'"),
    (("create", "x", "--rule", "GOOD", "--purpose", "marketing", "--actor", "ana"), "ana (analyst) may not do this"),
    (("create", "x", "--rule", "MISSING", "--purpose", "marketing", "--actor", "s1"), "Cannot read the rule file"),
    (("create", "x", "--rule", "CYCLE", "--purpose", "marketing", "--actor", "s1"), "includes itself"),
    (("snapshot", "nobody", "--actor", "s1"), "No saved audience 'nobody'"),
])
def test_bad_input_is_one_line_and_a_failing_exit_code(db_path, tmp_path, capsys, args, message):
    files = {"BAD": "{not json", "SHAPE": json.dumps({"field": "nope", "eq": 1}), "GOOD": json.dumps(GD),
             "CYCLE": json.dumps({"audience": "x"})}
    for key, text in files.items():
        (tmp_path / f"{key}.json").write_text(text, encoding="utf-8")
    args = tuple(str(tmp_path / f"{a}.json") if a in (*files, "MISSING") else a for a in args)
    code, out, err = call(db_path, capsys, "audiences", *args)
    assert code != 0 and message in err
    assert err.count("\n") == 1 and "Traceback" not in err and out == ""
