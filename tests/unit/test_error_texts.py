"""Library error messages in the Chinese UI: every raise site has a catalogue template, real errors come
out in Chinese with their values, and no Chinese template keeps an English sentence."""
from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path
from string import Formatter

import pytest

from governance.access import auth
from governance.golden import survivorship
from governance.i18n import value_label
from governance.jobs import runner as jobs
from governance.privacy import dsr
from governance.quality import rules
from governance.sources import ingest, readers
from governance.store.errors import GovernanceError
from governance.ui import error_texts
from governance.ui.error_texts import CATALOGUE, FRAGMENTS, translate

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "governance"
NOT_SHOWN_IN_THE_UI = {"ui", "cli.py"}  # the UI's own code; the CLI prints the English messages

# Raise sites whose message is not a string or f-string, keyed by file and the argument's source.
SKIP = {
    ("governance/store/errors.py", "message"): "DuplicateFileError passes on its caller's f-string (ingest.py)",
    ("governance/oneid/review.py", "existing"): "AlreadyDecided(decision): its message is its __init__'s f-string",
    ("governance/quality/rules.py", "qualified"): "_RefusedCall(name): its message is its __init__'s f-string",
    ("governance/quality/rules.py", "t"): "a guard for a rule type validate() has already refused",
    ("governance/quality/rules.py", "_refusal(con, exc.name)"): "its two shapes are catalogued by hand",
    ("governance/golden/survivorship.py", "str(exc)"): "SurvivorshipRule.check's ValueErrors, catalogued by hand",
    ("governance/audiences/rules.py", "str(exc)"): "the tag condition checker's TagErrors, catalogued with the tags",
    ("governance/sources/readers.py", "_too_long_message(file_name, where, exc.size if exc.one_line else None)"):
        "its two shapes are catalogued by hand",
    ("governance/sources/readers.py", "_csv_error_message(plan, str(exc))"): "its shapes are catalogued by hand",
}


# ---------------------------------------------------------------- the raise sites' templates

