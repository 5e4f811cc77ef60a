"""City tiers for the built-in `city_tier` tag: Chinese cities by the 2024 ranking of the 第一财经·新一线城市研究所
(《2024城市商业魅力排行榜》): 4 一线, 15 新一线 and 30 二线 cities, and `lower` (三线及以下) for every other city.

The ranked lists are held here (TIERS). The ranking's lower tiers (三线 to 五线, about 290 cities) change
from year to year and no list of them is held here that could be checked, so they are one value: any
other known city of the mainland gets `lower`. Known cities are the prefecture-level cities (and the
county-level cities a province administers directly) of governance/standardize/regions.py (GB/T 2260);
Taiwan's cities, Hong Kong and Macau are not in the ranking and get no tier. A city text that is not a
known city (a typo, a district, free text) gets no value rather than a guessed one.

A golden city matches by its full name (深圳市, 大理白族自治州), its short name (深圳, 大理) or its name
without 市; the four municipalities also by the province when the city is empty or a placeholder such as
市辖区.
"""
from __future__ import annotations

from governance.standardize import regions
from governance.store.storage import quote_literal

SOURCE = "第一财经·新一线城市研究所《2024城市商业魅力排行榜》"

TIERS: dict[str, tuple[str, ...]] = {
    "tier1": ("北京", "上海", "广州", "深圳"),
    "new_tier1": ("成都", "杭州", "重庆", "武汉", "苏州", "西安", "南京", "长沙", "天津", "郑州", "东莞", "无锡",
                  "宁波", "青岛", "合肥"),
    "tier2": ("佛山", "沈阳", "昆明", "济南", "厦门", "福州", "温州", "哈尔滨", "石家庄", "大连", "南宁", "泉州",
              "金华", "贵阳", "常州", "长春", "南昌", "南通", "嘉兴", "徐州", "惠州", "太原", "台州", "绍兴",
              "保定", "中山", "潍坊", "临沂", "珠海", "烟台"),
}
LOWER = "lower"
NOT_RANKED = ("71", "81", "82")  # province code prefixes: Taiwan, Hong Kong, Macau


def _known_cities() -> dict[str, str]:
    """Every name of a known mainland city (full, short, without 市) -> its tier code."""
    ranked = {city: tier for tier, cities in TIERS.items() for city in cities}
    out: dict[str, str] = {}
    for line in regions.CITIES_TEXT.splitlines():
        _code, name, short, province = line.split("|")
        if province[:2] in NOT_RANKED:
            continue
        tier = ranked.get(short) or ranked.get(_strip(name)) or LOWER
        for key in (name, short, _strip(name)):
            out.setdefault(key, tier)
    missing = sorted(set(ranked) - set(out))
    if missing:  # the ranked lists must name known cities
        raise RuntimeError(f"city_tiers: not known cities: {', '.join(missing)}")
    return out


def _strip(text: str) -> str:
    return text[:-1] if text.endswith("市") and len(text) > 2 else text


TIER_OF: dict[str, str] = _known_cities()
MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
# What a city column holds for a municipality's own districts
CITY_PLACEHOLDERS = ("市辖区", "县", "城区", "郊县")


def short_name(city: str | None) -> str | None:
    """深圳市 -> 深圳; None for empty text."""
    if city is None or not city.strip():
        return None
    return _strip(city.strip())


def tier_of(city: str | None, province: str | None = None) -> str | None:
    """The tier code of a golden city (and province, for municipalities); None when not a known city."""
    name = short_name(city)
    if name is None or name in CITY_PLACEHOLDERS:
        name = short_name(province)
        return TIER_OF.get(name) if name in MUNICIPALITIES else None
    return TIER_OF.get((city or "").strip()) or TIER_OF.get(name)


def table_sql(alias: str = "city_tiers") -> str:
    """A VALUES relation `alias`(city, tier) of every name of a known city (see TIER_OF)."""
    rows = ", ".join(f"({quote_literal(c)}, {quote_literal(t)})" for c, t in TIER_OF.items())
    return f"(VALUES {rows}) AS {alias}(city, tier)"


def short_sql(x: str) -> str:
    """short_name in SQL over the VARCHAR expression x."""
    t = f"nullif(trim({x}), '')"
    return f"CASE WHEN ends_with({t}, '市') AND length({t}) > 2 THEN left({t}, length({t}) - 1) ELSE {t} END"


def match_sql(city: str, province: str) -> str:
    """SQL of the name to look up in table_sql() for a golden city and province expression (the city
    text as it is, trimmed; for a municipality's placeholder city, the province's short name)."""
    placeholders = ", ".join(quote_literal(p) for p in CITY_PLACEHOLDERS)
    municipalities = ", ".join(quote_literal(m) for m in MUNICIPALITIES)
    return (f"CASE WHEN {short_sql(city)} IS NULL OR {short_sql(city)} IN ({placeholders}) THEN "
            f"CASE WHEN {short_sql(province)} IN ({municipalities}) THEN {short_sql(province)} END "
            f"ELSE nullif(trim({city}), '') END")
