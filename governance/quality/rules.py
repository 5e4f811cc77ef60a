"""The quality rule engine: rules over `std_records`, compiled to DuckDB SQL.

Every rule has a type, a field (or fields), a severity, a tolerance `mostly` (the share of
applicable records that must pass) and a quality dimension. Rules are versioned: an edit
adds a version, and the current rule is the latest version of its id. Every change is audited.

A custom rule is one boolean expression over the columns of one record. Its parse tree is checked
against an allow-list (`check_custom_sql`), and it runs in a sandbox: a separate in-memory DuckDB
with no file or network access that holds only the columns it names, under a time limit.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import asdict, dataclass, field

import duckdb
import pandas as pd

from governance.access import audit
from governance.access.events import Event
from governance.standardize.engine import AGE_BIRTH, CONSISTENCY, DERIVED
from governance.store.errors import GovernanceError
from governance.store.schema import BY_NAME, FIELD_NAMES
from governance.store.storage import Database, quote_ident, relation, scalar
from governance.store.util import utcnow

RULE_TYPES = ("not_null", "regex", "format", "allowed_values", "range", "unique", "unique_together",
              "consistency", "custom_sql")
DIMENSIONS = ("completeness", "validity", "uniqueness", "consistency", "timeliness")
SEVERITIES = ("error", "warning", "info")
CHECKS = tuple(c for c, _ in CONSISTENCY)

# What a custom rule may read: the columns of one standardized record (std_records less its keys).
RECORD_COLUMNS = frozenset(["source", *(f + part for f in FIELD_NAMES for part in ("", "_status", "_reason")),
                            *(c for c, *_ in DERIVED), *CHECKS, *(c for c, _ in AGE_BIRTH), "is_minor"])
# What it may call: pure scalar functions and operators, as DuckDB names them (~~ is LIKE, ~~* ILIKE,
# ~~~ GLOB). Nothing that reads files, settings or tables, no aggregates, nothing that builds big
# values (repeat, lpad).
RULE_FUNCTIONS = frozenset({
    "+", "-", "*", "/", "//", "%", "^", "**", "||", "~~", "!~~", "~~*", "!~~*", "~~~",
    "length", "strlen", "char_length", "lower", "lcase", "upper", "ucase", "trim", "ltrim", "rtrim", "substr",
    "substring", "left", "right", "concat", "concat_ws", "contains", "starts_with", "ends_with", "prefix", "suffix",
    "position", "strpos", "instr", "replace", "reverse", "split_part", "translate", "strip_accents", "nfc_normalize",
    "ascii", "unicode", "levenshtein", "jaro_winkler_similarity",
    "regexp_matches", "regexp_full_match", "regexp_extract", "regexp_replace",
    "abs", "round", "floor", "ceil", "ceiling", "trunc", "sign", "greatest", "least", "nullif", "if",
    "year", "month", "day", "quarter", "dayofweek", "date_part", "datepart", "date_diff", "datediff", "date_trunc",
    "strptime", "try_strptime", "strftime", "make_date", "last_day", "today", "now", "current_date",
})
_RULE_OPERATORS = frozenset({"OPERATOR_NOT", "OPERATOR_IS_NULL", "OPERATOR_IS_NOT_NULL", "COMPARE_IN", "COMPARE_NOT_IN",
                             "OPERATOR_COALESCE", "OPERATOR_TRY", "ARRAY_EXTRACT"})
_RULE_CLASSES = frozenset({"CONJUNCTION", "COMPARISON", "BETWEEN", "CASE", "CAST", "COLLATE", "CONSTANT", "TYPE"})
_DATE_KEYWORDS = frozenset({"current_date", "current_timestamp"})  # parsed as column names
_REFUSED_CLASSES = {"SUBQUERY": "subqueries are not allowed", "WINDOW": "window functions are not allowed",
                    "STAR": "* and COLUMNS(…) are not allowed", "PARAMETER": "parameters are not allowed",
                    "LAMBDA": "lambdas are not allowed"}
_ONE_EXPRESSION = "A custom rule is one expression over this record's columns: "
_MAX_DEPTH = 100  # nesting of a rule's expression; the parser's default allows 1,000
SANDBOX_SECONDS = 30.0  # a custom rule's time limit per evaluation (tests lower it)
SANDBOX_MEMORY = "1GB"
_log = logging.getLogger(__name__)


class RuleError(GovernanceError):
    """A rule definition is invalid."""


class _RefusedCall(RuleError):
    """A call to a function that is not on the allow-list (`name`, as written)."""

    def __init__(self, name: str):
        super().__init__(f"A custom rule may not call {name}.")
        self.name = name


@dataclass
class Rule:
    rule_id: str
    name: str
    rule_type: str
    fields: list[str]
    params: dict = field(default_factory=dict)
    severity: str = "warning"
    mostly: float = 1.0
    dimension: str = "validity"
    enabled: bool = True
    version: int = 0

    def validate(self, check_sql: bool = True) -> "Rule":
        """Raise RuleError unless the rule is well formed; `check_sql=False` skips a custom rule's
        expression check (see `save_rule`)."""
        if not re.fullmatch(r"[a-z0-9_.-]{1,64}", self.rule_id or ""):
            raise RuleError("A rule id is 1–64 characters: a-z, 0-9, '.', '_' or '-'.")
        if self.rule_type not in RULE_TYPES:
            raise RuleError(f"Unknown rule type {self.rule_type!r}.")
        if self.severity not in SEVERITIES or self.dimension not in DIMENSIONS:
            raise RuleError("Unknown severity or dimension.")
        if not 0.0 <= float(self.mostly) <= 1.0:
            raise RuleError("'mostly' is a share between 0 and 1.")
        needs_fields = self.rule_type not in ("custom_sql", "consistency")
        if needs_fields and (not self.fields or any(f not in FIELD_NAMES for f in self.fields)):
            raise RuleError(f"Rule {self.rule_id}: name standard fields ({', '.join(FIELD_NAMES[:4])}, …).")
        if self.rule_type == "unique_together" and len(self.fields) < 2:
            raise RuleError("unique_together needs two or more fields.")
        if self.rule_type == "regex":
            try:
                re.compile(self.params.get("pattern", ""))
            except re.error as exc:
                raise RuleError(f"Invalid regular expression: {exc}") from None
        if self.rule_type == "allowed_values" and not isinstance(self.params.get("values"), list):
            raise RuleError("allowed_values needs a list 'values'.")
        if self.rule_type == "consistency" and self.params.get("check") not in CHECKS:
            raise RuleError(f"consistency needs 'check', one of {', '.join(CHECKS)}.")
        if self.rule_type == "custom_sql" and check_sql:
            check_custom_sql(self.params.get("sql", ""))
        return self


@dataclass(frozen=True)
class CustomExpression:
    """A checked custom rule: its expression as DuckDB prints the checked tree, and the columns it reads."""
    sql: str
    columns: tuple[str, ...]


def check_custom_sql(expression: str) -> CustomExpression:
    """A custom rule is one boolean expression over the columns of one record (true = pass), e.g.
    `length(name) >= 2 AND mobile LIKE '1%'`. The expression is parsed by DuckDB and its tree
    walked: column references (bare or `s.`) to `RECORD_COLUMNS`, constants, operators, CASE, CAST,
    BETWEEN, IN lists and calls to `RULE_FUNCTIONS`; anything else raises RuleError."""
    text = f"SELECT {expression.strip()}"
    if not expression.strip():
        raise RuleError(_ONE_EXPRESSION + "the expression is empty.")
    try:
        tokens = duckdb.tokenize(text)
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise RuleError(f"The expression does not parse: {str(exc).splitlines()[0]}") from None
    if any(kind == duckdb.token_type.comment for _, kind in tokens):
        raise RuleError(_ONE_EXPRESSION + "comments are not allowed.")
    if len(statements) != 1:
        raise RuleError(_ONE_EXPRESSION + "more than one statement is not allowed.")
    con = duckdb.connect(":memory:")  # parses only; holds nothing
    try:
        con.execute(f"SET max_expression_depth = {_MAX_DEPTH}")
        tree = json.loads(scalar(con, "SELECT json_serialize_sql(?)", [text]))
        if tree.get("error"):
            raise RuleError(f"The expression does not parse: {tree.get('error_message', '').splitlines()[0]}")
        columns: set[str] = set()
        try:
            _check_statement(tree["statements"], columns)
        except _RefusedCall as exc:
            raise RuleError(_refusal(con, exc.name)) from None
        printed = scalar(con, "SELECT json_deserialize_sql(?)", [json.dumps(tree)])
    finally:
        con.close()
    return CustomExpression(printed.removeprefix("SELECT "), tuple(sorted(columns)))


def _refusal(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """Why a call is refused, naming aggregates and table functions as such."""
    kinds = {k for k, in con.execute("SELECT DISTINCT function_type FROM duckdb_functions() WHERE function_name = ?",
                                     [name]).fetchall()}
    if not kinds or kinds & {"scalar", "macro"}:
        return f"A custom rule may not call {name}."
    return _ONE_EXPRESSION + f"{'aggregates' if 'aggregate' in kinds else 'table functions'} ({name}) are not allowed."


def _check_statement(statements: list, columns: set[str]) -> None:
    if len(statements) != 1:
        raise RuleError(_ONE_EXPRESSION + "more than one statement is not allowed.")
    node = statements[0]["node"]
    if node["type"] != "SELECT_NODE":
        raise RuleError(_ONE_EXPRESSION + "UNION, EXCEPT and INTERSECT are not allowed.")
    if node["from_table"]["type"] != "EMPTY":
        raise RuleError(_ONE_EXPRESSION + "a FROM clause is not allowed.")
    if node["modifiers"] or node["cte_map"]["map"] or node["where_clause"] or node["group_expressions"] \
            or node["group_sets"] or node["having"] or node["qualify"] or node["sample"]:
        raise RuleError(_ONE_EXPRESSION + "WITH, WHERE, GROUP BY, ORDER BY, LIMIT and DISTINCT are not allowed.")
    if len(node["select_list"]) != 1 or node["select_list"][0]["alias"]:
        raise RuleError(_ONE_EXPRESSION + "a list of expressions or an alias is not allowed.")
    _check_expression(node["select_list"][0], columns)


def _check_expression(node: object, columns: set[str]) -> None:
    """Walk a parse tree (dicts and lists from json_serialize_sql); expressions carry a `class`."""
    if isinstance(node, list):
        for item in node:
            _check_expression(item, columns)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("class")
    if kind is None and ("node" in node or str(node.get("type", "")).endswith("_NODE")):
        raise RuleError(_ONE_EXPRESSION + "subqueries are not allowed.")
    if kind in _REFUSED_CLASSES:
        raise RuleError(_ONE_EXPRESSION + _REFUSED_CLASSES[kind] + ".")
    if kind == "FUNCTION":
        _check_call(node)
    elif kind == "COLUMN_REF":
        _check_column(node["column_names"], columns)
    elif kind == "OPERATOR" and node["type"] not in _RULE_OPERATORS:
        raise RuleError(f"A custom rule may not use {node['type'].removeprefix('OPERATOR_').lower()}.")
    elif kind is not None and kind not in _RULE_CLASSES | {"OPERATOR"}:
        raise RuleError(f"A custom rule may not use {kind.lower().replace('_', ' ')}.")
    if kind == "TYPE" and (node["catalog"] or node["schema"]):
        raise RuleError("A custom rule may only name built-in types.")
    for value in node.values():
        _check_expression(value, columns)


def _check_call(node: dict) -> None:
    name = node["function_name"].lower()
    qualified = ".".join(p for p in (node["catalog"], node["schema"], name) if p)
    if node["filter"] or node["order_bys"]["orders"] or node["distinct"] or node["export_state"]:
        raise RuleError(_ONE_EXPRESSION + "aggregates are not allowed.")
    if qualified != name or name not in RULE_FUNCTIONS:
        raise _RefusedCall(qualified)


def _check_column(names: list[str], columns: set[str]) -> None:
    path = [n.lower() for n in names]
    if len(path) == 1 and path[0] in _DATE_KEYWORDS:
        return
    column = path[-1] if len(path) == 1 or (len(path) == 2 and path[0] == "s") else None
    if column not in RECORD_COLUMNS:
        raise RuleError(f"A custom rule may read only this record's standardized columns (name, mobile, "
                        f"mobile_status, …), not {'.'.join(names)}.")
    columns.add(column)


def _typed(expr: str, kind: str) -> str:
    return f"TRY_CAST({expr} AS {'DATE' if kind == 'date' else 'TIMESTAMP' if kind == 'timestamp' else 'DOUBLE'})"


def _bound(value, kind: str) -> str:
    if value in (None, ""):
        return "NULL"
    if value == "today":
        return "current_date" if kind == "date" else "now()::TIMESTAMP"
    return _typed("?", kind)


def compile_rule(rule: Rule) -> tuple[str, str | None, list, bool]:
    """SQL for (applicable, failed) over alias `s`, its parameters, and whether it is a uniqueness
    rule. A uniqueness rule has no per-row `failed` expression: its failures are the applicable
    rows whose key (source and fields) occurs more than once, counted by `_duplicates_sql`. A custom
    rule has no SQL here: it runs in a sandbox (`custom_failures`)."""
    f = rule.fields[0] if rule.fields else None
    t = rule.rule_type
    if t == "not_null":
        return "TRUE", f"s.{f}_status IN ('missing', 'placeholder')", [], False
    if t == "format":
        return (f"s.{f}_status NOT IN ('missing', 'placeholder')", f"s.{f}_status IN ('invalid', 'masked')", [], False)
    if t == "regex":
        return f"s.{f} IS NOT NULL", f"NOT regexp_full_match(s.{f}, ?)", [rule.params["pattern"]], False
    if t == "allowed_values":
        values = [str(v) for v in rule.params["values"]]
        return f"s.{f} IS NOT NULL", f"s.{f} NOT IN ({', '.join('?' for _ in values)})", values, False
    if t == "range":
        kind = rule.params.get("type", "number")
        lo, hi = rule.params.get("min"), rule.params.get("max")
        value = _typed(f"s.{f}", kind)
        params = [v for v in (lo, hi) if v not in (None, "", "today")]
        return (f"{value} IS NOT NULL", f"({value} < {_bound(lo, kind)} OR {value} > {_bound(hi, kind)})", params, False)
    if t in ("unique", "unique_together"):
        return " AND ".join(f"s.{x} IS NOT NULL" for x in rule.fields), None, [], True
    if t == "consistency":
        check = rule.params["check"]
        return f"s.{check} IS NOT NULL", f"s.{check} = 'conflict'", [], False
    raise RuleError(t)


def default_rules() -> list[Rule]:
    """Rules that come with the standard schema: at least one per field."""
    rules: list[Rule] = []
    for spec in BY_NAME.values():
        f = spec.name
        if spec.type in ("phone", "email", "id_card", "date", "timestamp", "boolean") or f in (
                "gender", "postcode", "province", "city", "district", "wechat_app_id", "address", "other_id", "age_band"):
            rules.append(Rule(f"{f}.format", f"{spec.label_en} is valid", "format", [f], severity="warning",
                              mostly=0.95, dimension="validity"))
        else:
            rules.append(Rule(f"{f}.present", f"{spec.label_en} is present", "not_null", [f], severity="info",
                              mostly=0.5, dimension="completeness"))
    rules += [
        Rule("name.present", "Name is present", "not_null", ["name"], severity="warning", mostly=0.8, dimension="completeness"),
        Rule("mobile.present", "Mobile is present", "not_null", ["mobile"], severity="warning", mostly=0.7, dimension="completeness"),
        Rule("gender.codes", "Gender uses GB/T 2261.1 codes", "allowed_values", ["gender"], {"values": ["0", "1", "2", "9"]},
             severity="error", mostly=1.0, dimension="validity"),
        Rule("birth_date.range", "Birth date between 1900 and today", "range", ["birth_date"],
             {"type": "date", "min": "1900-01-01", "max": "today"}, severity="warning", mostly=0.99, dimension="validity"),
        Rule("registered_at.not_future", "Registration time not in the future", "range", ["registered_at"],
             {"type": "timestamp", "max": "today"}, severity="warning", mostly=0.99, dimension="timeliness"),
        Rule("id_card.unique", "Resident ID unique within a source", "unique", ["id_card"], severity="warning",
             mostly=0.98, dimension="uniqueness"),
        Rule("mobile.unique", "Mobile unique within a source", "unique", ["mobile"], severity="info",
             mostly=0.9, dimension="uniqueness"),
        Rule("mobile_open_id.unique", "Mobile + open_id unique together", "unique_together",
             ["mobile", "wechat_open_id"], severity="warning", mostly=0.99, dimension="uniqueness"),
        Rule("birth_date.matches_id", "Birth date agrees with the resident ID", "consistency", [],
             {"check": "check_birth_id"}, severity="warning", mostly=0.98, dimension="consistency"),
        Rule("gender.matches_id", "Gender agrees with the resident ID", "consistency", [],
             {"check": "check_gender_id"}, severity="warning", mostly=0.98, dimension="consistency"),
        Rule("province.matches_id", "Province agrees with the ID region (people move: info)", "consistency", [],
             {"check": "check_region_id"}, severity="info", mostly=0.6, dimension="consistency"),
    ]
    return list({r.rule_id: r for r in rules}.values())  # an explicit rule replaces the generic one


_NAMES_ZH = {
    "name.present": "姓名已填写", "mobile.present": "手机号已填写", "gender.codes": "性别使用 GB/T 2261.1 代码",
    "birth_date.range": "出生日期在 1900 年至今之间", "registered_at.not_future": "注册时间不晚于今天",
    "id_card.unique": "身份证号在数据源内唯一", "mobile.unique": "手机号在数据源内唯一",
    "mobile_open_id.unique": "手机号与微信 OpenID 组合唯一", "birth_date.matches_id": "出生日期与身份证号一致",
    "gender.matches_id": "性别与身份证号一致", "province.matches_id": "省份与身份证地区一致（人会迁居：仅提示）",
}


def _default_names() -> dict[str, tuple[str, str]]:
    out = {}
    for rule in default_rules():
        field_name = rule.fields[0] if rule.fields else None
        zh = _NAMES_ZH.get(rule.rule_id)
        if zh is None and field_name:
            label = BY_NAME[field_name].label_zh
            zh = f"{label}有效" if rule.rule_type == "format" else f"{label}已填写"
        out[rule.rule_id] = (rule.name, zh or rule.name)
    return out


def localized_names(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rules (rule_id, name) as a page shows them: a default rule still under its default English name
    reads in Chinese in the Chinese UI; a name a steward gave stays as written."""
    if lang != "zh" or frame.empty:
        return frame
    defaults = _default_names()
    return frame.assign(name=[defaults[r][1] if r in defaults and n == defaults[r][0] else n
                              for r, n in zip(frame["rule_id"], frame["name"])])


