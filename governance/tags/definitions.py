"""What a tag definition is: its fields, value types, statuses, the category tree it starts with, the
technical-definition format, and the built-in tags every store starts with.

A technical definition is JSON, one of:
- a built-in template: {"template": "lifecycle_stage", "new_days": 30, "active_days": 90, "dormant_days": 180};
- a source mapping: {"source_mapping": {"conflict": "priority" | "recent", "priority": [source, …]}}: the
  value comes from the sources' own tag columns, mapped value by value (tags/source_tags);
- a rule (boolean tag): {"when": CONDITION};
- cases (enumeration tag): {"cases": [{"value": "high", "when": CONDITION}, …], "else": "low" | null};
- a metric (number tag): {"metric": {"event": "spend" | "orders", "days": 365, "category": […], "channel": […]}}.

A CONDITION (shared with audiences) is {"all": [C, …]}, {"any": [C, …]}, {"not": C}, or a test:
- {"field": golden field, OP: value}: province, city, gender, age, channels, channel_count, …;
- {"event": "spend" | "orders" | "last_order_days" | "first_order_days", "days": N, "category": […],
   "channel": […], OP: value}: aggregates of completed events as of the computation date;
- {"tag": code, OP: value}: another published tag's value;
where OP is one of eq, ne, in, not_in, gt, gte, lt, lte, or "is_null": true|false.
tags/conditions turns a condition into SQL; `check_technical` here checks the shape.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance.store.errors import GovernanceError
from governance.store.schema import CHANNELS

CODE_PATTERN = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
CODE_MAX = 48
VALUE_TYPES = ("enum", "boolean", "number", "date")
SENSITIVITIES = ("normal", "personal", "sensitive")
CADENCES = ("every_refresh", "daily", "weekly", "monthly")

DRAFT, IN_REVIEW, PUBLISHED, DEPRECATED, RETIRED = "draft", "in_review", "published", "deprecated", "retired"
SUPERSEDED = "superseded"  # an older version once a newer one is published or saved over it
STATUSES = (DRAFT, IN_REVIEW, PUBLISHED, DEPRECATED, RETIRED, SUPERSEDED)
COMPUTED_STATUSES = (PUBLISHED, DEPRECATED)  # values are kept up to date until the tag is retired

OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "is_null")
EVENT_AGGREGATES = ("spend", "orders", "last_order_days", "first_order_days")
METRIC_EVENTS = ("spend", "orders")
TEMPLATES = ("rfm_recency_days", "rfm_frequency_365", "rfm_monetary_365", "rfm_segment", "lifecycle_stage",
             "age_band", "city_tier", "preferred_channel", "preferred_category")
NUMBER_TEMPLATES = ("rfm_recency_days", "rfm_frequency_365", "rfm_monetary_365")  # the others are enumerations
CONFLICT_RULES = ("priority", "recent")


class TagError(GovernanceError):
    """A tag definition, rule or lifecycle step that is refused."""


@dataclass(frozen=True)
class Category:
    path: str
    name_zh: str
    name_en: str
    view_roles: tuple[str, ...] = ("admin", "steward", "analyst")
    edit_roles: tuple[str, ...] = ("admin", "steward")


# The tree a new store starts with (admins edit it).
DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category("basic", "基础属性", "Basic attributes"),
    Category("behaviour", "消费行为", "Purchase behaviour"),
    Category("preference", "偏好", "Preferences"),
    Category("lifecycle", "生命周期", "Lifecycle"),
    Category("value", "价值", "Value"),
    Category("channel", "渠道", "Channels"),
    Category("member", "会员", "Membership"),
)


@dataclass(frozen=True)
class AllowedValue:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class TagDefinition:
    code: str
    name_zh: str
    name_en: str
    category: str
    value_type: str
    technical: dict[str, Any]
    business_definition: str = ""
    allowed_values: tuple[AllowedValue, ...] = ()
    owner: str = "system"
    sensitivity: str = "normal"
    refresh_cadence: str = "every_refresh"
    # set by the library for stored versions
    version: int = 0
    status: str = DRAFT
    builtin: bool = False
    created_by: str = ""
    created_at: datetime | None = None
    reason: str | None = None

    def label(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def value_label(self, value: str | None, lang: str) -> str | None:
        """The display label of a stored value (enumeration codes have labels; others show as stored)."""
        for allowed in self.allowed_values:
            if allowed.code == value:
                return allowed.zh if lang == "zh" else allowed.en
        if self.value_type == "boolean" and value in ("true", "false"):
            return {"zh": {"true": "是", "false": "否"}, "en": {"true": "yes", "false": "no"}}[lang][value]
        return value

    def to_json(self) -> dict[str, Any]:
        """The definition as `tags show CODE --json` prints it; `tags add --file` reads it back."""
        return {"code": self.code, "version": self.version, "status": self.status, "name_zh": self.name_zh,
                "name_en": self.name_en, "category": self.category, "value_type": self.value_type,
                "allowed_values": [{"code": a.code, "zh": a.zh, "en": a.en} for a in self.allowed_values],
                "business_definition": self.business_definition, "technical_definition": self.technical,
                "owner": self.owner, "sensitivity": self.sensitivity, "refresh_cadence": self.refresh_cadence}


def _values(*triples: tuple[str, str, str]) -> tuple[AllowedValue, ...]:
    return tuple(AllowedValue(*t) for t in triples)


LIFECYCLE_VALUES = _values(("prospect", "潜在", "prospect"), ("new", "新客", "new"), ("active", "活跃", "active"),
                           ("dormant", "沉睡", "dormant"), ("churned", "流失", "churned"))
RFM_SEGMENTS = _values(("important_value", "重要价值", "important value"),
                       ("important_develop", "重要发展", "important to develop"),
                       ("important_keep", "重要保持", "important to keep"),
                       ("important_retain", "重要挽留", "important to win back"),
                       ("general_value", "一般价值", "general value"),
                       ("general_develop", "一般发展", "general to develop"),
                       ("general_keep", "一般保持", "general to keep"),
                       ("general_retain", "一般挽留", "general to win back"))
AGE_BANDS = _values(("under_18", "18岁以下", "under 18"), ("18_24", "18-24岁", "18-24"),
                    ("25_29", "25-29岁", "25-29"), ("30_34", "30-34岁", "30-34"), ("35_39", "35-39岁", "35-39"),
                    ("40_49", "40-49岁", "40-49"), ("50_59", "50-59岁", "50-59"), ("60_plus", "60岁及以上", "60+"))
CITY_TIERS = _values(("tier1", "一线", "tier 1"), ("new_tier1", "新一线", "new tier 1"), ("tier2", "二线", "tier 2"),
                     ("lower", "三线及以下", "tier 3 and below"))
CHANNEL_VALUES = _values(*((code, zh, en) for code, (zh, en) in CHANNELS.items()))
MEMBER_TIERS = _values(("regular", "普通会员", "regular"), ("silver", "银卡", "silver"), ("gold", "金卡", "gold"),
                       ("platinum", "白金卡", "platinum"), ("diamond", "钻石卡", "diamond"))


def _builtin(code: str, zh: str, en: str, category: str, value_type: str, technical: dict, business: str,
             values: tuple[AllowedValue, ...] = ()) -> TagDefinition:
    return TagDefinition(code, zh, en, category, value_type, technical, business, values,
                         version=1, status=PUBLISHED, builtin=True, created_by="system")


BUILTINS: tuple[TagDefinition, ...] = (
    _builtin("rfm_recency_days", "最近消费间隔天数", "Days since last order", "value", "number",
             {"template": "rfm_recency_days"},
             "截至计算日，距最近一笔已完成订单的天数；从未下单则无值。"),
    _builtin("rfm_frequency_365", "近365天订单数", "Orders in the last 365 days", "value", "number",
             {"template": "rfm_frequency_365"},
             "计算日及之前365天内已完成订单的笔数（退款、取消、未完成的订单不计）；有过已完成订单但近365天没有则为0，"
             "从未下单则无值。"),
    _builtin("rfm_monetary_365", "近365天消费金额", "Spend in the last 365 days", "value", "number",
             {"template": "rfm_monetary_365"},
             "计算日及之前365天内已完成订单的金额合计（退款、取消、未完成的订单不计）；有过已完成订单但近365天没有则为0，"
             "从未下单则无值。"),
    _builtin("rfm_segment", "RFM客户分群", "RFM segment", "value", "enum", {"template": "rfm_segment"},
             "按最近消费、频次、金额的五分位得分（3 分及以上为高）分为八类；五分位阈值由该计算日的首次计算确定，"
             "同一计算日的后续计算沿用；从未下单则无值。", RFM_SEGMENTS),
    _builtin("lifecycle_stage", "生命周期阶段", "Lifecycle stage", "lifecycle", "enum",
             {"template": "lifecycle_stage", "new_days": 30, "active_days": 90, "dormant_days": 180},
             "潜在：无已完成订单；新客：首单在30天内（优先于活跃）；活跃：最近一单在90天内；"
             "沉睡：90–180天；流失：超过180天。只计已完成订单。", LIFECYCLE_VALUES),
    _builtin("age_band", "年龄段", "Age band", "basic", "enum", {"template": "age_band"},
             "按黄金记录的出生日期，截至计算日的年龄分段。", AGE_BANDS),
    _builtin("city_tier", "城市等级", "City tier", "basic", "enum", {"template": "city_tier"},
             "按黄金记录的城市，对照《2024城市商业魅力排行榜》：一线、新一线、二线，其余已知城市为三线及以下；"
             "无法识别的城市无值。", CITY_TIERS),
    _builtin("preferred_channel", "偏好渠道", "Preferred channel", "channel", "enum", {"template": "preferred_channel"},
             "近365天已完成订单金额最高的渠道。", CHANNEL_VALUES),
    _builtin("preferred_category", "偏好品类", "Preferred category", "preference", "enum",
             {"template": "preferred_category"}, "近365天已完成订单金额最高的商品品类。"),
    _builtin("member_tier", "会员等级", "Member tier", "member", "enum",
             {"source_mapping": {"conflict": "priority", "priority": []}},
             "各来源的会员等级按来源映射统一为标准等级；来源不一致时按来源优先级取值。", MEMBER_TIERS),
)
BUILTIN_CODES = tuple(t.code for t in BUILTINS)


# ---- checks ---------------------------------------------------------------------------------------

def check_code(code: str) -> None:
    if not isinstance(code, str) or len(code) > CODE_MAX or not CODE_PATTERN.fullmatch(code):
        raise TagError(f"Tag code {code!r} must be lower snake case (letters, digits and single underscores, "
                       f"starting with a letter), at most {CODE_MAX} characters.")


def check_condition(cond: Any, depth: int = 0) -> None:
    """Refuse a condition that is not of the documented shape (see the module docstring)."""
    if depth > 20:
        raise TagError("A condition is nested more than 20 levels deep.")
    if not isinstance(cond, dict) or not cond:
        raise TagError("A condition must be a JSON object such as {\"field\": \"province\", \"in\": [\"广东省\"]}.")
    if "all" in cond or "any" in cond:
        key = "all" if "all" in cond else "any"
        parts = cond[key]
        if len(cond) != 1 or not isinstance(parts, list) or not parts:
            raise TagError(f"\"{key}\" takes a non-empty list of conditions and nothing beside it.")
        for part in parts:
            check_condition(part, depth + 1)
        return
    if "not" in cond:
        if len(cond) != 1:
            raise TagError("\"not\" takes one condition and nothing beside it.")
        check_condition(cond["not"], depth + 1)
        return
    subjects = [k for k in ("field", "event", "tag", "audience") if k in cond]
    if len(subjects) != 1:
        raise TagError("A test names exactly one of field, event or tag.")
    ops = [k for k in cond if k in OPERATORS]
    if len(ops) != 1:
        raise TagError(f"A test takes exactly one operator: {', '.join(OPERATORS)}.")
    if subjects[0] == "event":
        if cond["event"] not in EVENT_AGGREGATES:
            raise TagError(f"Unknown event aggregate {cond['event']!r}; choose one of {', '.join(EVENT_AGGREGATES)}.")
        days = cond.get("days")
        if days is not None and (not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3660):
            raise TagError("\"days\" must be a whole number of days from 1 to 3660.")
    allowed = {subjects[0], ops[0], "days", "category", "channel"}
    unknown = sorted(set(cond) - allowed)
    if unknown:
        raise TagError(f"Unknown key in a condition: {', '.join(unknown)}.")
    value = cond[ops[0]]
    if ops[0] in ("in", "not_in") and (not isinstance(value, list) or not value):
        raise TagError(f"\"{ops[0]}\" takes a non-empty list of values.")
    if ops[0] == "is_null" and not isinstance(value, bool):
        raise TagError("\"is_null\" takes true or false.")


def check_technical(value_type: str, technical: Any) -> None:
    """Refuse a technical definition that does not fit its value type."""
    if not isinstance(technical, dict) or not technical:
        raise TagError("The technical definition must be a JSON object.")
    if "template" in technical:
        if technical["template"] not in TEMPLATES:
            raise TagError(f"Unknown template {technical['template']!r}.")
        if value_type != ("number" if technical["template"] in NUMBER_TEMPLATES else "enum"):
            raise TagError(f"The template {technical['template']} gives values of another type than {value_type}.")
        return
    if "source_mapping" in technical:
        spec = technical["source_mapping"]
        if not isinstance(spec, dict) or spec.get("conflict", "priority") not in CONFLICT_RULES:
            raise TagError(f"A source mapping names its conflict rule: {' or '.join(CONFLICT_RULES)}.")
        return
    if "when" in technical:
        if value_type != "boolean":
            raise TagError("A rule with \"when\" defines a boolean tag.")
        check_condition(technical["when"])
        return
    if "cases" in technical:
        if value_type != "enum":
            raise TagError("\"cases\" define an enumeration tag.")
        cases = technical["cases"]
        if not isinstance(cases, list) or not cases or not all(isinstance(c, dict) and set(c) == {"value", "when"}
                                                                  for c in cases):
            raise TagError("\"cases\" is a list of {\"value\": …, \"when\": condition}.")
        for case in cases:
            check_condition(case["when"])
        return
    if "metric" in technical:
        metric = technical["metric"]
        if value_type != "number" or not isinstance(metric, dict) or metric.get("event") not in METRIC_EVENTS:
            raise TagError(f"A metric defines a number tag from an event aggregate: {', '.join(METRIC_EVENTS)}.")
        return
    raise TagError("The technical definition needs one of: template, source_mapping, when, cases, metric.")


def check_definition(tag: TagDefinition) -> None:
    """Everything about one definition that does not need the store (names, types, values, rule shape)."""
    check_code(tag.code)
    if not tag.name_zh.strip() or not tag.name_en.strip():
        raise TagError("A tag needs a Chinese and an English name.")
    if tag.value_type not in VALUE_TYPES:
        raise TagError(f"Unknown value type {tag.value_type!r}; choose one of {', '.join(VALUE_TYPES)}.")
    if tag.sensitivity not in SENSITIVITIES:
        raise TagError(f"Unknown sensitivity {tag.sensitivity!r}; choose one of {', '.join(SENSITIVITIES)}.")
    if tag.refresh_cadence not in CADENCES:
        raise TagError(f"Unknown refresh cadence {tag.refresh_cadence!r}; choose one of {', '.join(CADENCES)}.")
    if tag.value_type == "enum" and not tag.allowed_values and "template" not in tag.technical:
        raise TagError("An enumeration tag lists its allowed values.")
    codes = [a.code for a in tag.allowed_values]
    if len(set(codes)) != len(codes) or not all(c.strip() for c in codes):
        raise TagError("Allowed values must be distinct and not empty.")
    check_technical(tag.value_type, tag.technical)
    if "cases" in tag.technical and tag.allowed_values:
        unknown = sorted({str(c["value"]) for c in tag.technical["cases"]} - set(codes)
                         | ({str(tag.technical["else"])} - set(codes) if tag.technical.get("else") is not None else set()))
        if unknown:
            raise TagError(f"Case values not among the allowed values: {', '.join(unknown)}.")


def from_json(data: Any) -> TagDefinition:
    """A definition from `tags show --json` output or a file; `status` and `version` are ignored."""
    if not isinstance(data, dict):
        raise TagError("A tag definition file holds one JSON object.")
    missing = [k for k in ("code", "name_zh", "name_en", "category", "value_type", "technical_definition")
               if k not in data]
    if missing:
        raise TagError(f"The tag definition lacks: {', '.join(missing)}.")
    allowed = data.get("allowed_values") or []
    if not isinstance(allowed, list):
        raise TagError("allowed_values is a list.")
    values = []
    for a in allowed:
        if isinstance(a, str):
            values.append(AllowedValue(a, a, a))
        elif isinstance(a, dict) and "code" in a:
            values.append(AllowedValue(str(a["code"]), str(a.get("zh") or a["code"]), str(a.get("en") or a["code"])))
        else:
            raise TagError("Each allowed value is a code or {\"code\", \"zh\", \"en\"}.")
    tag = TagDefinition(
        code=data["code"], name_zh=str(data["name_zh"]), name_en=str(data["name_en"]), category=str(data["category"]),
        value_type=str(data["value_type"]), technical=data["technical_definition"],
        business_definition=str(data.get("business_definition") or ""), allowed_values=tuple(values),
        owner=str(data.get("owner") or ""), sensitivity=str(data.get("sensitivity") or "normal"),
        refresh_cadence=str(data.get("refresh_cadence") or "every_refresh"))
    check_definition(tag)
    return tag
