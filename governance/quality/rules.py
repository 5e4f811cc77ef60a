"""The quality rule engine: rules over `std_records`, compiled to DuckDB SQL.

Every rule has a type, a field (or fields), a severity, a tolerance `mostly` (the share of
applicable records that must pass) and a quality dimension. Rules are versioned: an edit
adds a version, and the current rule is the latest version of its id. Every change is audited.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

import duckdb
import pandas as pd

from governance.access import audit
from governance.access.events import Event
from governance.standardize.engine import CONSISTENCY
from governance.store.errors import GovernanceError
from governance.store.schema import BY_NAME, FIELD_NAMES
from governance.store.storage import Database
from governance.store.util import utcnow

RULE_TYPES = ("not_null", "regex", "format", "allowed_values", "range", "unique", "unique_together",
              "consistency", "custom_sql")
DIMENSIONS = ("completeness", "validity", "uniqueness", "consistency", "timeliness")
SEVERITIES = ("error", "warning", "info")
CHECKS = tuple(c for c, _ in CONSISTENCY)
_FORBIDDEN_SQL = re.compile(
    r";|--|/\*|\b(attach|detach|copy|pragma|install|load|create|drop|alter|insert|update|delete|export|import|"
    r"call|set|reset|checkpoint|vacuum|getenv|glob|read_\w+|write_\w+|\w+_scan|query|query_table|sniff_csv)\b",
    re.IGNORECASE)


class RuleError(GovernanceError):
    """A rule definition is invalid."""


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

    def validate(self) -> "Rule":
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
        if self.rule_type == "custom_sql":
            check_custom_sql(self.params.get("sql", ""))
        return self


def check_custom_sql(expression: str) -> None:
    """A custom rule is one boolean expression over std_records columns (true = pass)."""
    if not expression.strip() or _FORBIDDEN_SQL.search(expression):
        raise RuleError("A custom rule is one boolean SQL expression over the standardized columns, "
                        "with no statements, comments or file access.")
    try:
        statements = duckdb.extract_statements(f"SELECT ({expression}) FROM std_records s")
    except duckdb.Error as exc:
        raise RuleError(f"The expression does not parse: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise RuleError("A custom rule must be a single expression.")


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
    rows whose key (source and fields) occurs more than once, counted by `_duplicates_sql`."""
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
    if t == "custom_sql":
        return "TRUE", f"NOT coalesce(({rule.params['sql']}), TRUE)", [], False
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
    "mobile_open_id.unique": "手机号与 open_id 组合唯一", "birth_date.matches_id": "出生日期与身份证号一致",
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


def history(cur: duckdb.DuckDBPyConnection, rule_id: str) -> pd.DataFrame:
    return cur.execute("SELECT version, name, rule_type, fields, params, severity, mostly, dimension, enabled, "
                       "created_by, created_at, comment FROM quality_rules WHERE rule_id = ? ORDER BY version DESC",
                       [rule_id]).df()


def save_rule(db: Database, actor: str, rule: Rule, comment: str | None = None) -> int:
    """Add a rule or a new version of it; returns the version. Audited."""
    rule.validate()
    with db.transaction() as cur:
        previous = {r.rule_id: r for r in current_rules(cur)}.get(rule.rule_id)
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

    @property
    def pass_rate(self) -> float:
        return 1.0 if not self.applicable else 1 - self.failed / self.applicable

    @property
    def passed(self) -> bool:
        return self.pass_rate >= self.rule.mostly


def _duplicates_sql(i: int, rule: Rule, applicable: str) -> str:
    """(i, source, failed) for uniqueness rule i: the applicable rows whose key occurs more than once
    in their source. The same count as a `count(*) OVER (PARTITION BY source, key) > 1` window over
    the applicable rows, from one hash aggregate and no sort."""
    key = ", ".join(f"s.{x}" for x in rule.fields)
    return (f"SELECT {i} AS i, source, sum(n) AS failed FROM (SELECT s.source, {key}, count(*) AS n FROM std_records s "
            f"WHERE {applicable} GROUP BY ALL HAVING count(*) > 1) GROUP BY source")


def evaluate(cur: duckdb.DuckDBPyConnection, rules: list[Rule] | None = None) -> list[RuleResult]:
    """Evaluate rules per source in one scan of std_records, plus one aggregate of duplicate keys
    per uniqueness rule."""
    rules = current_rules(cur, enabled_only=True) if rules is None else rules
    if not rules:
        return []
    duplicates, aggregates, params = [], [], []
    for i, rule in enumerate(rules):
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
        raise RuleError(f"A rule failed to run: {str(exc).splitlines()[0]}") from None
    results = []
    for row in rows:
        source = row[0]
        for i, rule in enumerate(rules):
            failed = failed_unique.get((i, source), row[2 + 2 * i])  # a uniqueness rule's f{i} is 0
            results.append(RuleResult(rule, source, row[1 + 2 * i], failed))
    return results