_COLUMNS = "rule_id, version, name, rule_type, fields, params, severity, mostly, dimension, enabled"


def _insert(cur: duckdb.DuckDBPyConnection, rule: Rule, version: int, actor: str, comment: str | None) -> None:
    cur.execute("INSERT INTO quality_rules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [rule.rule_id, version, rule.name, rule.rule_type, json.dumps(rule.fields), json.dumps(rule.params,
                 ensure_ascii=False), rule.severity, float(rule.mostly), rule.dimension, bool(rule.enabled), actor,
                 utcnow(), comment])


def _row_to_rule(row) -> Rule:
    rule_id, version, name, rule_type, fields, params, severity, mostly, dimension, enabled = row
    return Rule(rule_id, name, rule_type, json.loads(fields), json.loads(params), severity, mostly, dimension,
                bool(enabled), version)


def current_rules(cur: duckdb.DuckDBPyConnection, enabled_only: bool = False) -> list[Rule]:
    rows = cur.execute(
        f"SELECT {_COLUMNS} FROM quality_rules QUALIFY version = max(version) OVER (PARTITION BY rule_id) "
        "ORDER BY rule_id").fetchall()
    rules = [_row_to_rule(r) for r in rows]
    return [r for r in rules if r.enabled] if enabled_only else rules