def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id.lower()
    if isinstance(node, ast.Attribute):
        return node.attr.lower()
    if isinstance(node, ast.Call):
        return _name(node.args[0]) if node.args else _name(node.func)
    if isinstance(node, ast.Subscript):
        return _name(node.value)
    if isinstance(node, ast.BinOp):
        return _name(node.left)
    if isinstance(node, ast.IfExp):
        return _name(node.body)
    return "value"


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _constants(tree: ast.Module) -> dict[str, str | list[str]]:
    """A module's string constants, and its dicts of strings (their values)."""
    found: dict[str, str | list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found[node.targets[0].id] = value.value
            elif isinstance(value, ast.Dict):
                strings = [v.value for v in value.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
                if len(strings) == len(value.values):
                    found[node.targets[0].id] = strings
    return found


def _strings(node: ast.AST, constants: dict) -> list[str] | None:
    """The templates a message expression builds (one per choice of a constant dict's value or of a
    conditional's branch), or None when it is not built from strings and f-strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [_escape(node.value)]
    if isinstance(node, ast.Name) and isinstance(constants.get(node.id), str):
        return [_escape(constants[node.id])]
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
            and isinstance(constants.get(node.value.id), list):
        return [_escape(v) for v in constants[node.value.id]]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _strings(node.left, constants), _strings(node.right, constants)
        return None if left is None or right is None else [a + b for a, b in itertools.product(left, right)]
    if isinstance(node, ast.JoinedStr):
        parts: list[list[str]] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append([_escape(str(value.value))])
                continue
            assert isinstance(value, ast.FormattedValue)
            inner = value.value
            if isinstance(inner, ast.IfExp) and all(isinstance(b, ast.Constant) and isinstance(b.value, str)
                                                    for b in (inner.body, inner.orelse)):
                parts.append([_escape(str(b.value)) for b in (inner.body, inner.orelse) if isinstance(b, ast.Constant)])
            elif isinstance(inner, ast.Name) and isinstance(constants.get(inner.id), str):
                parts.append([_escape(constants[inner.id])])
            else:
                conversion = "!r" if value.conversion == ord("r") else ""
                parts.append(["{" + _name(inner) + conversion + "}"])
        return ["".join(p) for p in itertools.product(*parts)]
    return None


def _error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    bases = {node.name: [_name(b) for b in node.bases]
             for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    found = {"governanceerror"}
    while more := {n.lower() for n, b in bases.items() if set(b) & found} - found:
        found |= more
    return found - {"storebusyerror"}  # the UI shows its own busy message


def raise_sites() -> list[tuple[str, str, list[str] | None]]:
    """(file, the message's source, its templates or None) for every `raise <GovernanceError>(message)`
    and every GovernanceError subclass's `super().__init__(message)` outside the UI and the CLI."""
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(LIBRARY.rglob("*.py"))
             if p.relative_to(LIBRARY).parts[0] not in NOT_SHOWN_IN_THE_UI}
    classes = _error_classes(trees)
    sites = []
    for path, tree in trees.items():
        constants, where = _constants(tree), str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            messages: list[ast.expr] = []
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args \
                    and _name(node.exc.func) in classes:
                messages.append(node.exc.args[0])
            elif isinstance(node, ast.ClassDef) and node.name.lower() in classes:
                messages += [c.args[0] for c in ast.walk(node) if isinstance(c, ast.Call) and c.args
                             and isinstance(c.func, ast.Attribute) and c.func.attr == "__init__"]
            sites += [(where, ast.unparse(m), _strings(m, constants)) for m in messages]
    return sites


def shape(template: str) -> tuple:
    """A template without its placeholders' names: what the catalogue and a raise site must agree on."""
    return tuple((literal, None if name is None else conversion) for literal, name, _, conversion in
                 Formatter().parse(template))


def test_every_raise_site_has_a_catalogue_template():
    sites = raise_sites()
    assert len(sites) > 150  # the walk finds the library's raise sites
    catalogued = {shape(en) for en in CATALOGUE}
    missing = sorted({t for where, _, templates in sites for t in templates or () if shape(t) not in catalogued})
    assert not missing, "no catalogue entry in governance/ui/error_texts.py for:\n" + "\n".join(missing)
    untemplated = {(where, source) for where, source, templates in sites if templates is None}
    assert untemplated <= set(SKIP), f"messages the walk cannot template, not in SKIP: {untemplated - set(SKIP)}"
    assert set(SKIP) <= untemplated, f"SKIP entries no raise site has any more: {set(SKIP) - untemplated}"


def test_the_walk_templates_f_strings_and_constants():
    tree = ast.parse('P = "Rule: "\nR = {"A": "a is bad", "B": "b is bad"}\n'
                     'x = f"The field {f!r} is mapped {n:,} times {\'now\' if k else \'then\'}."\n'
                     'y = P + R[k] + "."\n')
    constants = _constants(tree)
    x, y = (stmt.value for stmt in tree.body[2:] if isinstance(stmt, ast.Assign))
    assert _strings(x, constants) == ["The field {f!r} is mapped {n} times now.", "The field {f!r} is mapped {n} times then."]
    assert _strings(y, constants) == ["Rule: a is bad.", "Rule: b is bad."]
    assert shape("The field {field!r} is mapped twice.") == shape("The field {f!r} is mapped twice.")
    assert shape("The field {f!r} is mapped twice.") != shape("The field {f} is mapped twice.")


# ---------------------------------------------------------------- the catalogue itself

@pytest.mark.parametrize("table", [CATALOGUE, FRAGMENTS], ids=["catalogue", "fragments"])
def test_chinese_templates_use_the_english_templates_placeholders(table):
    for en, zh in table.items():
        names_en = {name for _, name, _, _ in Formatter().parse(en) if name is not None}
        names_zh = {name for _, name, _, conversion in Formatter().parse(zh) if name is not None}
        assert names_zh == names_en, en
        assert zh.format(**{n: "X" for n in names_en})  # formats


ENGLISH_RUN = re.compile(r"[A-Za-z]+(?:[ ,]+[A-Za-z]+){2,}")  # three or more Latin words in a row


@pytest.mark.parametrize("table", [CATALOGUE, FRAGMENTS], ids=["catalogue", "fragments"])
def test_no_chinese_template_keeps_an_english_sentence(table):
    for zh in table.values():
        text = "".join(literal for literal, *_ in Formatter().parse(zh))
        text = re.sub(r"`[^`]*`", "", text)  # a command to type stays as it is
        assert not ENGLISH_RUN.search(text), zh
        assert re.search(r"[\u4e00-\u9fff]", text), zh


def test_english_is_unchanged_and_unknown_messages_fall_back_to_themselves():
    message = "The field 'name' is mapped twice: from 'Name' and '客户姓名'."
    assert translate(message, "en") == message
    assert translate("Something no template knows.", "zh") == "Something no template knows."
    assert translate("", "zh") == ""


def test_the_most_specific_template_wins_and_values_are_translated_in_turn():
    assert translate("a.json: line 3: the JSON is nested too deeply to be a table of records.", "zh") \
        == "a.json：第 3 行：JSON 嵌套太深，无法作为记录表。"
    assert translate("Custom rule r1 stopped after the time limit of 0.5 s.", "zh") \
        == "自定义规则 r1：超过 0.5 秒的时间限制，已停止。"
    assert translate("x.xlsx: the extension says .xlsx but the content is a text file.", "zh") \
        == "x.xlsx：扩展名是 .xlsx，但内容是文本文件。"


def test_a_value_is_not_mistaken_for_a_code_unless_its_placeholder_is_one():
    """A source named like a channel code keeps its name; a channel shows its label."""
    assert translate("No source named 'crm'.", "zh") == "没有名为“crm”的数据源。"
    assert translate("The source 'crm' belongs to channel 'pos', not 'jd'.", "zh") \
        == "数据源“crm”属于渠道“门店POS”，而不是“京东自营”。"


def test_only_a_placeholder_that_carries_a_part_of_the_message_is_translated_in_turn():
    assert translate("a line: the file is empty.", "zh") == "a line：文件为空。"  # a file named "a line"
    assert translate(readers._too_long_message("big.csv", "a line", None), "zh") \
        == "big.csv：某一行超过了 2 MB，而每行最多 2 MB。通常是某个引号没有闭合。"
    assert translate(readers._too_long_message("big.csv", "line 4", 12 * 1024**2), "zh") \
        == "big.csv：第 4 行长 12.0 MB，而每行最多 2 MB。请缩短或删除其中最长的字段后重新上传。"


def test_a_repr_in_double_quotes_is_read_too():
    assert translate("No user named \"o'brien\".", "zh") == "没有名为“o'brien”的用户。"


# ---------------------------------------------------------------- real errors from library calls

def _message(call, *args, **kwargs) -> str:
    with pytest.raises(GovernanceError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


def test_a_field_mapped_twice_at_ingest(db, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text("Name,客户姓名,手机\n王芳,王芳,13800138000\n", encoding="utf-8")
    message = _message(ingest.ingest_file, db, path, actor="test", channel="crm",
                       mapping={"Name": "name", "客户姓名": "name", "手机": "mobile"})
    assert message == "The field 'name' is mapped twice: from 'Name' and '客户姓名'."
    assert translate(message, "zh") == "字段“姓名”被映射了两次：来自“Name”和“客户姓名”。"


def test_an_unknown_channel_at_ingest_lists_the_channels_labels(db, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("手机\n13800138000\n", encoding="utf-8")
    zh = translate(_message(ingest.prepare, db, path, channel="fax"), "zh")
    assert zh.startswith("未知渠道“fax”；请从以下渠道中选择：微信小程序、微信公众号、") and zh.endswith("其他。")


def test_a_ragged_csv_row(db, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("姓名,手机\n王芳,13800138000\n李娜,13900139000,多余\n", encoding="utf-8")
    message = _message(ingest.ingest_file, db, path, actor="test")
    assert message.startswith("ragged.csv: line 3 has 3 fields but the header has 2.")
    assert translate(message, "zh") == "ragged.csv：第 3 行有 3 个字段，但表头有 2 个。请修正该行后重新上传（字段数不齐的行不会载入）。"


def test_a_too_short_password(db):
    message = _message(auth.create_user, db, "test", "newuser", "short", "analyst")
    assert message == "The password must have at least 10 characters."
    assert translate(message, "zh") == "密码至少需要 10 个字符。"


def test_an_unknown_role_lists_the_roles_labels(db):
    message = _message(auth.create_user, db, "test", "newuser", "long-enough-pass", "boss")
    roles = "、".join(value_label("role", r, "zh") for r in auth.ROLES)
    assert translate(message, "zh") == f"未知角色“boss”；请从以下角色中选择：{roles}。"
    assert "、数据管家、" in roles


def test_an_unknown_rule(db):
    message = _message(rules.set_enabled, db, "test", "no.such.rule", False)
    assert message == "No rule 'no.such.rule'."
    assert translate(message, "zh") == "没有规则“no.such.rule”。"


@pytest.mark.parametrize("sql, zh", [
    ("", "自定义规则只能是针对本条记录各列的一个表达式：表达式为空。"),
    ("sum(mobile) > 1", "自定义规则只能是针对本条记录各列的一个表达式：不允许聚合函数（sum）。"),
    ("read_csv('x') IS NULL", "自定义规则只能是针对本条记录各列的一个表达式：不允许表函数（read_csv）。"),
    ("getenv('HOME') IS NULL", "自定义规则不能调用 getenv。"),
    ("row_number() OVER () > 1", "自定义规则只能是针对本条记录各列的一个表达式：不允许窗口函数。"),
])
def test_a_refused_custom_rule(sql, zh):
    assert translate(_message(rules.check_custom_sql, sql), "zh") == zh


def test_a_request_in_the_wrong_state(db):
    request_id = dsr.create(db, "test", "access", "王芳")
    message = _message(dsr.close, db, "test", request_id, "sent")
    assert message == f"Request {request_id} is received; this needs one of: verified, in_progress."
    assert translate(message, "zh") == f"请求 #{request_id} 的状态是“已收到”；此操作要求状态为以下之一：身份已核验、处理中。"
    with db.cursor() as cur:
        assert translate(_message(dsr.get, cur, 999), "zh") == "没有编号为 #999 的请求。"


def test_a_survivorship_rule_for_an_unknown_field(db):
    message = _message(survivorship.set_rule, db, "test", "shoe_size", "most_recent")
    assert translate(message, "zh") == "未知字段“shoe_size”"


def test_a_failed_jobs_stored_line(db):
    """The job panel shows a job's stored one line; it is the error's message with its spaces folded."""
    job_id = jobs.create(db, "export", "test", status="running")
    try:
        auth.create_user(db, "test", "newuser", "short", "analyst")
    except GovernanceError as exc:
        jobs.fail(db, job_id, *jobs.failure(exc, db.path.parent))
    with db.cursor() as cur:
        [job] = [j for j in jobs.recent(cur, 5) if j.job_id == job_id]
    assert job.status == "failed" and translate(job.message, "zh") == "密码至少需要 10 个字符。"


def test_regexes_are_compiled_once():
    assert len(error_texts._MESSAGES) == len(CATALOGUE)
    assert all(isinstance(regex, re.Pattern) for regex, _, _ in error_texts._MESSAGES)
