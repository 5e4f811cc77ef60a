"""`python -m governance tags …`: the library's commands (list, show, add, submit, approve, reject,
deprecate, retire, versions, reviews, diff)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance import cli
from governance.access import auth
from governance.store.storage import open_database

PASSWORD = "password-123456"
DEFINITION = {"code": "big_spender", "name_zh": "大额消费客户", "name_en": "Big spenders", "category": "value",
              "value_type": "boolean", "technical_definition": {"when": {"event": "spend", "days": 365, "gte": 5000}},
              "business_definition": "近一年消费满 5000 元", "sensitivity": "personal", "refresh_cadence": "daily",
              "status": "published", "version": 9}


def store(path: Path) -> Path:
    database = open_database(path)
    for name, role in (("s1", "steward"), ("s2", "steward"), ("ana", "analyst")):
        auth.create_user(database, "test", name, PASSWORD, role)
    database.close()
    return path


@pytest.fixture
def db_path(tmp_path):
    return store(tmp_path / "tags.duckdb")


def call(db_path: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--db", str(db_path), *args])
    out = capsys.readouterr()
    open_database(db_path).close()  # let the next call open it afresh
    return code, out.out, out.err


def write(path: Path, data: dict) -> str:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_add_ignores_status_and_version_and_the_lifecycle_runs_with_four_eyes(db_path, tmp_path, capsys):
    code, out, _ = call(db_path, capsys, "tags", "add", "--file", write(tmp_path / "d.json", DEFINITION), "--actor", "s1")
    assert code == 0 and "big_spender: version 1 saved as a draft" in out
    code, out, _ = call(db_path, capsys, "tags", "show", "big_spender", "--json")
    shown = json.loads(out)
    assert (shown["status"], shown["version"], shown["owner"]) == ("draft", 1, "s1")
    assert call(db_path, capsys, "tags", "submit", "big_spender", "--actor", "s1")[0] == 0
    code, _, err = call(db_path, capsys, "tags", "approve", "big_spender", "--comment", "mine", "--actor", "s1")
    assert code == 2 and "Four eyes" in err and err.count("\n") == 1
    with pytest.raises(SystemExit):  # argparse: the comment is required
        cli.main(["--db", str(db_path), "tags", "approve", "big_spender", "--actor", "s2"])
    assert "required: --comment" in capsys.readouterr().err
    code, out, _ = call(db_path, capsys, "tags", "approve", "big_spender", "--comment", "checked", "--actor", "s2")
    assert code == 0 and "version 1 approved and published" in out
    code, out, _ = call(db_path, capsys, "tags", "reviews", "big_spender", "--json")
    assert [(r["action"], r["actor"], r["comment"]) for r in json.loads(out)] == [("approve", "s2", "checked"),
                                                                                 ("submit", "s1", None)]
    assert call(db_path, capsys, "tags", "deprecate", "big_spender", "--actor", "s2")[0] == 0
    code, out, _ = call(db_path, capsys, "tags", "retire", "big_spender", "--comment", "gone", "--actor", "s2")
    assert code == 0 and "retired" in out
    code, out, _ = call(db_path, capsys, "tags", "show", "big_spender")
    assert code == 0 and "big_spender  version 1  retired" in out and "大额消费客户 / Big spenders" in out


def test_show_json_round_trips_through_add_file(db_path, tmp_path, capsys):
    call(db_path, capsys, "tags", "add", "--file", write(tmp_path / "d.json", {
        **DEFINITION, "code": "spend_band", "value_type": "enum", "name_zh": "消费档位", "name_en": "Spend band",
        "allowed_values": [{"code": "high", "zh": "高", "en": "high"}, {"code": "low", "zh": "低", "en": "low"}],
        "technical_definition": {"cases": [{"value": "high", "when": {"event": "spend", "days": 365, "gte": 5000}}],
                                 "else": "low"}}), "--actor", "s1")
    call(db_path, capsys, "tags", "submit", "spend_band", "--actor", "s1")
    call(db_path, capsys, "tags", "approve", "spend_band", "--comment", "ok", "--actor", "s2")
    code, out, _ = call(db_path, capsys, "tags", "show", "spend_band", "--json")
    original = json.loads(out)
    assert code == 0 and original["status"] == "published"
    other = store(tmp_path / "other.duckdb")  # another store reads it back as a new draft
    code, out, _ = call(other, capsys, "tags", "add", "--file", write(tmp_path / "shown.json", original), "--actor", "s2")
    assert code == 0 and "version 1 saved as a draft" in out
    again = json.loads(call(other, capsys, "tags", "show", "spend_band", "--json")[1])
    strip = ("status", "version")
    assert {k: v for k, v in again.items() if k not in strip} == {k: v for k, v in original.items() if k not in strip}
    # the same file with a change is the next version; diff names what changed
    changed = {**original, "name_zh": "消费等级", "technical_definition": {**original["technical_definition"], "else": None}}
    code, _, err = call(db_path, capsys, "tags", "add", "--file", write(tmp_path / "v2.json", changed), "--actor", "s1")
    assert code == 2 and "needs a reason" in err
    code, out, _ = call(db_path, capsys, "tags", "add", "--file", write(tmp_path / "v2.json", changed),
                        "--reason", "rename", "--actor", "s1")
    assert code == 0 and "version 2 saved as a draft" in out
    code, out, _ = call(db_path, capsys, "tags", "diff", "spend_band", "1", "2", "--json")
    assert [c["field"] for c in json.loads(out)] == ["name_zh", "technical_definition"]
    code, out, _ = call(db_path, capsys, "tags", "diff", "spend_band", "1", "2")
    assert "name_zh:\n  - 消费档位\n  + 消费等级" in out
    code, out, _ = call(db_path, capsys, "tags", "versions", "spend_band", "--json")
    assert [(v["version"], v["status"], v["reason"]) for v in json.loads(out)] == [(2, "draft", "rename"),
                                                                                   (1, "published", None)]


def test_list_shows_builtins_and_hides_sensitive_tags_from_analysts(db_path, tmp_path, capsys):
    call(db_path, capsys, "tags", "add", "--file", write(tmp_path / "d.json", {
        **DEFINITION, "code": "health_interest", "name_zh": "健康关注", "name_en": "Health interest",
        "sensitivity": "sensitive"}), "--actor", "s1")
    code, out, _ = call(db_path, capsys, "tags", "list", "--json")
    listed = {r["code"]: r for r in json.loads(out)}
    assert code == 0 and len(listed) == 11 and listed["rfm_segment"]["status"] == "published"
    assert listed["health_interest"]["computed_version"] is None and listed["rfm_segment"]["computed_version"] == 1
    code, out, _ = call(db_path, capsys, "tags", "list", "--json", "--role", "analyst")
    assert "health_interest" not in {r["code"] for r in json.loads(out)}
    code, out, _ = call(db_path, capsys, "tags", "list")
    assert "lifecycle_stage" in out and "health_interest" in out


@pytest.mark.parametrize("args, message", [
    (("tags", "submit", "big_spender", "--actor", "nobody"), "pass --actor USER"),
    (("tags", "show", "nope"), "No tag 'nope'."),
    (("tags", "add", "--file", "/no/such.json", "--actor", "s1"), "Cannot read the tag definition file /no/such.json"),
])
def test_bad_input_is_one_line(db_path, capsys, args, message):
    code, _, err = call(db_path, capsys, *args)
    assert code == 2 and message in err and err.count("\n") == 1


def test_a_code_off_the_pattern_is_refused_in_one_line(db_path, tmp_path, capsys):
    code, _, err = call(db_path, capsys, "tags", "add", "--file", write(tmp_path / "d.json", {**DEFINITION, "code": "BigSpender"}),
                        "--actor", "s1")
    assert code == 2 and "must be lower snake case" in err