def rules_frame(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return pd.DataFrame([{**asdict(r), "fields": ", ".join(r.fields), "params": json.dumps(r.params, ensure_ascii=False)}
                         for r in current_rules(cur)])


def problem(rule: Rule) -> str | None:
    """Why an evaluation would skip the rule (a custom expression the checks refuse), or None."""
    if rule.rule_type != "custom_sql":
        return None
    try:
        check_custom_sql(rule.params.get("sql", ""))
    except RuleError as exc:
        return str(exc)
    return None


def as_json(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """The current rules as plain dicts, each with its `problem` (None for a rule that runs)."""
    return [{**asdict(r), "problem": problem(r)} for r in current_rules(cur)]


def history(cur: duckdb.DuckDBPyConnection, rule_id: str) -> pd.DataFrame:
    return cur.execute("SELECT version, name, rule_type, fields, params, severity, mostly, dimension, enabled, "
                       "created_by, created_at, comment FROM quality_rules WHERE rule_id = ? ORDER BY version DESC",
                       [rule_id]).df()


def save_rule(db: Database, actor: str, rule: Rule, comment: str | None = None) -> int:
    """Add a rule or a new version of it; returns the version. Audited. A custom rule's expression
    must pass `check_custom_sql` and bind to the record's columns, unless the rule is being disabled
    with its stored expression unchanged: a rule an older release accepted can always be turned off."""
    with db.transaction() as cur:
        previous = {r.rule_id: r for r in current_rules(cur)}.get(rule.rule_id)
        disabling = (not rule.enabled and previous is not None
                     and (previous.rule_type, previous.params) == (rule.rule_type, rule.params))
        rule.validate(check_sql=not disabling)
        if rule.rule_type == "custom_sql" and not disabling:
            custom_failures(cur, rule, rows=0)
        version = (previous.version if previous else 0) + 1
        _insert(cur, rule, version, actor, comment)
        audit.record(cur, actor, Event.RULE_CREATE if previous is None else Event.RULE_CHANGE, "rule", rule.rule_id,
                     {"version": version, "rule": {**asdict(rule), "version": version}})
    return version


def set_enabled(db: Database, actor: str, rule_id: str, enabled: bool, comment: str | None = None) -> int:
    with db.cursor() as cur:
        rule = {r.rule_id: r for r in current_rules(cur)}.get(rule_id)
    if rule is None:
        raise RuleError(f"No rule {rule_id!r}.")
    rule.enabled = enabled
    return save_rule(db, actor, rule, comment or ("enabled" if enabled else "disabled"))


@dataclass
class RuleResult:
    rule: Rule
    source: str
    applicable: int
    failed: int
    error: str | None = None  # a custom rule that was refused or stopped: not evaluated, not passed

    @property
    def pass_rate(self) -> float:
        if self.error:
            return 0.0
        return 1.0 if not self.applicable else 1 - self.failed / self.applicable

    @property
    def passed(self) -> bool:
        return not self.error and self.pass_rate >= self.rule.mostly


def run_with_time_limit(con: duckdb.DuckDBPyConnection, sql: str, seconds: float) -> list[tuple]:
    """`sql`'s rows, run on `con` in a worker thread that closes `con` when the query ends. After
    `seconds` the query is interrupted and RuleError raised, without waiting more than a second for
    the worker to stop."""
    rows: list[list[tuple]] = []
    errors: list[duckdb.Error] = []

    def work() -> None:
        try:
            rows.append(con.execute(sql).fetchall())
        except duckdb.Error as exc:
            errors.append(exc)
        finally:
            con.close()

    worker = threading.Thread(target=work, name="custom-rule", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        con.interrupt()
        worker.join(1.0)
        raise RuleError(f"stopped after the time limit of {seconds:g} s")
    if errors:
        raise RuleError(f"failed to run: {without_values(errors[0])}")
    return rows[0]


_VALUE_IN_ERROR = re.compile(r"'(?:[^']|'')*'|\d{5,}")


def without_values(exc: Exception) -> str:
    """The first line of a database error met on the records, with the values it quotes (a mobile
    that did not convert) left out: it is logged and shown to roles that see masked data only."""
    return _VALUE_IN_ERROR.sub("'…'", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _sandbox(cur: duckdb.DuckDBPyConnection, columns: list[str], rows: int | None) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB that reaches no file, extension or setting, holding only `columns`
    of std_records (the first `rows`, or all) as the table `record`, moved through Arrow."""
    limit = "" if rows is None else f" LIMIT {int(rows)}"
    table = relation(cur, f"SELECT {', '.join(map(quote_ident, columns))} FROM std_records{limit}").to_arrow_table()
    con = duckdb.connect(":memory:")
    con.execute("SET enable_external_access = false")
    con.execute(f"SET memory_limit = '{SANDBOX_MEMORY}'")
    con.execute("SET lock_configuration = true")
    con.register("record", table)
    return con


def custom_failures(cur: duckdb.DuckDBPyConnection, rule: Rule, rows: int | None = None) -> dict[str, int]:
    """Failed records per source of a custom rule (NULL counts as a pass), counted in a sandbox
    under `SANDBOX_SECONDS`; `rows=0` only binds the expression (as `save_rule` does). RuleError
    when the expression is refused, does not run, or runs out of time."""
    check = check_custom_sql(rule.params.get("sql", ""))
    con = _sandbox(cur, ["source", *(c for c in check.columns if c != "source")], rows)
    sql = f"SELECT source, count(*) FILTER (WHERE NOT coalesce(({check.sql}), TRUE)) FROM record s GROUP BY source"
    try:
        return dict(run_with_time_limit(con, sql, SANDBOX_SECONDS))
    except RuleError as exc:
        raise RuleError(f"Custom rule {rule.rule_id} {exc}.") from None


def _duplicates_sql(i: int, rule: Rule, applicable: str) -> str:
    """(i, source, failed) for uniqueness rule i: the applicable rows whose key occurs more than once
    in their source. The same count as a `count(*) OVER (PARTITION BY source, key) > 1` window over
    the applicable rows, from one hash aggregate and no sort."""
    key = ", ".join(f"s.{x}" for x in rule.fields)
    return (f"SELECT {i} AS i, source, sum(n) AS failed FROM (SELECT s.source, {key}, count(*) AS n FROM std_records s "
            f"WHERE {applicable} GROUP BY ALL HAVING count(*) > 1) GROUP BY source")


def mapped_fields(cur: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """Source -> the standard fields its current mapping fills (see governance.sources.mapping)."""
    rows = cur.execute("SELECT e.source, e.field FROM mapping_entries e JOIN (SELECT source, max(version) v FROM "
                       "mapping_versions GROUP BY source) c ON c.source = e.source AND c.v = e.version "
                       "WHERE e.field IS NOT NULL").fetchall()
    out: dict[str, set[str]] = {}
    for source, f in rows:
        out.setdefault(source, set()).add(f)
    return out


def applies_to(rule: Rule, mapped: set[str]) -> bool:
    """Whether a rule applies to a source that maps `mapped`: a rule on fields needs every one of
    them mapped (a CRM without a Douyin column cannot fail "Douyin ID is present"). Rules without
    fields (consistency checks, custom expressions) apply everywhere."""
    return not rule.fields or set(rule.fields) <= mapped


def only_mapped(results: list[RuleResult], mapped: dict[str, set[str]]) -> list[RuleResult]:
    """`results` with the rules a source does not map counted as not applicable there (0 of 0)."""
    return [r if applies_to(r.rule, mapped.get(r.source, set())) else RuleResult(r.rule, r.source, 0, 0)
            for r in results]


def evaluate(cur: duckdb.DuckDBPyConnection, rules: list[Rule] | None = None,
             mapped: dict[str, set[str]] | None = None) -> list[RuleResult]:
    """Evaluate rules per source in one scan of std_records, plus one aggregate of duplicate keys
    per uniqueness rule. Custom rules run in a sandbox each (`custom_failures`); one that is refused
    or stopped gives results with its `error` and no counts. A rule on fields a source does not map
    (`mapped`, by default each source's current mapping) is not applicable there: 0 of 0."""
    rules = current_rules(cur, enabled_only=True) if rules is None else rules
    mapped = mapped_fields(cur) if mapped is None else mapped
    if not rules:
        return []
    duplicates, aggregates, params = [], [], []
    for i, rule in enumerate(rules):
        if rule.rule_type == "custom_sql":
            aggregates.append(f"count(*) AS a{i}, 0 AS f{i}")
            continue
        applicable, failed, p, unique = compile_rule(rule)
        aggregates.append(f"count(*) FILTER (WHERE {applicable}) AS a{i}")
        if unique:
            duplicates.append(_duplicates_sql(i, rule, applicable))
            aggregates.append(f"0 AS f{i}")
        else:
            aggregates.append(f"count(*) FILTER (WHERE ({applicable}) AND ({failed})) AS f{i}")
        params += p  # parameters appear only in the `failed` half
    sql = f"SELECT source, {', '.join(aggregates)} FROM std_records s GROUP BY source ORDER BY source"
    try:
        rows = cur.execute(sql, params).fetchall()
        failed_unique = {(i, source): n for i, source, n in cur.execute(
            " UNION ALL ".join(duplicates)).fetchall()} if duplicates else {}
    except duckdb.Error as exc:
        raise RuleError(f"A rule failed to run: {without_values(exc)}") from None
    custom: dict[int, dict[str, int] | str] = {}
    for i, rule in enumerate(rules):
        if rule.rule_type == "custom_sql" and rows:
            try:
                custom[i] = custom_failures(cur, rule)
            except RuleError as exc:
                _log.warning("quality rule %s not evaluated: %s", rule.rule_id, exc)
                custom[i] = str(exc)
    results = []
    for row in rows:
        source = row[0]
        for i, rule in enumerate(rules):
            outcome = custom.get(i)
            if isinstance(outcome, str):
                results.append(RuleResult(rule, source, 0, 0, error=outcome))
                continue
            n = outcome.get(source, 0) if outcome is not None else failed_unique.get((i, source), row[2 + 2 * i])
            results.append(RuleResult(rule, source, row[1 + 2 * i], n))  # a uniqueness rule's f{i} is 0
    return only_mapped(results, mapped)
