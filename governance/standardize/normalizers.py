"""Pure value normalizers for the standardize stage (China rules: governance-anchors section 4).

Every public ``normalize_*`` function takes one raw cell value (``str`` or ``None``; other
types are tolerated and turned into text) and returns a :class:`Result`.  The functions

* never raise on any raw value (garbage, emoji, control characters, 10,000 characters ...),
  and are pure: the same input always gives an equal result;
* apply anchors 4.1 pre-normalization, then 4.2 sentinels, then the field rule, in that order;
* return ``value`` only for status ``valid`` / ``valid_with_warning``; it is ``None`` for
  ``invalid``, ``missing``, ``masked`` and ``placeholder`` (an unusable value is never a key);
* use ``reason`` for UPPER_SNAKE codes listed in :data:`REASONS`; ``None`` for a clean value.
  A few reasons are informational on a ``valid`` value (``MOBILE_MVNO``,
  ``SPREADSHEET_REPAIRED``, ``ID_PERMIT``);
* report missing input (``None``, ``''``, whitespace, Excel error literals such as ``#N/A``)
  as ``Result(None, 'missing', 'MISSING')``.

Decisions where the brief left a choice (all covered by tests):

* landline ``value`` is the national form ``'010-12345678'`` / ``'0755-12345678'`` (area code
  with trunk 0, a hyphen, the subscriber number); E.164 is in ``extra['e164']``.
* A surname plus salutation (``王先生``) is a partial name: value ``'王'``, salutation ``'先生'``,
  status ``valid_with_warning``, reason ``NAME_SURNAME_ONLY``.  A bare salutation is a placeholder.
* Dates: ambiguous ``01/02/1990`` is read month-first (US / Excel en-US) for ``/`` and ``-``
  and day-first for ``.`` (European), with ``DATE_AMBIGUOUS`` and ``extra['alternative']``.
  Partial dates (``01-02``, ``1月2日``, ``1990-05``, ``1990``) give ``value None`` with
  ``DATE_NO_YEAR`` / ``DATE_NO_DAY`` / ``DATE_YEAR_ONLY`` and the parts in ``extra``.
* Timestamps with an explicit UTC offset and unix epoch numbers are converted to China
  Standard Time (UTC+8); naive times are taken as already local.
* Mobile dummies: ``≥ 8`` identical trailing digits, or a strictly ascending/descending run of
  9 digits (8 steps).  A run of exactly 8 digits (``155 1234 5678``) is *not* a dummy: the
  anchors use ``008615512345678`` and ``15412345678`` as real test vectors.
* A resident ID whose holder would be older than 120 is ``valid_with_warning``
  ``ID_AGE_IMPLAUSIBLE`` (the anchors' checksum vector ``440524188001010014`` is from 1880).
  Unknown 6-digit region codes are not flagged (abolished codes stay on valid cards); only an
  unknown 2-digit province code gives ``ID_REGION_UNKNOWN``.
* Invalid arguments other than the raw value (``zero_means``, ``platform``) raise ``ValueError``:
  they are programming errors, not data.
* A non-mainland mobile (``+852 6123 4567``) keeps its E.164 form as value, ``MOBILE_FOREIGN``.
* ID-derived ``age`` / ``is_minor`` depend on ``today`` (default: today in China): a cached
  result goes stale as people age; ``birth_date`` does not.
* ``family_name`` / ``given_name`` fields use :func:`normalize_family_name` /
  :func:`normalize_given_name` (not in the brief; same rules as names, plus pinyin).
* ``other_id`` keeps a valid mainland resident ID (``valid_with_warning``,
  ``OTHER_ID_IS_RESIDENT_ID``) rather than refusing it: the value is right, the column is mapped to
  the wrong field.  All-same characters and runs of digits (``1234567``) are dummies.
* ``age_band`` values are closed age ranges with inclusive bounds (``under 18`` is ``0-17``, an
  open top is ``30-``) or a generation's birth years (``1990-1999``); the birth years an age range
  implies are computed per record from its batch's upload year, not cached with the value.

Run-time data: ``regions.py`` (GB/T 2260 divisions from jionlp 1.5.31, Apache-2.0) and
``names_data.py`` (surnames, surname readings, pinyin syllables).  pypinyin and OpenCC are
imported on first use of a name normalizer.
"""
from __future__ import annotations

import functools
import math
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from governance.standardize import names_data, regions

STATUSES = ("valid", "valid_with_warning", "invalid", "missing", "masked", "placeholder")
_VALID, _WARN, _INVALID = "valid", "valid_with_warning", "invalid"
VALID = (_VALID, _WARN)  # the statuses whose value may be used

Extra = dict[str, str | int | bool | None]


@dataclass(frozen=True, slots=True)
class Result:
    value: str | None
    status: str
    reason: str | None = None
    extra: Extra | None = None


_R_MISSING = Result(None, "missing", "MISSING")
_R_PLACEHOLDER = Result(None, "placeholder", "PLACEHOLDER")
_R_ERROR = Result(None, "invalid", "NORMALIZER_ERROR")


def _invalid(reason: str, extra: Extra | None = None) -> Result:
    return Result(None, _INVALID, reason, extra)


def _masked(key: str | None) -> Result:
    return Result(None, "masked", "MASKED", {"masked_key": key})


def _never_raise(fn: Callable[..., Result]) -> Callable[..., Result]:
    """Turn an unexpected exception into an ``invalid NORMALIZER_ERROR`` result."""
    @functools.wraps(fn)
    def wrapper(raw, *args, **kwargs):
        try:
            return fn(raw, *args, **kwargs)
        except Exception:  # noqa: BLE001 - a normalizer must never stop a run
            return _R_ERROR
    return wrapper


# ---------------------------------------------------------------------------------------------
# 4.1 pre-normalization
# ---------------------------------------------------------------------------------------------

_CLEAN_TABLE: dict[int, str | None] = {}
for _cp in range(0x20):
    _CLEAN_TABLE[_cp] = " " if chr(_cp) in "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f" else None
for _cp in range(0x7F, 0xA0):
    _CLEAN_TABLE[_cp] = " " if _cp == 0x85 else None
for _cp in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x180E, 0x200E, 0x200F,
            0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0xFFFC):
    _CLEAN_TABLE[_cp] = None
for _cp in range(0xD800, 0xE000):  # lone surrogates cannot be encoded: drop them
    _CLEAN_TABLE[_cp] = None
_CLEAN_TABLE[0x2028] = _CLEAN_TABLE[0x2029] = " "

_EXCEL_ERRORS = frozenset({
    "#N/A", "#N/A N/A", "#NA", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
    "#GETTING_DATA", "#EXTERNAL!", "#PYTHON!"})


def _coerce(raw: object) -> str | None:
    if isinstance(raw, float):
        if math.isnan(raw) or math.isinf(raw):
            return None
        return repr(raw)
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    try:
        return str(raw)
    except Exception:  # noqa: BLE001
        return None


def prenormalize(raw: str | None) -> str | None:
    """NFKC, drop control / zero-width characters, trim, collapse whitespace, undo Excel artefacts.

    Returns ``None`` for empty input and for Excel error literals (``#N/A``, ``#VALUE!`` ...).
    A leading apostrophe (Excel's "text" marker) and the ``="..."`` formula wrapper are removed.
    """
    if raw is None:
        return None
    s = raw if raw.__class__ is str else _coerce(raw)
    if not s:
        return None
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s.translate(_CLEAN_TABLE))
    if not s.isprintable():
        s = s.translate(_CLEAN_TABLE)
    s = " ".join(s.split())
    if not s:
        return None
    first = s[0]
    if first == "'":
        s = s[1:].strip()
        if not s:
            return None
        first = s[0]
    elif first == "=" and len(s) > 3 and s[1] == '"' and s[-1] == '"':
        s = s[2:-1].strip()
        if not s:
            return None
        first = s[0]
    if first == "#" and s.upper() in _EXCEL_ERRORS:
        return None
    return s


# ---------------------------------------------------------------------------------------------
# 4.2 sentinels
# ---------------------------------------------------------------------------------------------

PLACEHOLDERS: frozenset[str] = frozenset(p.casefold() for p in (
    "无", "暂无", "没有", "空", "未知", "不详", "未填", "未填写", "待补充", "待定", "同上", "无信息",
    "暂无信息", "不知道", "未提供", "无数据", "缺失", "无效", "略",
    "null", "NULL", "None", "nan", "NaN", "N/A", "n/a", "NA", "nil", "undefined", "<NA>", "NaT",
    "<NaT>", "(null)", "<null>", "[null]", "none", "empty", "unknown", "-", "--", "---", "—", "——",
    "–", "/", "//", "\\", "?", "??", "???", "test", "测试", "x", "xx", "xxx", "xxxx",
))
"""Generic missing values (casefolded), compared after :func:`prenormalize`, case-insensitive."""

# only punctuation / dashes (not '*', which marks a masked value)
_PUNCT_ONLY_RE = re.compile(r"^[\s!-)+-/:-@\[-`{-~\u2010-\u2027\u3000-\u303f\u00b7\u30fb]+$")
# '0' is a sentinel for identifier fields only (anchors 4.2)
_ID_SENTINELS = frozenset({"0", "00", "000", "0000", "-1", "0.0", "1", "-"})


def _is_placeholder(s: str) -> bool:
    return s.casefold() in PLACEHOLDERS or _PUNCT_ONLY_RE.match(s) is not None


def is_placeholder(value: str) -> bool:
    """Whether a raw value says "no value" (无, N/A, -, ——) rather than holding one."""
    return _is_placeholder(value.strip())


# ---------------------------------------------------------------------------------------------
# generic text
# ---------------------------------------------------------------------------------------------

_NAME_PLACEHOLDERS = frozenset(p.casefold() for p in (
    "先生", "女士", "小姐", "顾客", "客户", "会员", "匿名", "用户", "测试", "微信用户", "匿名用户",
    "测试用户", "新用户", "游客", "访客", "买家", "收货人", "亲", "本人", "某某", "无名", "无名氏",
    "微信昵称", "抖音用户", "淘宝用户", "wechat user", "anonymous", "customer", "user", "guest",
))
_NICKNAME_PLACEHOLDERS = _NAME_PLACEHOLDERS | frozenset({"微信用户", "抖音用户", "wx_user", "unknown user"})
# the name a platform gives an account that chose none: one of those words and a number (用户1825435316)
_DEFAULT_ACCOUNT_NAME_RE = re.compile("(?:" + "|".join(map(re.escape, sorted(_NAME_PLACEHOLDERS, key=len, reverse=True)))
                                      + r")[\s_\-]?\d{3,}", re.IGNORECASE)


def _is_name_placeholder(s: str) -> bool:
    """A name cell that names no one: 无, 客户, 微信用户, 用户1825435316."""
    return _is_placeholder(s) or s.casefold() in _NAME_PLACEHOLDERS or _DEFAULT_ACCOUNT_NAME_RE.fullmatch(s) is not None
_TEXT_MAX = 500


@_never_raise
def normalize_text(raw: str | None, field: str | None = None) -> Result:
    """Generic text: pre-normalize, placeholder and masked checks; value = the cleaned text."""
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s) or (field in ("nickname", "name") and s.casefold() in _NICKNAME_PLACEHOLDERS):
        return _R_PLACEHOLDER
    if "*" in s:
        return _masked(s)
    if len(s) > _TEXT_MAX:
        return Result(s, _WARN, "TEXT_TOO_LONG")
    return Result(s, _VALID)


# ---------------------------------------------------------------------------------------------
# spreadsheet number artefacts
# ---------------------------------------------------------------------------------------------

_FLOAT_RE = re.compile(r"^(\+?\d+)\.0+$")
_SCI_RE = re.compile(r"^(\d)(?:\.(\d+))?[eE]\+?(\d{1,2})$")


def _from_scientific(s: str) -> tuple[str, int] | None:
    """'1.38001380E+10' -> ('13800138000', significant digits given); None if not integral."""
    m = _SCI_RE.match(s)
    if m is None:
        return None
    lead, frac, exp = m.group(1), m.group(2) or "", int(m.group(3))
    frac = frac.rstrip("0")
    if len(frac) > exp:
        return None
    digits = lead + frac
    return digits + "0" * (exp + 1 - len(digits)), len(digits)


# ---------------------------------------------------------------------------------------------
# 4.3 mainland mobile numbers
# ---------------------------------------------------------------------------------------------

_CM, _CU, _CT, _CB = "china_mobile", "china_unicom", "china_telecom", "china_broadnet"


def _build_mobile_prefixes() -> dict[str, tuple[str | None, str]]:
    table: dict[str, tuple[str | None, str]] = {}

    def add(carrier: str | None, kind: str, *prefixes: str) -> None:
        for p in prefixes:
            table[p] = (carrier, kind)

    add(_CM, "mno", *(f"134{i}" for i in range(9)), "135", "136", "137", "138", "139", "150", "151",
        "152", "157", "158", "159", "172", "178", "182", "183", "184", "187", "188", "195", "197", "198")
    add(_CU, "mno", "130", "131", "132", "155", "156", "166", "175", "176", "185", "186", "196")
    add(_CT, "mno", "133", "1349", "153", "173", *(f"1740{i}" for i in range(6)), "177", "180", "181",
        "189", "190", "191", "193", "199")
    add(_CB, "mno", "192")
    add(_CT, "mvno", "162", "1700", "1701", "1702")
    add(_CM, "mvno", "165", "1703", "1705", "1706")
    add(_CU, "mvno", "167", "1704", "1707", "1708", "1709", "171")
    add(_CU, "data", "145")
    add(_CM, "data", "147")
    add(_CT, "data", "149")
    add(None, "satellite", "1749", *(f"174{i:02d}" for i in range(6, 13)))
    return table


_MOBILE_PREFIXES = _build_mobile_prefixes()
_IOT_PREFIXES = {"1440": _CM, "1441": _CM, "148": _CM, "146": _CU, "1410": _CT}
_MOBILE_DUMMIES = frozenset({"13800138000", "13888888888", "12345678901", "00000000000", "11111111111",
                             "13800000000", "13000000000", "10000000000", "19999999999"})
_RUNS9 = ("012345678", "123456789", "876543210", "987654321")
_IP_PREFIXES = ("17951", "17911", "12593", "17909", "11808")
_PHONE_SEP_RE = re.compile(r"[\s\-.()/\\\[\]_—–~]+")
_EXT_MARK_RE = re.compile(r"^(.*?\d)\s*(?:转|分机|ext\.?|extension|x|#)\s*(\d{1,6})$", re.I)
_MULTI_SPLIT_RE = re.compile(r"[,;/|、\s]+")
_MASKED_MOBILE_RE = re.compile(r"^(\d{3})\*+(\d{4})$")
_PHONE_LABEL_RE = re.compile(r"^(?:(?:联系|移动|固定|办公|家庭|住宅)?(?:手机|电话|座机)(?:号码|号)?|tel|phone|mobile|mob|cell|fax)"
                             r"\s*[:：.]?\s*", re.I)


def _is_dummy_number(n: str) -> bool:
    if n in _MOBILE_DUMMIES or n.endswith(n[-1] * 8):
        return True
    return any(r in n for r in _RUNS9)


def _strip_cn_prefix(d: str) -> str:
    """Country code 86, IP-dial prefixes and the trunk 0 in front of an 11-digit 1... number."""
    for _ in range(3):
        n = len(d)
        if n == 13 and d.startswith("86") and d[2] == "1":
            d = d[2:]
        elif n == 16 and d[5] == "1" and d.startswith(_IP_PREFIXES):
            d = d[5:]
        elif n == 12 and d[0] == "0" and d[1] == "1":
            d = d[1:]
        else:
            break
    return d


def _split_country(d: str) -> tuple[str, bool]:
    """Remove +86 / 0086 / (+86); return (rest, is_foreign)."""
    if d.startswith("+"):
        if d.startswith("+86"):
            return d[3:], False
        return d[1:], True
    if d.startswith("0086"):
        return d[4:], False
    if d.startswith("00") and len(d) > 8 and d[2] != "0":
        return d[2:], True
    return d, False


def _mobile_masked_key(s: str) -> str | None:
    d = _PHONE_SEP_RE.sub("", s)
    d, _ = _split_country(d)
    if len(d) == 13 and d.startswith("86"):
        d = d[2:]
    m = _MASKED_MOBILE_RE.match(d)
    return f"{m.group(1)}****{m.group(2)}" if m else None


def _split_extension(s: str, complete: Callable[[str], bool]) -> tuple[str, str | None]:
    m = _EXT_MARK_RE.match(s)
    if m is not None:
        return m.group(1), m.group(2)
    if "-" in s:
        main, _, tail = s.rpartition("-")
        tail = tail.strip()
        if 0 < len(tail) <= 6 and tail.isdigit() and tail.isascii() and complete(main):
            return main.strip(), tail
    return s, None


def _is_complete_mobile(main: str) -> bool:
    d, foreign = _split_country(_PHONE_SEP_RE.sub("", main))
    return not foreign and d.isdigit() and len(_strip_cn_prefix(d)) == 11


def _foreign_phone(d: str) -> Result:
    try:
        num = phonenumbers.parse("+" + d, None)
    except phonenumbers.NumberParseException:
        return _invalid("MOBILE_FORMAT")
    if not phonenumbers.is_valid_number(num):
        return _invalid("MOBILE_FORMAT")
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return Result(e164, _WARN, "MOBILE_FOREIGN", {"e164": e164, "country_code": num.country_code})


def _classify_mobile(n: str, ext: str | None, repaired: str | None, multiple: bool) -> Result:
    """n: 11 ASCII digits."""
    if n[0] != "1" and n not in _MOBILE_DUMMIES:
        return _invalid("LANDLINE_IN_MOBILE" if n[0] == "0" else "MOBILE_FORMAT")
    if _is_dummy_number(n):
        return Result(None, "placeholder", "MOBILE_DUMMY",
                      {"ext": ext, "repaired": repaired} if ext or repaired else None)
    if n[1] in "012":
        return _invalid("MOBILE_FORMAT")
    info = _MOBILE_PREFIXES.get(n[:5]) or _MOBILE_PREFIXES.get(n[:4]) or _MOBILE_PREFIXES.get(n[:3])
    carrier, kind = info if info is not None else (None, "unknown")
    if kind == "satellite":
        return _invalid("MOBILE_SATELLITE")
    extra: Extra = {"e164": "+86" + n, "carrier": carrier, "mvno": kind == "mvno",
                    "data_card": kind == "data", "ext": ext, "masked_key": None, "repaired": repaired}
    if ext is not None:  # first: OneID reads this reason as "no one's number"
        return Result(n, _WARN, "VIRTUAL_OR_RELAY", extra)
    if kind == "unknown":
        return Result(n, _WARN, "MOBILE_PREFIX_UNKNOWN", extra)
    if kind == "data":
        return Result(n, _WARN, "DATA_CARD", extra)
    if multiple:
        return Result(n, _WARN, "MULTIPLE_VALUES", extra)
    if kind == "mvno":
        return Result(n, _VALID, "MOBILE_MVNO", extra)
    if repaired is not None:
        return Result(n, _VALID, "SPREADSHEET_REPAIRED", extra)
    return Result(n, _VALID, None, extra)


@_never_raise
def normalize_mobile(raw: str | None) -> Result:
    """Mainland mobile number -> 11-digit national form (anchors 4.3)."""
    if raw.__class__ is str and len(raw) == 11 and raw.isdigit() and raw.isascii():
        return _classify_mobile(raw, None, None, False)
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s) or s in _ID_SENTINELS:
        return _R_PLACEHOLDER
    if not s[0].isdigit() and s[0] not in "+(":
        s = _PHONE_LABEL_RE.sub("", s, count=1) or s
    if "*" in s:
        return _masked(_mobile_masked_key(s))
    multiple = False
    if len(s) > 16:
        parts = [p for p in _MULTI_SPLIT_RE.split(s) if sum(c.isdigit() for c in p) >= 11]
        if len(parts) >= 2:
            s, multiple = parts[0], True
    if "." not in s and "e" not in s and "E" not in s:
        d, foreign = _split_country(_PHONE_SEP_RE.sub("", s))
        if not foreign and d.isdigit() and d.isascii():
            d = _strip_cn_prefix(d)
            if len(d) == 11:
                return _classify_mobile(d, None, None, multiple)
    main, ext = _split_extension(s, _is_complete_mobile)
    repaired = None
    m = _FLOAT_RE.match(main)
    if m is not None:
        main, repaired = m.group(1), "FLOAT"
    else:
        sci = _from_scientific(main)
        if sci is not None:
            main, repaired = sci[0], "SCIENTIFIC"
            if sci[1] < 7:
                return _invalid("MOBILE_PRECISION_LOSS", {"repaired": repaired})
    d = _PHONE_SEP_RE.sub("", main)
    d, foreign = _split_country(d)
    if not (d.isdigit() and d.isascii()):
        return _invalid("MOBILE_FORMAT")
    if foreign:
        return _foreign_phone(d)
    d = _strip_cn_prefix(d)
    n = len(d)
    if n == 11:
        return _classify_mobile(d, ext, repaired, multiple)
    if n == 13 and d.startswith("14"):
        carrier = _IOT_PREFIXES.get(d[:4]) or _IOT_PREFIXES.get(d[:3])
        if carrier is not None:
            return _invalid("MOBILE_IOT", {"carrier": carrier})
    if (d[:1] == "0" and 10 <= n <= 12) or (n in (7, 8) and d[0] != "1"):
        return _invalid("LANDLINE_IN_MOBILE")
    return _invalid("MOBILE_LENGTH")


# ---------------------------------------------------------------------------------------------
# 4.4 landline
# ---------------------------------------------------------------------------------------------

_SERVICE_RE = re.compile(r"^(?:[48]00\d{7}|95\d{3,4}|96\d{3}|10\d{3}|12\d{3})$")
_FIXED_TYPES = frozenset({phonenumbers.PhoneNumberType.FIXED_LINE,
                          phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
                          phonenumbers.PhoneNumberType.VOIP,
                          phonenumbers.PhoneNumberType.UAN})


def _landline_national(main: str) -> str | None:
    """Digits of a landline in national form (with trunk 0); None if it is not a digit string."""
    d0 = _PHONE_SEP_RE.sub("", main)
    intl = d0.startswith(("+86", "0086"))
    d, foreign = _split_country(d0)
    if foreign or not (d.isdigit() and d.isascii()):
        return None
    if not intl and len(d) >= 11 and d.startswith("86") and d[2] != "0":
        d, intl = d[2:], True
    if intl and d and d[0] != "0" and not (len(d) == 11 and d[0] == "1" and d[1] in "3456789"):
        d = "0" + d  # the international form drops the trunk 0
    return d


def _is_complete_landline(main: str) -> bool:
    d = _landline_national(main)
    return d is not None and ((d[:1] == "0" and 10 <= len(d) <= 12) or (len(d) == 11 and d[0] == "1"))


def _is_dummy_subscriber(sub: str) -> bool:
    # Only repeated digits: ascending runs such as 12345678 stay valid, as for mobiles (the anchors
    # use 010-12345678 as a format example).
    return sub.count(sub[0]) == len(sub)


@_never_raise
def normalize_landline(raw: str | None) -> Result:
    """Fixed-line number -> national form 'AREA-SUBSCRIBER' ('010-12345678'); E.164 in extra."""
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s) or s in _ID_SENTINELS:
        return _R_PLACEHOLDER
    if not s[0].isdigit() and s[0] not in "+(":
        s = _PHONE_LABEL_RE.sub("", s, count=1) or s
    if "*" in s:
        return _masked(_PHONE_SEP_RE.sub("", s))
    main, ext = _split_extension(s, _is_complete_landline)
    repaired = None
    m = _FLOAT_RE.match(main)
    if m is not None:
        main, repaired = m.group(1), "FLOAT"
    d = _landline_national(main)
    if d is None or not d:
        return _invalid("INVALID_LANDLINE")
    n = len(d)
    if d[0] != "0" and 9 <= n <= 11 and not (d[0] == "1" and d[1] in "3456789") and not _SERVICE_RE.match(d):
        d, n, repaired = "0" + d, n + 1, "LEADING_ZERO"  # a spreadsheet dropped the trunk 0
    if n == 11 and d[0] == "1" and d[1] in "3456789":
        mob = normalize_mobile(d)
        if mob.value is None:
            return mob
        return Result(d, _WARN, "MOBILE_IN_LANDLINE", {"e164": "+86" + d, "area_code": None, "ext": ext})
    if _SERVICE_RE.match(d):
        return Result(d, _WARN, "SERVICE_NUMBER", {"e164": None, "area_code": None, "ext": ext})
    if d[0] != "0":
        if n in (7, 8):
            if _is_dummy_subscriber(d):
                return Result(None, "placeholder", "LANDLINE_DUMMY")
            return Result(d, _WARN, "NO_AREA_CODE", {"e164": None, "area_code": None, "ext": ext})
        return _invalid("INVALID_LANDLINE")
    alen = 3 if d[1] in "12" else 4
    area, sub = d[:alen], d[alen:]
    if not 7 <= len(sub) <= 8:
        return _invalid("INVALID_LANDLINE")
    if _is_dummy_subscriber(sub):
        return Result(None, "placeholder", "LANDLINE_DUMMY")
    num = phonenumbers.PhoneNumber(country_code=86, national_number=int(d[1:]))
    if phonenumbers.number_type(num) not in _FIXED_TYPES:  # UNKNOWN when not a valid number
        return _invalid("INVALID_LANDLINE")
    extra: Extra = {"e164": "+86" + d[1:], "area_code": area, "ext": ext, "repaired": repaired}
    return Result(f"{area}-{sub}", _VALID, "SPREADSHEET_REPAIRED" if repaired else None, extra)


# ---------------------------------------------------------------------------------------------
# 4.6 resident identity card (GB 11643) and residence permits
# ---------------------------------------------------------------------------------------------

_ID18_RE = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"  # by (weighted sum mod 11)
_ID_CHECK_BY_VALUE = "0123456789X"  # by the closed-form value
_ID_FLOAT_RE = re.compile(r"^(\d{15,18})\.0+$")
_ID_SCI_RE = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d{1,2}$")
_PERMITS = {"810000": "HK", "820000": "MO", "830000": "TW"}


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits.

    Closed form (as in python-stdnum): (1 - 2 * int(first17, base 13)) mod 11, 10 -> 'X';
    equal to the weighted sum with weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2.
    """
    return _ID_CHECK_BY_VALUE[(1 - 2 * int(first17, 13)) % 11]


def _valid_ymd(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _id_is_dummy(s: str) -> bool:
    body = s[:17]
    return (body.count(body[0]) == 17 or s.startswith(("123456789", "012345678", "987654321"))
            or s[:6] == "000000" or s[6:14] in ("19000101", "00000000"))


@_never_raise
def normalize_id_card(raw: str | None, today: date | None = None) -> Result:
    """Resident ID / residence permit number -> 18 characters, upper-case X (anchors 4.6)."""
    from_float = upgraded = False
    s: str | None
    if raw.__class__ is str and len(raw) == 18 and raw.isascii() and raw.isalnum():
        s = raw.upper()
    else:
        s = prenormalize(raw)
        if s is None:
            return _R_MISSING
        if _is_placeholder(s) or s in _ID_SENTINELS:
            return _R_PLACEHOLDER
        if "*" in s:
            k = s.replace(" ", "").replace("-", "").upper()
            return _masked(k if len(k) == 18 else None)
        if _ID_SCI_RE.match(s):
            return _invalid("ID_PRECISION_LOSS")
        m = _ID_FLOAT_RE.match(s)
        if m is not None:
            s, from_float = m.group(1), True
        s = s.replace(" ", "").replace("-", "").upper()
    if len(s) == 15 and s.isdigit() and s.isascii():
        if s.count(s[0]) == 15:
            return Result(None, "placeholder", "ID_DUMMY")
        body = s[:6] + "19" + s[6:]
        s = body + id_check_char(body)
        upgraded = True
    elif not _ID18_RE.match(s) or not s.isascii():
        return _invalid("ID_FORMAT")
    if _id_is_dummy(s):
        return Result(None, "placeholder", "ID_DUMMY")
    if not upgraded and s[17] != id_check_char(s[:17]):
        if from_float or s.endswith("000"):
            return _invalid("ID_PRECISION_LOSS")
        return _invalid("ID_CHECKSUM")
    birth = _valid_ymd(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    today = today or _today_cst()
    if birth is None or birth > today or birth.year < 1800:
        return _invalid("ID_BAD_DATE")
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    region = s[:6]
    permit = _PERMITS.get(region)
    reason, status = None, _VALID
    city = district = None
    if permit is not None:
        province = _PROVINCE_BY_CODE2.get(region[:2])
        reason = "ID_PERMIT"
    elif s[0] == "9":  # foreigner permanent residence ID (2023): 9 + issuing province + nationality
        permit = "FOREIGN"
        province = _PROVINCE_BY_CODE2.get(s[1:3])
        reason = "ID_PERMIT"
    else:
        province = _PROVINCE_BY_CODE2.get(region[:2]) if region[:2] not in ("81", "82", "83") else None
        if province is None:
            reason, status = "ID_REGION_UNKNOWN", _WARN
        else:
            unit = _DISTRICTS.get(region)
            if unit is not None:
                district = unit[0]
                city = _CITIES[unit[2]][0] if unit[2] in _CITIES else None
            elif region in _CITIES:
                city = _CITIES[region][0]
    if age > 120:
        reason, status = "ID_AGE_IMPLAUSIBLE", _WARN
    if upgraded:
        reason, status = "ID_UPGRADED_15", _WARN
    extra: Extra = {
        "birth_date": birth.isoformat(), "sex": "1" if int(s[16]) % 2 else "2", "age": age,
        "is_minor": age < 14, "region_code": region, "province": province, "city": city,
        "district": district, "upgraded_from_15": upgraded, "permit": permit}
    return Result(s, status, reason, extra)


# ---------------------------------------------------------------------------------------------
# 4.5 email
# ---------------------------------------------------------------------------------------------

_EMAIL_PROVIDERS = frozenset({
    "qq.com", "vip.qq.com", "foxmail.com", "163.com", "vip.163.com", "126.com", "yeah.net", "188.com",
    "sina.com", "sina.cn", "vip.sina.com", "sohu.com", "139.com", "189.cn", "wo.cn", "aliyun.com",
    "tom.com", "21cn.com", "263.net", "gmail.com", "hotmail.com", "outlook.com", "live.com", "msn.com",
    "yahoo.com", "icloud.com", "me.com", "mail.com", "email.com", "protonmail.com", "163.net"})
# typo suggestions are made only for these common providers
_TYPO_TARGETS = ("qq.com", "foxmail.com", "163.com", "126.com", "sina.com", "sohu.com", "139.com", "aliyun.com",
                 "gmail.com", "hotmail.com", "outlook.com", "yahoo.com", "icloud.com")
_TLD_TYPOS = ("con", "cm", "co", "om", "comm", "cpm", "vom", "xom", "c0m", "coom", "cim", "clm", "ocm",
              "cmo", "comn", "conm", "com.cn", "con.cn")


def _build_email_typos() -> dict[str, str]:
    typos: dict[str, str] = {}
    clash: set[str] = set()

    def add(bad: str, good: str) -> None:
        if bad in _EMAIL_PROVIDERS or bad == good:
            return
        if bad in typos and typos[bad] != good:
            clash.add(bad)
        typos[bad] = good

    for good in _TYPO_TARGETS:
        base, _, tld = good.partition(".")
        for t in _TLD_TYPOS:
            add(f"{base}.{t}", good)
        if len(base) >= 4 and base.isalpha():
            for i in range(len(base)):
                if i:
                    add(base[:i] + base[i + 1:] + "." + tld, good)        # deletion (not the first letter)
                add(base[:i] + base[i] + base[i:] + "." + tld, good)      # doubled letter
                if i + 1 < len(base):                                      # transposition
                    add(base[:i] + base[i + 1] + base[i] + base[i + 2:] + "." + tld, good)
    for bad, good in (("foxmial.com", "foxmail.com"), ("gmial.com", "gmail.com"), ("hotmial.com", "hotmail.com"),
                      ("gamil.com", "gmail.com"), ("qqq.com", "qq.com"), ("vip.qq.con", "vip.qq.com"),
                      ("vip.163.con", "vip.163.com"), ("sina.con.cn", "sina.com"), ("163.net.cn", "163.com")):
        add(bad, good)
    for bad in clash:
        typos.pop(bad, None)
    return typos


_EMAIL_TYPOS = _build_email_typos()
_EMAIL_PLACEHOLDER_ADDRESSES = frozenset({
    "test@test.com", "a@a.com", "123@qq.com", "1234@qq.com", "12345@qq.com", "123456@qq.com", "xxx@xxx.com",
    "abc@abc.com", "1@1.com", "aaa@aaa.com", "example@example.com", "email@email.com", "no@no.com",
    "test@qq.com", "test@163.com", "admin@admin.com", "user@user.com", "a@b.com", "x@x.com"})
_EMAIL_PLACEHOLDER_LOCALS = frozenset({
    "none", "noemail", "nomail", "no-email", "no_email", "null", "noreply", "no-reply", "donotreply",
    "do-not-reply", "xxx", "test", "na", "nil", "unknown", "无", "暂无"})
_EMAIL_PLACEHOLDER_DOMAINS = frozenset({"example.com", "example.org", "example.net", "test.com", "xxx.com",
                                        "a.com", "abc.com", "none.com", "noemail.com", "email.com.cn"})
_EMAIL_SEP_RE = re.compile(r"[\s,;，；、|]+")


def _email_suggestion(domain: str) -> str | None:
    return _EMAIL_TYPOS.get(domain)


@_never_raise
def normalize_email(raw: str | None) -> Result:
    """Email -> local@domain with the domain lower-cased (email-validator, no DNS)."""
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s) or s in _ID_SENTINELS:
        return _R_PLACEHOLDER
    if "*" in s:
        return _masked(s.replace(" ", "").lower())
    original = s
    s = s.replace("。", ".").strip(".,;")
    multiple = False
    if " " in s or "," in s or ";" in s or "、" in s or "|" in s:
        parts = [p for p in _EMAIL_SEP_RE.split(s) if p]
        with_at = [p for p in parts if "@" in p]
        if len(with_at) >= 2:
            s, multiple = with_at[0], True
        else:
            s = "".join(parts)  # 'abc @ qq.com' -> spaces are never part of an address
    lower = s.lower()
    local, _, domain = lower.rpartition("@")
    if (lower in _EMAIL_PLACEHOLDER_ADDRESSES or local in _EMAIL_PLACEHOLDER_LOCALS
            or domain in _EMAIL_PLACEHOLDER_DOMAINS):
        return Result(None, "placeholder", "EMAIL_PLACEHOLDER")
    try:
        v = validate_email(s, check_deliverability=False)
    except EmailNotValidError:
        suggestion = None
        if local:
            fixed = _EMAIL_TYPOS.get(domain) or _EMAIL_TYPOS.get(domain.replace(",", "."))
            if fixed is None and "." not in domain:
                for good in ("qq.com", "163.com", "126.com", "gmail.com", "sina.com", "foxmail.com", "hotmail.com"):
                    if domain == good.replace(".", ""):
                        fixed = good
                        break
            if fixed is not None:
                suggestion = f"{s.rpartition('@')[0]}@{fixed}"
        return _invalid("EMAIL_INVALID", {"suggestion": suggestion} if suggestion else None)
    value = v.normalized
    dom = v.domain.lower()
    value = value[: len(value) - len(v.domain)] + dom if value.endswith(v.domain) else value
    fixed = _email_suggestion(dom)
    extra: Extra = {"domain": dom, "match_key": value.lower(),
                    "suggestion": f"{v.local_part}@{fixed}" if fixed else None}
    if fixed:
        return Result(value, _WARN, "EMAIL_TYPO_SUGGESTED", extra)
    if multiple:
        return Result(value, _WARN, "MULTIPLE_VALUES", extra)
    if s != original:
        return Result(value, _VALID, "EMAIL_REPAIRED", extra)
    return Result(value, _VALID, None, extra)


# ---------------------------------------------------------------------------------------------
# 4.7 names
# ---------------------------------------------------------------------------------------------

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RE = re.compile(f"[{_HAN}]")
_HAN_SPACE_RE = re.compile(f"(?<=[{_HAN}·])\\s+(?=[{_HAN}·])")
_HAN_DOT_RE = re.compile(f"(?<=[{_HAN}])\\s*[.．。,]\\s*(?=[{_HAN}])")
_DOT_TABLE = str.maketrans({c: "·" for c in "•・∙‧⋅ㆍ･●◦‐"} | {"\u0387": "·", "\u2027": "·"})
_NAME_EDGE_STRIP = " ,;:，；：、。!！?？\"'“”‘’()（）[]【】<>《》"
_LATIN_TOKEN_RE = re.compile(r"[\s\-_.,'’]+")
_LATIN_SALUTATIONS = {"mr": "1", "mr.": "1", "mrs": "2", "mrs.": "2", "ms": "2", "ms.": "2", "miss": "2",
                      "dr": None, "dr.": None, "mx": None, "mx.": None}
_SALUTATIONS = {"先生": "1", "女士": "2", "小姐": "2", "太太": "2", "夫人": "2"}
_TITLES = ("老师", "经理", "老板", "师傅", "阿姨", "医生", "总", "哥", "姐", "叔")  # after a surname: 张总, 王哥, 李姐
_TITLE_SEX = {"哥": "1", "叔": "1", "姐": "2", "阿姨": "2"}
# A way of addressing someone, alone in a name field -> the sex it implies (None: unknown)
_BARE_ADDRESS = {"先生": "1", "女士": "2", "小姐": "2", "太太": "2", "夫人": "2", "阿姨": "2", "大哥": "1", "大姐": "2",
                 "哥哥": "1", "姐姐": "2", "帅哥": "1", "美女": "2", "师傅": None, "老板": None, "老师": None,
                 "mr": "1", "mrs": "2", "ms": "2", "miss": "2"}
# Salutation or title (as `name_salutation` holds it, lower case) -> the sex it implies (GB/T 2261.1 code)
SALUTATION_SEX = (_SALUTATIONS | _TITLE_SEX | {k: v for k, v in _LATIN_SALUTATIONS.items() if v}
                  | {k: v for k, v in _BARE_ADDRESS.items() if v})
_ORG_WORDS = ("公司", "集团", "有限", "商行", "工作室", "事务所", "门店", "旗舰店", "专卖店")
_SURNAMES = names_data.SURNAMES
_COMPOUNDS = names_data.COMPOUND_SURNAMES
_READINGS = names_data.SURNAME_READINGS
_SURNAME_RANK: dict[str, int] = {}
for _i, _p in enumerate(list(_SURNAMES.values())):
    _SURNAME_RANK.setdefault(_p, _i)
for _p in _COMPOUNDS.values():
    _SURNAME_RANK.setdefault(_p, len(_SURNAMES) + 1)

_PINYIN_CACHE: dict[str, str] = {}
_pinyin_fn: Callable | None = None


def _char_pinyin(ch: str) -> str:
    p = _PINYIN_CACHE.get(ch)
    if p is None:
        global _pinyin_fn
        if _pinyin_fn is None:
            from pypinyin import Style, lazy_pinyin
            # pypinyin takes an `errors` callback returning a list too; its annotation says str only
            _pinyin_fn = functools.partial(lazy_pinyin, style=Style.NORMAL,
                                           errors=lambda _x: [""])  # type: ignore[arg-type, return-value]
        out = _pinyin_fn(ch)
        p = out[0] if out else ""
        if not (p.isascii() and p.isalpha()):
            p = ""
        if len(_PINYIN_CACHE) < 200_000:
            _PINYIN_CACHE[ch] = p
    return p


_t2s_fn: Callable[[str], str] | None = None


def to_simplified(s: str) -> str:
    """Traditional characters as simplified ones (OpenCC t2s, phrase-aware); as written when the
    conversion would change the length, or OpenCC is missing."""
    global _t2s_fn
    if _t2s_fn is None:
        try:
            import opencc
            _t2s_fn = opencc.OpenCC("t2s").convert
        except Exception:  # noqa: BLE001 - opencc missing: names stay as written
            _t2s_fn = str
    out = _t2s_fn(s)
    return out if len(out) == len(s) else s


def to_simplified_many(values: list[str]) -> list[str]:
    """`to_simplified` of each value, in one conversion: no phrase spans a line break."""
    if not values:
        return []
    to_simplified(values[0])  # loads the converter
    assert _t2s_fn is not None
    out = _t2s_fn("\n".join(values)).split("\n")
    if len(out) != len(values):
        return [to_simplified(v) for v in values]
    return [o if len(o) == len(v) else v for o, v in zip(out, values)]


@functools.lru_cache(maxsize=50_000)
def _segment_pinyin(token: str) -> tuple[str, ...] | None:
    """Split a toneless pinyin string into syllables (fewest syllables); None if impossible."""
    n = len(token)
    if n > 40:
        return None
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for i in range(n):
        prefix = best[i]
        if prefix is None:
            continue
        for j in range(i + 1, min(n, i + 6) + 1):
            if token[i:j] in names_data.PINYIN_SYLLABLES:
                cand = prefix + (token[i:j],)
                current = best[j]
                if current is None or len(cand) < len(current):
                    best[j] = cand
    return best[n]


def _deaccent(s: str) -> str:
    s = s.replace("ü", "v").replace("Ü", "V").replace("u:", "v")
    if s.isascii():
        return s
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _initials_of_token(tok: str) -> str:
    syl = _segment_pinyin(tok) if tok.isascii() and tok.isalpha() else None
    return "".join(x[0] for x in syl) if syl else tok[:1]


def _name_flags(core: str) -> str | None:
    for ch in core:
        if ch.isdigit():
            return "SUSPICIOUS_NAME"
        cat = unicodedata.category(ch)
        if cat[0] in "SC" or (cat[0] == "P" and ch not in "·-.'’"):
            return "SUSPICIOUS_NAME"
    if any(w in core for w in _ORG_WORDS):
        return "NAME_ORGANIZATION"
    return None


def _clean_name(s: str) -> str:
    s = s.translate(_DOT_TABLE)
    if _HAN_RE.search(s):
        s = _HAN_DOT_RE.sub("·", s)
        s = _HAN_SPACE_RE.sub("", s)
        s = s.replace(" ·", "·").replace("· ", "·")
    return s.strip(_NAME_EDGE_STRIP) or s


def _split_salutation(s: str) -> tuple[str, str | None]:
    if len(s) == 2 and s[0] == "老" and s[1] in _SURNAMES:  # 老王: the surname, familiarly
        return s[1], "老"
    for sal in _SALUTATIONS:
        if s.endswith(sal):
            return s[: -len(sal)].strip(), sal
    for title in _TITLES:
        if s.endswith(title):
            base = s[: -len(title)].strip()
            if base in _SURNAMES or base in _COMPOUNDS:
                return base, title
    first, _, rest = s.partition(" ")
    if rest and first.lower() in _LATIN_SALUTATIONS:
        return rest.strip(), first
    return s, None


def family_pinyin(family: str) -> tuple[str, str]:
    """(pinyin, initials) of a simplified surname of one character, or of a compound one."""
    if len(family) == 2 and family in _COMPOUNDS:
        py = _COMPOUNDS[family]
        return py, "".join(x[0] for x in (_segment_pinyin(py) or (py,)))
    if len(family) == 1:
        py = _READINGS.get(family) or _SURNAMES.get(family) or _char_pinyin(family)
        return py, py[:1]
    return "", ""


def _han_pinyin(simplified: str, fam_len: int) -> tuple[str, str, str, str]:
    """(family pinyin, given pinyin, family initials, given initials) for a Han name."""
    fam_py, fam_init = family_pinyin(simplified[:fam_len])
    given = [_char_pinyin(c) if _HAN_RE.match(c) else _deaccent(c).lower() for c in simplified[fam_len:]]
    given = [g for g in given if g.isascii() and g.isalpha()]
    return fam_py, "".join(given), fam_init, "".join(g[0] for g in given)


# A name dressed for a contact list, as sellers and agents write theirs (A.雷丽华-美妆, A李彬德, 0张敏~,
# AA-王芳|保险, 杨晶 VIP, 王芳(店长), 韩晶楠-武汉楚河汉街): a sort prefix of letters or zeros before it (an
# emoji before a word, 🐱向日葵, is a nickname), or a trade, a store or a tag after it
_DECORATED_RE = re.compile(r"(?:(?P<prefix>[A-Za-z]{1,3}|0{1,3})[\s.\-_、]*)?"
                           f"(?P<name>[{_HAN}]{{2,4}})"
                           r"(?:(?P<sep>[\s.\-_~～、|｜/(（]+)(?P<word>\w{0,8})[)）~～]*|[~～]+)?"
                           r"(?P<phone>[\s\-_:：]*(?:\+?86[\s\-]*)?1[3-9]\d{9})?")  # 王秀英15205211683: a contact's number after the name
_LISTING = set("/、|｜")  # 王芳/李娜: two people
_BUILDING = set("区座栋号楼")  # A区张伟: an address


def _decorated_name(s: str) -> Result | None:
    """A full Chinese name with a prefix or tag around it (_DECORATED_RE): the name, with the
    warning NAME_DECORATED; None for anything else. Without a prefix, the tag must be Latin (VIP),
    in brackets (老客), a longer word (a store: 武汉楚河汉街) or a mobile number, so that a second name (艾力-买买提,
    王芳/李娜) or a brand (华为-官方) is not taken for one; a salutation (Ms 王芳, 王芳(女士)) stays one."""
    match = _DECORATED_RE.fullmatch(s)
    if match is None:
        return None
    prefix, name, sep, word = match["prefix"], match["name"], match["sep"] or "", match["word"] or ""
    if prefix is None and not match["phone"] and not (word and not _LISTING & set(sep)
                               and (word.isascii() or "(" in sep or "（" in sep or len(word) >= 4)):
        return None  # 时光~, 艾力-买买提, 王芳/李娜
    if (prefix or "").casefold() in _LATIN_SALUTATIONS or word in _SALUTATIONS or word in ("男", "女"):
        return None
    simp = to_simplified(name)
    fam_len = 2 if simp[:2] in _COMPOUNDS else 1
    if (simp[:fam_len] not in _SURNAMES and simp[:fam_len] not in _COMPOUNDS or not 1 <= len(simp) - fam_len <= 2
            or prefix and name[0] in _BUILDING):
        return None
    result = normalize_name(name)  # 王先生 in A-王先生-保险 stays a surname
    return Result(result.value, _WARN, result.reason or "NAME_DECORATED", result.extra) if result.value else None


@_never_raise
def normalize_name(raw: str | None) -> Result:
    """Personal name (hanzi or pinyin/Latin) -> cleaned name; pinyin and surname split in extra."""
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    bare = s.casefold().rstrip(".")
    if bare in _BARE_ADDRESS:  # 女士, 阿姨, Ms alone name nobody, but may say which sex
        return Result(None, "placeholder", "PLACEHOLDER", {"salutation": s, "salutation_gender": _BARE_ADDRESS[bare]})
    if _is_name_placeholder(s):
        return _R_PLACEHOLDER
    s = _clean_name(s)
    if "*" in s:
        return _masked(s)
    decorated = _decorated_name(s)
    if decorated is not None:
        return decorated
    base, salutation = _split_salutation(s)
    if not base or _is_name_placeholder(base):
        return _R_PLACEHOLDER
    sal_gender = SALUTATION_SEX.get(salutation.lower()) if salutation else None
    has_han = _HAN_RE.search(base) is not None
    simplified = to_simplified(base) if has_han else base
    core = base.replace("·", "").replace(" ", "")
    if has_han:
        latin_left = _HAN_RE.sub("", core)
        script = "han" if not latin_left else "mixed"
    else:
        script = "latin" if all(c.isalpha() or c in " -.'’" for c in base) else "mixed"
    reason = _name_flags(core)
    family = given = None
    han_core = "".join(c for c in base if _HAN_RE.match(c) or c == "·")
    if has_han and "·" not in han_core and not any(c.isascii() and c.isalpha() for c in base):
        # Han name, possibly with digits / emoji around it (flagged SUSPICIOUS_NAME)
        simp = simplified if han_core == base else to_simplified(han_core)
        fam_len = 2 if (simp[:2] in _COMPOUNDS and (len(simp) >= 3 or salutation)) else 1
        family, given = han_core[:fam_len], han_core[fam_len:]
        fam_py, given_py, fam_init, given_init = _han_pinyin(simp, fam_len)
        pinyin, rev, initials = fam_py + given_py, given_py + fam_py, fam_init + given_init
        if not given:
            if family in _SURNAMES or family in _COMPOUNDS:
                reason = reason or "NAME_SURNAME_ONLY"
            else:
                reason = reason or "NAME_TOO_SHORT"
            given = None
        elif len(simp) > 6:
            reason = reason or "NAME_LENGTH"
        elif simp[:fam_len] not in _SURNAMES and simp[:fam_len] not in _COMPOUNDS:
            # 💕淡然, 小确幸679: a nickname in the name column, no name (仉芳2, a digit typed after a
            # rare surname, stays a name)
            if reason == "SUSPICIOUS_NAME" and (re.search(r"\d\d", core) or not core.isalnum()):
                return Result(None, "invalid", "NAME_NICKNAME")
            reason = reason or "NAME_UNCOMMON_SURNAME"  # 微笑, 大白: more often a nickname typed as a name
    elif has_han:  # transliterated (with ·) or mixed script: no surname split
        parts = [_char_pinyin(c) if _HAN_RE.match(c) else _deaccent(c).lower() for c in simplified]
        parts = [p for p in parts if p.isascii() and p.isalpha()]
        pinyin = rev = "".join(parts)
        initials = "".join(p[:1] for p in parts)
    else:
        tokens = [t for t in _LATIN_TOKEN_RE.split(_deaccent(base)) if t]
        lowered = [t.lower() for t in tokens]
        lowered = [t for t in (("".join(c for c in t if c.isalpha())) for t in lowered) if t]
        idx = _latin_surname_index(tokens, lowered) if lowered else None
        if idx is None:
            ordered = lowered
            rev_order = lowered[-1:] + lowered[:-1] if len(lowered) > 1 else lowered
        else:
            ordered = [lowered[idx]] + [t for i, t in enumerate(lowered) if i != idx]
            rev_order = ordered[1:] + ordered[:1]
            family = tokens[idx]
            given = " ".join(t for i, t in enumerate(tokens) if i != idx) or None
        pinyin, rev = "".join(ordered), "".join(rev_order)
        initials = "".join(_initials_of_token(t) for t in ordered)
    if len(core) > 50:
        reason = reason or "NAME_LENGTH"
    extra: Extra = {
        "salutation": salutation, "salutation_gender": sal_gender, "simplified": simplified,
        "family_name": family, "given_name": given, "pinyin": pinyin or None,
        "pinyin_initials": initials or None, "pinyin_given_first": rev or None, "script": script}
    return Result(base, _WARN if reason else _VALID, reason, extra)


def _latin_surname_index(tokens: list[str], lowered: list[str]) -> int | None:
    """Which token of a Latin-script name is the surname (None when unknown)."""
    if len(lowered) < 2:
        return 0 if lowered and lowered[0] in _SURNAME_RANK else None
    first, last = 0, len(lowered) - 1
    caps = [t.isupper() and len(t) > 1 for t in tokens[: len(lowered)]] if len(tokens) == len(lowered) else []
    if caps and caps.count(True) == 1 and (caps[first] or caps[last]):
        return first if caps[first] else last
    r_first = _SURNAME_RANK.get(lowered[first])
    r_last = _SURNAME_RANK.get(lowered[last])
    if r_first is not None and r_last is not None:
        return first if r_first <= r_last else last
    if r_first is not None:
        return first
    if r_last is not None:
        return last
    return None


@_never_raise
def normalize_family_name(raw: str | None) -> Result:
    """Surname field: cleaned, with its surname reading in ``extra['pinyin']``."""
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    bare = s.casefold().rstrip(".")
    if bare in _BARE_ADDRESS:  # 女士, 阿姨, Ms alone name nobody, but may say which sex
        return Result(None, "placeholder", "PLACEHOLDER", {"salutation": s, "salutation_gender": _BARE_ADDRESS[bare]})
    if _is_name_placeholder(s):
        return _R_PLACEHOLDER
    s = _clean_name(s)
    if "*" in s:
        return _masked(s)
    s = s.replace(" ", "") if _HAN_RE.search(s) else s
    simp = to_simplified(s) if _HAN_RE.search(s) else s
    if simp in _COMPOUNDS:
        py = _COMPOUNDS[simp]
    elif len(simp) == 1 and _HAN_RE.match(simp):
        py = _READINGS.get(simp) or _SURNAMES.get(simp) or _char_pinyin(simp)
    elif _HAN_RE.search(simp):
        py = "".join(_char_pinyin(c) for c in simp if _HAN_RE.match(c))
    else:
        py = "".join(c for c in _deaccent(simp).lower() if c.isalnum())
    known = simp in _SURNAMES or simp in _COMPOUNDS or py in _SURNAME_RANK
    reason = _name_flags(s) or (None if known else "SURNAME_UNKNOWN")
    return Result(s, _WARN if reason else _VALID, reason, {"simplified": simp, "pinyin": py or None})


@_never_raise
def normalize_given_name(raw: str | None) -> Result:
    """Given-name field: cleaned, with toneless pinyin in ``extra['pinyin']``."""
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    bare = s.casefold().rstrip(".")
    if bare in _BARE_ADDRESS:  # 女士, 阿姨, Ms alone name nobody, but may say which sex
        return Result(None, "placeholder", "PLACEHOLDER", {"salutation": s, "salutation_gender": _BARE_ADDRESS[bare]})
    if _is_name_placeholder(s):
        return _R_PLACEHOLDER
    s = _clean_name(s)
    if "*" in s:
        return _masked(s)
    has_han = _HAN_RE.search(s) is not None
    simp = to_simplified(s.replace(" ", "")) if has_han else s
    parts = [_char_pinyin(c) if _HAN_RE.match(c) else _deaccent(c).lower() for c in simp]
    py = "".join(p for p in parts if p.isascii() and p.isalnum())
    reason = _name_flags(s.replace(" ", "").replace("·", ""))
    value = s.replace(" ", "") if has_han else s
    return Result(value, _WARN if reason else _VALID, reason, {"simplified": simp, "pinyin": py or None})


# ---------------------------------------------------------------------------------------------
# 4.8 gender (GB/T 2261.1-2003)
# ---------------------------------------------------------------------------------------------

_GENDER_TABLE: dict[str, str] = {}
for _code, _words in (
        ("1", "男 男性 男士 男生 男的 男人 m male man boy 1 1.0 01 ♂ 公 gentleman"),
        ("2", "女 女性 女生 女的 女人 f female woman girl 2 2.0 02 ♀ 母 lady"),
        ("0", "未知 不详 保密 u unknown 未知的性别 不明"),
        ("9", "未说明 其他 其它 不愿透露 n/a other others 未说明的性别 9 9.0 x 非二元")):
    for _w in _words.split():
        _GENDER_TABLE[_w] = _code
_GENDER_SALUTATIONS = {"先生": "1", "mr": "1", "mr.": "1", "女士": "2", "小姐": "2", "太太": "2", "夫人": "2",
                       "mrs": "2", "mrs.": "2", "ms": "2", "ms.": "2", "miss": "2"}
_GENDER_RESULTS = {c: Result(c, _VALID) for c in "0129"}
_ZERO_MEANS = {"unknown": "0", "female": "2", "male": "1"}


@_never_raise
def _gender(raw: str | None, zero: str) -> Result:
    if raw.__class__ is str:
        code = _GENDER_TABLE.get(raw)
        if code is not None:
            return _GENDER_RESULTS[code]
        if raw in ("0", "0.0", "00"):
            return _GENDER_RESULTS[zero]
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    key = s.casefold().strip(" .。")
    code = _GENDER_TABLE.get(key)
    if code is not None:
        return _GENDER_RESULTS[code]
    if key in ("0", "0.0", "00"):
        return _GENDER_RESULTS[zero]
    if _is_placeholder(s):
        return _R_PLACEHOLDER
    if "*" in s:
        return _masked(None)
    for sal, c in _GENDER_SALUTATIONS.items():
        if key == sal or (len(key) <= 6 and key.endswith(sal) and _HAN_RE.match(key)):
            return Result(c, _WARN, "GENDER_FROM_SALUTATION")
    return _invalid("GENDER_INVALID")


def normalize_gender(raw: str | None, zero_means: str = "unknown") -> Result:
    """Gender -> GB/T 2261.1 code '0' unknown, '1' male, '2' female, '9' not stated.

    ``zero_means`` ('unknown' | 'female' | 'male') decides what a raw ``0`` means for this source.
    """
    zero = _ZERO_MEANS.get(zero_means)
    if zero is None:
        raise ValueError(f"zero_means must be one of {sorted(_ZERO_MEANS)}, not {zero_means!r}")
    return _gender(raw, zero)


# ---------------------------------------------------------------------------------------------
# dates and timestamps
# ---------------------------------------------------------------------------------------------

_TIME_PART = (r"(?:\s*(?:T|\s)\s*(?P<ampm1>上午|下午|晚上|凌晨|中午|AM|PM|am|pm)?\s*(?P<H>\d{1,2})\s*[:时点]\s*(?P<M>\d{1,2})"
              r"(?:\s*[:分]\s*(?P<S>\d{1,2})(?:[.,](?P<F>\d{1,9}))?\s*秒?)?\s*分?"
              r"\s*(?P<ampm2>AM|PM|am|pm|上午|下午)?\s*(?P<TZ>Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?")
_YMD_RE = re.compile(r"^(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*[日号]?"
                     + _TIME_PART + r"\s*$")
_COMPACT_RE = re.compile(r"^(?P<y>(?:18|19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})"
                         r"(?:(?:T|\s)?(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?)?$")
_DMY_RE = re.compile(r"^(?P<a>\d{1,2})\s*(?P<sep>[-/.])\s*(?P<b>\d{1,2})\s*(?P=sep)\s*(?P<y>\d{4})" + _TIME_PART + r"\s*$")
_YM_RE = re.compile(r"^(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*月?$")
_MD_RE = re.compile(r"^(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*[日号]?$")
_Y_RE = re.compile(r"^(?P<y>\d{4})\s*年?$")
_SERIAL_RE = re.compile(r"^(?P<n>\d{1,5})(?:\.(?P<f>\d+))?$")
_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                             "nov", "dec"))}
_MON_DMY_RE = re.compile(r"^(?P<d>\d{1,2})[-\s](?P<mon>[A-Za-z]{3,9})\.?[-\s,]+(?P<y>\d{2}|\d{4})" + _TIME_PART + r"\s*$")
_MON_MDY_RE = re.compile(r"^(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})" + _TIME_PART + r"\s*$")
_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_PLACEHOLDERS = frozenset({"1900-01-01", "1899-12-30", "1899-12-31", "9999-12-31", "0001-01-01"})
_ZERO_DATE_RE = re.compile(r"^0{4}[-/.]?0{1,2}[-/.]?0{1,2}(?:\s.*)?$")
_FAST_ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_CST = timezone(timedelta(hours=8))


def _month_from_name(name: str) -> int | None:
    return _MONTHS.get(name[:3].lower())


def _excel_serial_to_date(n: int) -> date | None:
    if n <= 0 or n == 60 or n > 2_958_465:
        return None
    return date(1899, 12, 31) + timedelta(days=n) if n < 60 else _EXCEL_EPOCH + timedelta(days=n)


def _two_digit_year(yy: int, today: date) -> int:
    return 2000 + yy if 2000 + yy <= today.year else 1900 + yy


class _Parsed:
    __slots__ = ("y", "m", "d", "H", "M", "S", "tz", "reason", "extra", "partial")

    def __init__(self, y=None, m=None, d=None, H=0, M=0, S=0, tz=None, reason=None, extra=None, partial=False):
        self.y, self.m, self.d, self.H, self.M, self.S = y, m, d, H, M, S
        self.tz, self.reason, self.extra, self.partial = tz, reason, extra, partial


def _time_from(m: re.Match) -> tuple[int, int, int, str | None] | None:
    gd = m.groupdict()
    if gd.get("H") is None:
        return 0, 0, 0, None
    H, M, S = int(gd["H"]), int(gd["M"]), int(gd.get("S") or 0)
    ampm = (gd.get("ampm1") or gd.get("ampm2") or "").lower()
    if ampm in ("pm", "下午", "晚上") and H < 12:
        H += 12
    elif ampm in ("am", "上午", "凌晨") and H == 12:
        H = 0
    if H > 23 or M > 59 or S > 59:
        return None
    return H, M, S, gd.get("TZ")


def _parse_date_text(s: str, excel_serial: bool, today: date) -> _Parsed | str:
    """Return a _Parsed (possibly partial) or a reason code string for an invalid value."""
    m = _YMD_RE.match(s)
    if m is not None:
        t = _time_from(m)
        if t is None:
            return "DATE_INVALID"
        return _Parsed(int(m["y"]), int(m["m"]), int(m["d"]), *t[:3], tz=t[3])
    m = _COMPACT_RE.match(s)
    if m is not None:
        H, M, S = int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0)
        if H > 23 or M > 59 or S > 59:
            return "DATE_INVALID"
        return _Parsed(int(m["y"]), int(m["m"]), int(m["d"]), H, M, S)
    m = _DMY_RE.match(s)
    if m is not None:
        t = _time_from(m)
        if t is None:
            return "DATE_INVALID"
        a, b, y = int(m["a"]), int(m["b"]), int(m["y"])
        month_first = m["sep"] != "."
        mo, d = (a, b) if month_first else (b, a)
        reason = extra = None
        if mo > 12 and d <= 12:
            mo, d = d, mo
        elif a != b and a <= 12 and b <= 12:
            reason = "DATE_AMBIGUOUS"
            alt = _valid_ymd(y, d, mo)
            extra = {"alternative": alt.isoformat() if alt else None}
        return _Parsed(y, mo, d, *t[:3], tz=t[3], reason=reason, extra=extra)
    m = _MON_DMY_RE.match(s) or _MON_MDY_RE.match(s)
    if m is not None:
        month = _month_from_name(m["mon"])
        t = _time_from(m)
        if month is None or t is None:
            return "DATE_FORMAT"
        y = int(m["y"])
        if len(m["y"]) == 2:
            y = _two_digit_year(y, today)
        return _Parsed(y, month, int(m["d"]), *t[:3], tz=t[3])
    m = _YM_RE.match(s)
    if m is not None and 1 <= int(m["m"]) <= 12:
        return _Parsed(int(m["y"]), int(m["m"]), None, reason="DATE_NO_DAY", partial=True,
                       extra={"year": int(m["y"]), "month": int(m["m"])})
    m = _MD_RE.match(s)
    if m is not None:
        mo, d = int(m["m"]), int(m["d"])
        if _valid_ymd(2000, mo, d) is None:
            return "DATE_INVALID"
        return _Parsed(None, mo, d, reason="DATE_NO_YEAR", partial=True,
                       extra={"month": mo, "day": d, "month_day": f"{mo:02d}-{d:02d}"})
    m = _Y_RE.match(s)
    if m is not None and (1900 <= int(m["y"]) <= today.year or not excel_serial or s.endswith("年")):
        return _Parsed(int(m["y"]), None, None, reason="DATE_YEAR_ONLY", partial=True, extra={"year": int(m["y"])})
    if excel_serial:
        m = _SERIAL_RE.match(s)
        if m is not None:
            d0 = _excel_serial_to_date(int(m["n"]))
            if d0 is None:
                return "DATE_OUT_OF_RANGE"
            secs = round(float("0." + m["f"]) * 86400) if m["f"] else 0
            secs = min(secs, 86399)
            return _Parsed(d0.year, d0.month, d0.day, secs // 3600, secs % 3600 // 60, secs % 60,
                           reason="excel_serial")
    return "DATE_FORMAT"


_CLOCK: list = [None, None, None, None]  # [minute, today (CST), now + 1 day as text, the same as datetime]


def _clock() -> list:
    """Today's date and the future limit for timestamps in China time, refreshed every minute."""
    minute = int(time.time() // 60)
    if _CLOCK[0] != minute:
        now = datetime.now(_CST).replace(tzinfo=None, microsecond=0)
        limit = now + timedelta(days=1)
        _CLOCK[1:] = [now.date(), limit.strftime("%Y-%m-%d %H:%M:%S"), limit]
        _CLOCK[0] = minute
    return _CLOCK


def _today_cst() -> date:
    return _clock()[1]


@_never_raise
def _date(raw: str | None, excel_serial: bool, today: date | None) -> Result:
    if raw.__class__ is str and len(raw) == 10:
        m = _FAST_ISO_RE.match(raw)
        if m is not None:
            d0 = _valid_ymd(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if d0 is not None and 1900 < d0.year and raw != "1970-01-01" and d0 <= (today or _today_cst()):
                return Result(raw, _VALID)
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s) or _ZERO_DATE_RE.match(s):
        return _R_PLACEHOLDER
    if "*" in s:
        return _masked(s)
    today = today or _today_cst()
    p = _parse_date_text(s, excel_serial, today)
    if isinstance(p, str):
        return _invalid(p)
    if p.partial:
        if p.y is not None and (p.y < 1900 or p.y > today.year):
            return _invalid("DATE_OUT_OF_RANGE")
        return Result(None, _WARN, p.reason, p.extra)
    d0 = _valid_ymd(p.y, p.m, p.d)
    if d0 is None:
        return _invalid("DATE_INVALID")
    iso = d0.isoformat()
    if iso in _DATE_PLACEHOLDERS:
        return Result(None, "placeholder", "DATE_PLACEHOLDER")
    if d0.year < 1900 or d0 > today:
        return _invalid("DATE_OUT_OF_RANGE")
    if p.reason == "DATE_AMBIGUOUS":
        return Result(iso, _WARN, p.reason, p.extra)
    if p.reason == "excel_serial":
        return Result(iso, _VALID, "SPREADSHEET_REPAIRED", {"repaired": "EXCEL_SERIAL"})
    if iso == "1970-01-01":
        return Result(iso, _WARN, "DATE_SUSPECT_DEFAULT")
    return Result(iso, _VALID)


def normalize_date(raw: str | None, excel_serial: bool = True, today: date | None = None) -> Result:
    """Calendar date -> 'YYYY-MM-DD'.  ``today`` (default: today in China) bounds future dates."""
    return _date(raw, excel_serial, today)


_TS_FAST_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$")
_EPOCH_RE = re.compile(r"^(?P<n>1\d{9}|1\d{12})(?:\.\d+)?$")


@_never_raise
def _timestamp(raw: str | None, now: datetime | None) -> Result:
    if now is None:
        _minute, _today, limit_text, limit = _clock()
    else:
        limit = now + timedelta(days=1)
        limit_text = limit.strftime("%Y-%m-%d %H:%M:%S")
    if raw.__class__ is str and len(raw) == 19:
        m = _TS_FAST_RE.match(raw)
        if m is not None and "1971" <= raw <= limit_text:
            try:
                year, month, day, hour, minute, second = map(int, m.groups())
                datetime(year, month, day, hour, minute, second)
            except ValueError:
                return _invalid("DATE_INVALID")
            return Result(raw, _VALID)
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s) or _ZERO_DATE_RE.match(s):
        return _R_PLACEHOLDER
    if "*" in s:
        return _masked(s)
    m = _EPOCH_RE.match(s)
    if m is not None:
        n = int(m["n"])
        secs = n / 1000 if len(m["n"]) == 13 else n
        dt = datetime.fromtimestamp(secs, _CST).replace(tzinfo=None, microsecond=0)
        if dt > limit:
            return _invalid("DATE_OUT_OF_RANGE")
        return Result(dt.strftime("%Y-%m-%d %H:%M:%S"), _VALID, "TIMESTAMP_FROM_EPOCH",
                      {"epoch": "ms" if len(m["n"]) == 13 else "s"})
    p = _parse_date_text(s, True, limit.date())
    if isinstance(p, str):
        return _invalid(p)
    if p.partial:
        return _invalid("DATE_FORMAT") if p.reason == "DATE_NO_YEAR" else Result(None, _WARN, p.reason, p.extra)
    try:
        dt = datetime(p.y, p.m, p.d, p.H, p.M, p.S)
    except ValueError:
        return _invalid("DATE_INVALID")
    if p.tz:
        tz = p.tz.upper()
        if tz in ("Z", "UTC", "GMT"):
            offset = timedelta(0)
        else:
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        dt = (dt - offset + timedelta(hours=8))
    if dt.year < 1900 or dt > limit:
        return _invalid("DATE_OUT_OF_RANGE")
    value = dt.strftime("%Y-%m-%d %H:%M:%S")
    if dt in (datetime(1970, 1, 1), datetime(1970, 1, 1, 8), datetime(1900, 1, 1)):
        return Result(None, "placeholder", "DATE_PLACEHOLDER")
    ymd = _YMD_RE.match(s)
    date_only = ymd is not None and ymd["H"] is None
    if p.reason == "DATE_AMBIGUOUS":
        return Result(value, _WARN, p.reason, p.extra)
    if p.reason == "excel_serial":
        return Result(value, _VALID, "SPREADSHEET_REPAIRED", {"repaired": "EXCEL_SERIAL"})
    if date_only or (_COMPACT_RE.match(s) is not None and len(s) == 8):
        return Result(value, _WARN, "TIME_MISSING")
    return Result(value, _VALID)


def normalize_timestamp(raw: str | None, now: datetime | None = None) -> Result:
    """Date and time -> 'YYYY-MM-DD HH:MM:SS' in China Standard Time.

    Accepts ISO forms (with T, fractions, Z / +08:00 offsets), '2020/1/2 下午 3:04', compact
    '20200102030405', unix seconds (10 digits) and milliseconds (13 digits), Excel serials with a
    fraction.  ``now`` (naive CST, default: the current time) bounds future values (+1 day).
    """
    return _timestamp(raw, now)


# ---------------------------------------------------------------------------------------------
# 4.9 addresses: provinces, cities, districts (GB/T 2260 via regions.py)
# ---------------------------------------------------------------------------------------------

def _load_regions() -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str, str]], dict[str, tuple[str, str, str]]]:
    provinces: dict[str, tuple[str, str]] = {}        # code -> (name, short)
    cities: dict[str, tuple[str, str, str]] = {}      # code -> (name, short, province code)
    districts: dict[str, tuple[str, str, str]] = {}   # code -> (name, short, city code)
    for line in regions.PROVINCES_TEXT.splitlines():
        code, name, short = line.split("|")
        provinces[code] = (name, short)
    for line in regions.CITIES_TEXT.splitlines():
        code, name, short, parent = line.split("|")
        cities[code] = (name, short, parent)
    for line in regions.DISTRICTS_TEXT.splitlines():
        code, name, short, parent = line.split("|")
        districts.setdefault(code, (name, short, parent))
    return provinces, cities, districts


_PROVINCES, _CITIES, _DISTRICTS = _load_regions()
_PROVINCE_BY_CODE2 = {code[:2]: name for code, (name, _s) in _PROVINCES.items()}
_PROVINCE_BY_CODE2["83"] = _PROVINCES["710000"][0]  # Taiwan residents' residence permits use 830000
_MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000", "810000", "820000"})
_PROVINCE_ALIASES = {
    "广西省": "450000", "内蒙古省": "150000", "内蒙": "150000", "新疆省": "650000", "宁夏省": "640000",
    "西藏省": "540000", "香港": "810000", "澳门": "820000", "台湾": "710000", "中国香港": "810000",
    "中国澳门": "820000", "中国台湾": "710000", "黑龙江": "230000",
    "beijing": "110000", "tianjin": "120000", "hebei": "130000", "shanxi": "140000", "inner mongolia": "150000",
    "neimenggu": "150000", "nei mongol": "150000", "liaoning": "210000", "jilin": "220000",
    "heilongjiang": "230000", "shanghai": "310000", "jiangsu": "320000", "zhejiang": "330000",
    "anhui": "340000", "fujian": "350000", "jiangxi": "360000", "shandong": "370000", "henan": "410000",
    "hubei": "420000", "hunan": "430000", "guangdong": "440000", "guangxi": "450000", "hainan": "460000",
    "chongqing": "500000", "sichuan": "510000", "guizhou": "520000", "yunnan": "530000", "tibet": "540000",
    "xizang": "540000", "shaanxi": "610000", "gansu": "620000", "qinghai": "630000", "ningxia": "640000",
    "xinjiang": "650000", "taiwan": "710000", "hong kong": "810000", "hongkong": "810000",
    "macau": "820000", "macao": "820000"}


def _province_of_code(code: str) -> str | None:
    """Province code of a province / city / district code."""
    if code in _PROVINCES:
        return code
    if code in _CITIES:
        return _CITIES[code][2]
    if code in _DISTRICTS:
        return _province_of_code(_DISTRICTS[code][2])
    return None


def _build_admin_index() -> tuple[dict[str, tuple[tuple[int, str, bool, str | None], ...]], dict[str, tuple[int, str, str]]]:
    """name -> tuple of (level, code, is_short, outdated_name_or_None) for free-text scanning."""
    index: dict[str, list[tuple[int, str, bool, str | None]]] = {}

    def add(name: str, cand: tuple[int, str, bool, str | None]) -> None:
        if len(name) >= 2 and cand not in index.get(name, ()):
            index.setdefault(name, []).append(cand)

    for code, (name, short) in _PROVINCES.items():
        add(name, (0, code, False, None))
        add(short, (0, code, True, None))
    for alias, code in _PROVINCE_ALIASES.items():
        if not alias.isascii():
            add(alias, (0, code, alias in ("香港", "澳门", "台湾", "内蒙", "黑龙江"), None))
    for code, (name, short, _p) in _CITIES.items():
        if code in _MUNICIPALITIES:
            continue
        add(name, (1, code, False, None))
        if short != name:
            add(short, (1, code, True, None))
    for code, (name, _short, _p) in _DISTRICTS.items():
        add(name, (2, code, False, None))
    # renamed / merged divisions (jionlp's change list), pointing at today's unit
    # level 0: province name -> code; levels 1 and 2: (parent code, name) -> code
    names_by_level: list[dict[str | tuple[str, str], str]] = [{v[0]: k for k, v in _PROVINCES.items()}, {}, {}]
    for code, (name, _s, parent) in _CITIES.items():
        names_by_level[1][(parent, name)] = code
    for code, (name, _s, parent) in _DISTRICTS.items():
        names_by_level[2][(parent, name)] = code
    outdated: dict[str, tuple[int, str, str]] = {}
    for line in regions.CHANGES_TEXT.splitlines():
        old, _, new = line.partition("=>")
        old_parts, new_parts = old.split("|")[1:], new.split("|")
        pcode = names_by_level[0].get(new_parts[0])
        if pcode is None or len(new_parts) < 2:
            continue
        ccode = names_by_level[1].get((pcode, new_parts[1]))
        if ccode is None and pcode in _MUNICIPALITIES:
            ccode = pcode
        if ccode is None:
            continue
        target, level = ccode, 1
        if len(new_parts) >= 3:
            dcode = names_by_level[2].get((ccode, new_parts[2]))
            if dcode is None:
                continue
            target, level = dcode, 2
        old_name = old_parts[len(old_parts) - 1] if len(old_parts) - 1 == level else None
        if old_name and old_name not in index and len(old_name) >= 2:
            add(old_name, (level, target, False, old_name))
            outdated[old_name] = (level, target, old_name)
    frozen = {k: tuple(v) for k, v in index.items()}
    return frozen, outdated


_ADMIN_INDEX, _OUTDATED = _build_admin_index()
_ADMIN_LENGTHS = tuple(sorted({len(k) for k in _ADMIN_INDEX}, reverse=True))
_ADMIN_PREFIX2 = frozenset(k[:2] for k in _ADMIN_INDEX)
_STREETISH_RE = re.compile(r"[东西南北中]?[一二三四五六七八九十\d]*(?:路|街|大街|大道|道|巷|胡同|里|弄|桥|村|镇|乡|公园|广场|花园|"
                           r"小区|大厦|大学|学院|饭店|酒店|宾馆|商场|商城|中心|站|机场|港|湾|号|医院|银行|山庄|苑|府|城)")
_ADDRESS_PREFIX_RE = re.compile(r"^(?:(?:收货|详细|家庭|联系|通讯|居住|户籍)?地址\s*[:：]?\s*)?(?:中华人民共和国|中国大陆|中国|China\s*,?\s*)?",
                                re.I)


def _scan_address(t: str):
    """Find province / city / district mentions from the start of an address."""
    found: list[tuple[int, tuple, int, int]] = []
    i, n, next_level, last_end = 0, len(t), 0, 0
    lengths = _ADMIN_LENGTHS
    while i < n - 1 and next_level <= 2:
        if t[i:i + 2] not in _ADMIN_PREFIX2:
            i += 1
            continue
        hit = None
        for L in lengths:
            if i + L > n:
                continue
            cands = _ADMIN_INDEX.get(t[i:i + L])
            if not cands:
                continue
            ok = []
            for c in cands:
                if c[0] < next_level:
                    continue
                if c[2] and (i != last_end or _STREETISH_RE.match(t, i + L) is not None):
                    continue
                ok.append(c)
            if ok:
                level = min(c[0] for c in ok)
                hit = (L, tuple(c for c in ok if c[0] == level), level)
                break
        if hit is None:
            i += 1
            continue
        L, cands, level = hit
        found.append((level, cands, i, i + L))
        i += L
        last_end = i
        next_level = 2 if level == 0 and cands[0][1] in _MUNICIPALITIES else level + 1
    return found, last_end


def _parse_address(t: str):
    """Return (province code, city code, district code, ambiguous names, flags, detail start, outdated)."""
    found, end = _scan_address(t)
    prov = None
    city_cands: tuple = ()
    dist_cands: tuple = ()
    for level, cands, _s, _e in found:
        if level == 0:
            prov = cands[0][1]
        elif level == 1:
            city_cands = cands
        else:
            dist_cands = cands
    inconsistent = False
    outdated = None
    city = district = None
    if city_cands:
        filtered = [c for c in city_cands if prov is None or _CITIES[c[1]][2] == prov]
        if not filtered:
            inconsistent, filtered = True, list(city_cands)
        if len(filtered) == 1:
            city = filtered[0][1]
            outdated = filtered[0][3] or outdated
    ambiguous = False
    if dist_cands:
        filtered = list(dist_cands)
        if city is not None:
            narrowed = [d for d in filtered if _DISTRICTS[d[1]][2] == city]
        elif prov is not None:
            narrowed = [d for d in filtered if _province_of_code(d[1]) == prov]
        else:
            narrowed = filtered
        if narrowed:
            filtered = narrowed
        elif city is not None or prov is not None:
            inconsistent = True
        if len(filtered) == 1:
            district = filtered[0][1]
            outdated = filtered[0][3] or outdated
            dcity = _DISTRICTS[district][2]
            if city is not None and dcity != city:
                inconsistent = True
            city = dcity
        else:
            ambiguous = True
            parents = {_DISTRICTS[d[1]][2] for d in filtered}
            if len(parents) == 1 and city is None:
                city = parents.pop()
    if city is not None:
        pc = _CITIES[city][2] if city in _CITIES else city
        if prov is not None and pc != prov:
            inconsistent = True
        prov = pc
    return prov, city, district, ambiguous, inconsistent, end, outdated, dist_cands


_ADDRESS_SCAN = 120


def _clean_address(s: str) -> str:
    if _HAN_RE.search(s):
        s = _HAN_SPACE_RE.sub("", s)
        s = re.sub(f"(?<=[{_HAN}])\\s+(?=[\\dA-Za-z#-])|(?<=[\\dA-Za-z#-])\\s+(?=[{_HAN}])", "", s)
    return s


@_never_raise
def normalize_address(raw: str | None) -> Result:
    """Address -> cleaned text; province / city / district (official names) and adcode in extra."""
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s):
        return _R_PLACEHOLDER
    value = _clean_address(s)
    t = _ADDRESS_PREFIX_RE.sub("", value.replace(" ", ""), count=1)
    # administrative units come first in a Chinese address: scanning the head is enough
    prov, city, district, ambiguous, inconsistent, end, outdated, dist_cands = _parse_address(t[:_ADDRESS_SCAN])
    province_name = _PROVINCES[prov][0] if prov else None
    if prov in _MUNICIPALITIES:
        city_name = province_name
    else:
        city_name = _CITIES[city][0] if city in _CITIES else None
    district_name = _DISTRICTS[district][0] if district else None
    if ambiguous:
        names = {_DISTRICTS[d[1]][0] for d in dist_cands}
        district_name = names.pop() if len(names) == 1 else None
    current_name = None
    if outdated:  # keep the name as written, point adcode at today's unit
        level, target, _old = _OUTDATED[outdated]
        if level == 2 and target == district:
            district_name, current_name = outdated, _DISTRICTS[target][0]
        elif level == 1 and target == city:
            city_name, current_name = outdated, _CITIES[target][0]
        else:
            outdated = None
    adcode = None if ambiguous else (district or city or prov)
    extra: Extra = {"province": province_name, "city": city_name, "district": district_name,
                    "adcode": adcode, "detail": t[end:] or None}
    if "*" in value:
        extra["masked_key"] = value
        return Result(None, "masked", "MASKED", extra)
    if prov is None and not ambiguous:
        return Result(value, _WARN, "ADDRESS_UNPARSED", extra)
    if ambiguous:
        extra["candidates"] = len(dist_cands)
        return Result(value, _WARN, "AMBIGUOUS_DISTRICT", extra)
    if outdated:
        extra["current_name"] = current_name
        return Result(value, _WARN, "OUTDATED_DIVISION", extra)
    if inconsistent:
        return Result(value, _WARN, "ADDRESS_INCONSISTENT", extra)
    return Result(value, _VALID, None, extra)


def _lookup_key(raw: str | None) -> str | None:
    s = prenormalize(raw)
    return None if s is None else s.replace(" ", "") if _HAN_RE.search(s) else s


# A label before a region (IP属地:广东, 所在地区：浙江 杭州) and the separators between its levels
_REGION_LABEL_RE = re.compile(r"^([^:：\d]{1,8})[:：]")
_REGION_SEP_RE = re.compile(r"[-/|,，、·]+")
_MUNICIPALITY_TWICE_RE = re.compile(r"^(北京|天津|上海|重庆)市?(?=\1)")


def _region_codes(s: str) -> tuple[str | None, str | None, str | None] | None:
    """(province, city, district codes) of a cell that holds divisions only, of two levels or more or
    after a label (广东 深圳, 广东省深圳市南山区, IP属地:广东), read as an address's head; None when anything
    else is left, the levels disagree or are ambiguous, or one division stands alone (深圳 in a
    province column says nothing of a province)."""
    label = _REGION_LABEL_RE.match(s)
    if label and _scan_address(label.group(1))[0]:  # 广东:杭州 is two divisions, not a label
        label = None
    t = _REGION_SEP_RE.sub("", s[label.end():] if label else s)
    t = _MUNICIPALITY_TWICE_RE.sub("", t, count=1)  # 北京 北京市: the municipality as province and as city
    found, end = _scan_address(t)
    if (not found or found[0][2] != 0 or end != len(t) or any(a[3] != b[2] for a, b in zip(found, found[1:]))
            or (len(found) < 2 and not label and not _MUNICIPALITY_TWICE_RE.match(s.replace(" ", "")))):
        return None
    prov, city, district, ambiguous, inconsistent, *_rest = _parse_address(t)
    if ambiguous or inconsistent:
        return None
    return prov, city, district


def _extracted(result: Result) -> Result:
    """A division's result, taken out of a longer region cell: valid with a warning."""
    return Result(result.value, _WARN, "DIVISION_EXTRACTED", result.extra) if result.status == _VALID else result


@_never_raise
def normalize_province(raw: str | None) -> Result:
    """Province-level division -> official name ('广西' -> '广西壮族自治区'); code in extra."""
    s = _lookup_key(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s):
        return _R_PLACEHOLDER
    if "*" in s:
        return _masked(s)
    code = _PROVINCE_ALIASES.get(s.lower() if s.isascii() else s)
    if code is None:
        for cand in _ADMIN_INDEX.get(s, ()):
            if cand[0] == 0:
                code = cand[1]
                break
    if code is None:
        region = _region_codes(s)
        if region is None or region[0] is None:
            return _invalid("PROVINCE_UNKNOWN")
        return _extracted(normalize_province(_PROVINCES[region[0]][0]))
    return Result(_PROVINCES[code][0], _VALID, None, {"code": code})


def _city_name_index() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Full and short city names -> codes; Hong Kong and Macau count as their own city."""
    full: dict[str, list[str]] = {}
    short: dict[str, list[str]] = {}
    for code, (name, sh, _p) in _CITIES.items():
        full.setdefault(name, []).append(code)
        short.setdefault(sh, []).append(code)
    for code in ("810000", "820000"):
        name, sh = _PROVINCES[code]
        full.setdefault(name, []).append(code)
        short.setdefault(sh, []).append(code)
    return full, short


_CITY_FULL, _CITY_SHORT = _city_name_index()


@_never_raise
def normalize_city(raw: str | None) -> Result:
    """Prefecture-level city -> official name ('深圳' -> '深圳市'); province and code in extra."""
    s = _lookup_key(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s):
        return _R_PLACEHOLDER
    if "*" in s:
        return _masked(s)
    codes = _CITY_FULL.get(s) or _CITY_SHORT.get(s) or _CITY_SHORT.get(s.removesuffix("市"))
    if codes:
        code = codes[0] if len(codes) == 1 else next((c for c in codes if _CITIES.get(c, ("",))[0] == s + "市"), codes[0])
        name = _CITIES[code][0] if code in _CITIES else _PROVINCES[code][0]
        prov = _province_of_code(code)
        return Result(name, _VALID, None, {"code": code, "province": _PROVINCES[prov][0] if prov else None})
    county_cities = [c for c in (_DISTRICT_FULL.get(s) or _DISTRICT_SHORT.get(s) or ())
                     if _DISTRICTS[c][0].endswith("市")]
    if len(county_cities) == 1:  # a county-level city such as 昆山市
        code = county_cities[0]
        parent = _DISTRICTS[code][2]
        prov = _province_of_code(code)
        return Result(_DISTRICTS[code][0], _WARN, "CITY_COUNTY_LEVEL",
                      {"code": code, "parent_city": _CITIES[parent][0] if parent in _CITIES else None,
                       "province": _PROVINCES[prov][0] if prov else None})
    old = _OUTDATED.get(s)
    if old is not None and old[0] == 1:
        return Result(s, _WARN, "OUTDATED_DIVISION", {"code": old[1], "current_name": _CITIES[old[1]][0]})
    region = _region_codes(s)
    if region is not None and region[1] in _CITIES:
        return _extracted(normalize_city(_CITIES[region[1]][0]))
    if region is not None and region[0] in _MUNICIPALITIES:  # 北京 北京市, 上海 浦东新区
        return _extracted(normalize_city(_PROVINCES[region[0]][0]))
    latin = _city_spelled(s) if s.isascii() else None
    if latin is not None:
        return normalize_city(latin)
    return Result(s, _WARN, "CITY_UNKNOWN")


_cities_by_spelling: dict[str, set[str]] | None = None


def _city_spelled(s: str) -> str | None:
    """The short name of the one city that `s` spells in pinyin (Hangzhou, Xi'an, SHENZHEN CITY);
    None when it spells none, or two (Suzhou: 苏州 and 宿州)."""
    global _cities_by_spelling
    if _cities_by_spelling is None:
        from pypinyin import lazy_pinyin
        _cities_by_spelling = {}
        for short in _CITY_SHORT:
            _cities_by_spelling.setdefault("".join(lazy_pinyin(short)), set()).add(short)
    key = re.sub(r"[^a-z]", "", s.lower()).removesuffix("city")
    names = _cities_by_spelling.get(key) or _cities_by_spelling.get(key.removesuffix("shi"))
    return next(iter(names)) if names is not None and len(names) == 1 else None


def _district_short_index() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    short: dict[str, list[str]] = {}
    for code, (name, sh, _p) in _DISTRICTS.items():
        if code[4] != "7" and sh != name:  # skip development zones (xx7x codes) for short names
            short.setdefault(sh, []).append(code)
    full: dict[str, list[str]] = {}
    for code, (name, _sh, _p) in _DISTRICTS.items():
        full.setdefault(name, []).append(code)
    return full, short


_DISTRICT_FULL, _DISTRICT_SHORT = _district_short_index()


@_never_raise
def normalize_district(raw: str | None) -> Result:
    """County-level division -> official name ('朝阳' -> '朝阳区'); ambiguous names warn."""
    s = _lookup_key(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s):
        return _R_PLACEHOLDER
    if "*" in s:
        return _masked(s)
    codes = _DISTRICT_FULL.get(s) or _DISTRICT_SHORT.get(s)
    if not codes:  # province-administered county-level cities (济源市, 仙桃市 ...) are listed as cities
        direct = [c for c in (_CITY_FULL.get(s) or _CITY_SHORT.get(s) or ()) if c[2:4] == "90"]
        if len(direct) == 1:
            code = direct[0]
            prov = _province_of_code(code)
            return Result(_CITIES[code][0], _VALID, None, {"code": code, "city": _CITIES[code][0],
                                                           "province": _PROVINCES[prov][0] if prov else None})
    if codes:
        names = {_DISTRICTS[c][0] for c in codes}
        if len(codes) == 1:
            return _district_result(codes[0], _VALID, None)
        value = names.pop() if len(names) == 1 else s
        return Result(value, _WARN, "AMBIGUOUS_DISTRICT", {"code": None, "candidates": len(codes)})
    old = _OUTDATED.get(s)
    if old is not None and old[0] == 2:
        return Result(s, _WARN, "OUTDATED_DIVISION", {"code": old[1], "current_name": _DISTRICTS[old[1]][0]})
    region = _region_codes(s)
    if region is not None and region[2] is not None:  # the city names which 朝阳区 it is
        return _district_result(region[2], _WARN, "DIVISION_EXTRACTED")
    return Result(s, _WARN, "DISTRICT_UNKNOWN")


def _district_result(code: str, status: str, reason: str | None) -> Result:
    city = _DISTRICTS[code][2]
    prov = _province_of_code(code)
    return Result(_DISTRICTS[code][0], status, reason, {"code": code, "city": _CITIES[city][0] if city in _CITIES else None,
                                                        "province": _PROVINCES[prov][0] if prov else None})


# China Post: the first two digits of a postcode name the province (Hong Kong / Macau use 999077).
_POSTCODE_PROVINCES = {}
for _prefixes, _pcode in (("10", "110000"), ("30", "120000"), ("20", "310000"), ("40", "500000"),
                          ("01 02", "150000"), ("03 04", "140000"), ("05 06 07", "130000"), ("11 12", "210000"),
                          ("13", "220000"), ("15 16", "230000"), ("21 22", "320000"), ("23 24", "340000"),
                          ("25 26 27", "370000"), ("31 32", "330000"), ("33 34", "360000"), ("35 36", "350000"),
                          ("41 42", "430000"), ("43 44", "420000"), ("45 46 47", "410000"), ("51 52", "440000"),
                          ("53 54", "450000"), ("55 56", "520000"), ("57", "460000"), ("61 62 63 64", "510000"),
                          ("65 66 67", "530000"), ("71 72", "610000"), ("73 74", "620000"), ("75", "640000"),
                          ("81", "630000"), ("83 84", "650000"), ("85", "540000")):
    for _pre in _prefixes.split():
        _POSTCODE_PROVINCES[_pre] = _pcode


@_never_raise
def normalize_postcode(raw: str | None) -> Result:
    """Postcode -> 6 digits; a 5-digit code that lost its leading 0 in a spreadsheet is restored."""
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s) or s in _ID_SENTINELS:
        return _R_PLACEHOLDER
    if "*" in s:
        return _masked(s)
    m = _FLOAT_RE.match(s)
    if m is not None:
        s = m.group(1)
    s = s.replace(" ", "")
    if not (s.isdigit() and s.isascii()):
        return _invalid("POSTCODE_INVALID")
    reason = None
    if len(s) == 5 and s[0] in "1234567":
        s, reason = "0" + s, "POSTCODE_ZERO_RESTORED"
    if len(s) != 6:
        return _invalid("POSTCODE_INVALID")
    if s.count(s[0]) == 6 or s in ("123456", "654321", "012345"):
        return _R_PLACEHOLDER
    if s == "999077":
        return Result(s, _VALID, None, {"province": None, "region": "HK/MO"})
    pcode = _POSTCODE_PROVINCES.get(s[:2])
    if pcode is None:
        return Result(s, _WARN, "POSTCODE_PREFIX_UNKNOWN", {"province": None})
    return Result(s, _WARN if reason else _VALID, reason, {"province": _PROVINCES[pcode][0]})


# ---------------------------------------------------------------------------------------------
# 4.10 channel identifiers
# ---------------------------------------------------------------------------------------------

_CHANNEL_PLATFORMS = ("wechat_open_id", "wechat_union_id", "wechat_app_id", "douyin", "ecommerce", "member_card")
_CHANNEL_SENTINELS = frozenset({"0", "-1", "00", "000", "undefined", "null", "none", "nil", "openid", "unionid",
                                "appid", "0.0", "false", "true"})
_OPAQUE_RE = re.compile(r"^[A-Za-z0-9_\-]{16,64}$")
_APP_ID_RE = re.compile(r"^wx[0-9a-f]{16}$")
_DOUYIN_RE = re.compile(r"^[A-Za-z0-9_.\-:]{4,128}$")
_MEMBER_RE = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")


@_never_raise
def _channel_id(raw: str | None, platform: str) -> Result:
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s) or s.lower() in _CHANNEL_SENTINELS:
        return _R_PLACEHOLDER
    if "*" in s or "…" in s or ("..." in s and platform != "ecommerce"):
        return _masked(s)
    if " " in s:
        return _invalid("CHANNEL_ID_FORMAT")
    if platform == "member_card":
        m = _FLOAT_RE.match(s)
        if m is not None and not s.startswith("+"):
            return Result(m.group(1), _VALID, "SPREADSHEET_REPAIRED", {"repaired": "FLOAT"})
        if _SCI_RE.match(s):
            return _invalid("ID_PRECISION_LOSS")
        ok = _MEMBER_RE.match(s) is not None
    elif platform == "wechat_app_id":
        ok = _APP_ID_RE.match(s) is not None
    elif platform in ("wechat_open_id", "wechat_union_id"):
        ok = _OPAQUE_RE.match(s) is not None
    elif platform == "douyin":
        ok = _DOUYIN_RE.match(s) is not None
    else:  # e-commerce buyer ids and nicks: any text without spaces
        ok = len(s) <= 128
    if not ok:
        return Result(s, _WARN, "CHANNEL_ID_UNUSUAL", {"platform": platform})
    return Result(s, _VALID)


def normalize_channel_id(raw: str | None, platform: str) -> Result:
    """Opaque channel identifier: kept exactly (case-sensitive) after pre-normalization.

    ``platform``: wechat_open_id | wechat_union_id | wechat_app_id | douyin | ecommerce | member_card.
    A WeChat app id must look like ``wx`` + 16 hex digits, otherwise ``CHANNEL_ID_UNUSUAL``.
    """
    if platform not in _CHANNEL_PLATFORMS:
        raise ValueError(f"platform must be one of {_CHANNEL_PLATFORMS}, not {platform!r}")
    return _channel_id(raw, platform)


# ---------------------------------------------------------------------------------------------
# other identity documents (passport, SSN, another country's national ID, HK/Macau/Taiwan permits)
# ---------------------------------------------------------------------------------------------

_OTHER_ID_SEP_RE = re.compile(r"[\s\-.]+")
_OTHER_ID_RE = re.compile(r"^[A-Z0-9]{5,32}$")


def _is_digit_run(s: str) -> bool:
    """123456789, 0123456, 987654321: a strictly ascending or descending run of digits."""
    if not (s.isdigit() and s.isascii()):
        return False
    steps = {int(b) - int(a) for a, b in zip(s, s[1:])}
    return steps == {1} or steps == {-1}


@_never_raise
def normalize_other_id(raw: str | None) -> Result:
    """An identity document number other than a mainland resident ID -> upper case, without
    spaces, hyphens or dots (``E12345678``, ``078051120``): 5 to 32 letters and digits.

    A number that is a valid mainland resident ID (GB 11643 with a known region) is kept, with
    ``OTHER_ID_IS_RESIDENT_ID`` (a warning): it belongs in ``id_card``, and the steward remaps the
    column; it is not moved. All-same characters and runs of digits are dummies (placeholder).
    """
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s) or s in _ID_SENTINELS:
        return _R_PLACEHOLDER
    if "*" in s:
        return _masked(_OTHER_ID_SEP_RE.sub("", s).upper())
    if _ID_SCI_RE.match(s):
        return _invalid("ID_PRECISION_LOSS")
    repaired = _FLOAT_RE.match(s)
    if repaired is not None:
        s = repaired.group(1)
    s = _OTHER_ID_SEP_RE.sub("", s).upper()
    if not (s.isascii() and _OTHER_ID_RE.match(s)):
        return _invalid("OTHER_ID_FORMAT")
    if s.count(s[0]) == len(s) or _is_digit_run(s):
        return Result(None, "placeholder", "OTHER_ID_DUMMY")
    if len(s) == 18:
        resident = normalize_id_card(s)
        if resident.status in VALID and resident.extra is not None and resident.extra.get("province") is not None:
            return Result(s, _WARN, "OTHER_ID_IS_RESIDENT_ID")
    if repaired is not None:
        return Result(s, _VALID, "SPREADSHEET_REPAIRED", {"repaired": "FLOAT"})
    return Result(s, _VALID)


# ---------------------------------------------------------------------------------------------
# age bands
# ---------------------------------------------------------------------------------------------
# The standardized value is a closed range of ages, "A-B" (25-30; "under 18" is 0-17), an open
# one, "A-" (30 and older), or a closed range of birth years, "YYYY-YYYY" (90后 is 1990-1999). Age
# bounds are inclusive: 以上 / 以下 / 及以上 include the number (Civil Code Art. 1259), and so do
# "30+", "≥30" and "≤18"; "under", "<", 未满, 小于 and "over", ">", 超过, 大于 do not.

_AGE_MAX = 120
_AGE_NUM = r"(\d{1,3})\s*(?:周岁|岁|years?\s*old|years?|yrs?|y)?"
_AGE_LABEL_RE = re.compile(r"^(?:年龄段?|age(?:d|\s*band|\s*range|\s*group)?)\s*[:：]?\s*", re.I)
_AGE_RANGE_RE = re.compile(rf"^{_AGE_NUM}\s*(?:-|~|—|–|至|到|to)\s*{_AGE_NUM}$", re.I)
_AGE_BOUNDS = (  # (pattern, which bound it gives, 1 when the number itself is excluded)
    (re.compile(rf"^(?:大于|超过|高于|over|above|older\s+than|>)\s*{_AGE_NUM}$", re.I), "from", 1),
    (re.compile(rf"^(?:≥|>=|不小于|不低于|至少|at\s+least)\s*{_AGE_NUM}$", re.I), "from", 0),
    (re.compile(rf"^{_AGE_NUM}\s*(?:及以上|以上|\+|-|plus|(?:or|and)\s+(?:older|over|above))$", re.I), "from", 0),
    (re.compile(rf"^(?:小于|未满|不满|低于|under|below|younger\s+than|<)\s*{_AGE_NUM}$", re.I), "upto", 1),
    (re.compile(rf"^(?:≤|<=|不大于|不超过|至多|at\s+most)\s*{_AGE_NUM}$", re.I), "upto", 0),
    (re.compile(rf"^{_AGE_NUM}\s*(?:及以下|以下|(?:or|and)\s+(?:younger|under|below))$", re.I), "upto", 0),
)
_AGE_SINGLE_RE = re.compile(rf"^{_AGE_NUM}$", re.I)
_GENERATION_RE = re.compile(r"^(\d{2}|\d{4})\s*(?:年)?\s*(?:后|後|年代)$")
_BIRTH_RANGE_RE = re.compile(r"^(\d{4})\s*年?\s*(?:-|~|—|–|至|到|to)\s*(\d{4})\s*年?$", re.I)
_AGE_PLACEHOLDERS = frozenset({"保密", "其他", "其它", "不愿透露", "other", "prefer not to say"})


def _age_range(low: int, high: int | None, reason: str | None = None) -> Result:
    if low > _AGE_MAX or (high is not None and not low <= high <= _AGE_MAX):
        return _invalid("AGE_BAND_RANGE")
    value = f"{low}-{high}" if high is not None else f"{low}-"
    return Result(value, _WARN if reason else _VALID, reason, {"age_min": low, "age_max": high})


def _birth_range(first: int, last: int) -> Result:
    if not (1900 <= first <= last <= first + _AGE_MAX and first <= _today_cst().year):
        return _invalid("AGE_BAND_RANGE")
    return Result(f"{first}-{last}", _VALID, None, {"birth_min": first, "birth_max": last})


@_never_raise
def normalize_age_band(raw: str | None) -> Result:
    """An age band -> ``25-30`` (ages, inclusive), ``30-`` (30 and older), ``0-17`` (under 18) or a
    generation's birth years ``1990-1999`` (90后, 80後, 1990年代; 85后 is 1985-1989; two-digit
    generations below 30 are this century: 00后 is 2000-2009). A single age (``25岁``) is the band
    ``25-25`` with ``AGE_BAND_SINGLE_AGE``. The birth years an age range implies depend on when it
    was recorded: :func:`age_band_birth_years` (the standardize engine does the same in SQL)."""
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    if _is_placeholder(s) or s in _ID_SENTINELS or s.casefold() in _AGE_PLACEHOLDERS:
        return _R_PLACEHOLDER
    if "*" in s:
        return _masked(None)
    s = _AGE_LABEL_RE.sub("", s).strip() or s
    m = _BIRTH_RANGE_RE.match(s)
    if m is not None:
        return _birth_range(int(m.group(1)), int(m.group(2)))
    m = _GENERATION_RE.match(s)
    if m is not None:
        digits = m.group(1)
        year = int(digits) if len(digits) == 4 else int(digits) + (2000 if int(digits) < 30 else 1900)
        if year % 5:
            return _invalid("AGE_BAND_FORMAT")  # 93后: no generation of that name
        return _birth_range(year, year + (4 if year % 10 else 9))
    m = _AGE_RANGE_RE.match(s)
    if m is not None:
        return _age_range(int(m.group(1)), int(m.group(2)))
    for pattern, bound, excluded in _AGE_BOUNDS:
        m = pattern.match(s)
        if m is not None:
            if bound == "from":
                return _age_range(int(m.group(1)) + excluded, None)
            high = int(m.group(1)) - excluded
            return _age_range(0, high) if high >= 0 else _invalid("AGE_BAND_RANGE")
    m = _AGE_SINGLE_RE.match(s)
    if m is not None:
        return _age_range(int(m.group(1)), int(m.group(1)), "AGE_BAND_SINGLE_AGE")
    return _invalid("AGE_BAND_FORMAT")


def age_band_birth_years(value: str | None, year: int) -> tuple[int | None, int | None]:
    """(earliest, latest) birth year of a standardized age band recorded in `year` (None: open).
    Someone aged A to B at some day of `year` was born between year - B - 1 and year - A; a
    generation is its own birth years. The standardize engine computes the same in SQL
    (`age_birth_min` / `age_birth_max`, with the year of the batch's upload)."""
    if not value or "-" not in value:
        return None, None
    low, _, high = value.partition("-")
    if len(low) == 4:
        return int(low), int(high)
    return (year - int(high) - 1 if high else None), year - int(low)


# ---------------------------------------------------------------------------------------------
# booleans (marketing consent)
# ---------------------------------------------------------------------------------------------

_BOOL_TABLE: dict[str, str] = {}
for _v, _words in (("true", "是 y yes true t 1 1.0 同意 已同意 已授权 授权 允许 订阅 已订阅 接受 opt-in optin on √ ✓ ✔ 对 有 真"),
                   ("false", "否 n no false f 0 0.0 不同意 未同意 未授权 拒绝 不允许 退订 取消订阅 已退订 不接受 opt-out optout "
                             "off × ✗ ✘ 不 非 假 未订阅")):
    for _w in _words.split():
        _BOOL_TABLE[_w] = _v
_BOOL_RESULTS = {"true": Result("true", _VALID), "false": Result("false", _VALID)}


@_never_raise
def normalize_boolean(raw: str | None) -> Result:
    """Yes/no (marketing consent) -> 'true' | 'false'."""
    if raw.__class__ is str:
        v = _BOOL_TABLE.get(raw)
        if v is not None:
            return _BOOL_RESULTS[v]
    s = prenormalize(raw)
    if s is None:
        return _R_MISSING
    v = _BOOL_TABLE.get(s.casefold().strip(" .。!！"))
    if v is not None:
        return _BOOL_RESULTS[v]
    if _is_placeholder(s):
        return _R_PLACEHOLDER
    if "*" in s:
        return _masked(None)
    return _invalid("BOOLEAN_INVALID")


# ---------------------------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------------------------

NORMALIZERS: dict[str, Callable[[str | None], Result]] = {
    "name": normalize_name,
    "family_name": normalize_family_name,
    "given_name": normalize_given_name,
    "mobile": normalize_mobile,
    "landline": normalize_landline,
    "email": normalize_email,
    "id_card": normalize_id_card,
    "gender": normalize_gender,
    "birth_date": normalize_date,
    "province": normalize_province,
    "city": normalize_city,
    "district": normalize_district,
    "address": normalize_address,
    "postcode": normalize_postcode,
    "wechat_open_id": functools.partial(normalize_channel_id, platform="wechat_open_id"),
    "wechat_app_id": functools.partial(normalize_channel_id, platform="wechat_app_id"),
    "wechat_union_id": functools.partial(normalize_channel_id, platform="wechat_union_id"),
    "douyin_id": functools.partial(normalize_channel_id, platform="douyin"),
    "ecommerce_buyer_id": functools.partial(normalize_channel_id, platform="ecommerce"),
    "member_card": functools.partial(normalize_channel_id, platform="member_card"),
    "nickname": functools.partial(normalize_text, field="nickname"),
    "store": functools.partial(normalize_text, field="store"),
    "registered_at": normalize_timestamp,
    "updated_at": normalize_timestamp,
    "marketing_consent": normalize_boolean,
    "other_id": normalize_other_id,
    "age_band": normalize_age_band,
}

REASONS: dict[str, tuple[str, str]] = {
    # generic
    "MISSING": ("缺失：空值或表格错误值", "Missing: empty or a spreadsheet error value"),
    "PLACEHOLDER": ("占位值（如“无”“未知”“先生”）", "Placeholder value (e.g. 无, 未知, N/A)"),
    "MASKED": ("已脱敏的值（含 *），不能作为标识", "Masked value (contains *); not usable as an identifier"),
    "SPREADSHEET_REPAIRED": ("已修复表格数字格式（如 .0、科学计数法、日期序列号）",
                             "Spreadsheet number format repaired (.0, scientific notation, date serial)"),
    "MULTIPLE_VALUES": ("一个单元格有多个值，已取第一个", "Several values in one cell; the first was taken"),
    "TEXT_TOO_LONG": ("文本过长", "Text is unusually long"),
    "NORMALIZER_ERROR": ("规范化程序内部错误", "Internal error in the normalizer"),
    # mobile
    "MOBILE_DUMMY": ("测试/虚假手机号（如 138-0013-8000）", "Dummy mobile number (e.g. 138-0013-8000)"),
    "MOBILE_LENGTH": ("手机号位数不对", "Mobile number has the wrong length"),
    "MOBILE_FORMAT": ("手机号格式无效", "Invalid mobile number format"),
    "MOBILE_PREFIX_UNKNOWN": ("未分配或未知的号段", "Unassigned or unknown number block"),
    "MOBILE_MVNO": ("虚拟运营商号段", "Mobile virtual network operator (MVNO) block"),
    "DATA_CARD": ("上网卡号段（145/147/149）", "Data-only card block (145/147/149)"),
    "MOBILE_IOT": ("物联网号码（13 位），不是客户手机", "IoT number (13 digits), not a customer mobile"),
    "MOBILE_SATELLITE": ("卫星/应急通信号段，不是客户手机", "Satellite / emergency block, not a customer mobile"),
    "MOBILE_FOREIGN": ("境外号码", "Non-mainland number"),
    "MOBILE_PRECISION_LOSS": ("科学计数法丢失了号码位数", "Scientific notation lost digits of the number"),
    "VIRTUAL_OR_RELAY": ("带分机号，可能是平台虚拟号/隐私号", "Has an extension: likely a platform virtual/relay number"),
    "LANDLINE_IN_MOBILE": ("手机号字段中是固定电话", "A landline number in the mobile field"),
    # landline
    "NO_AREA_CODE": ("固定电话缺少区号", "Landline without area code"),
    "SERVICE_NUMBER": ("服务号码（400/800/95xxx 等），不是个人联系方式",
                       "Service number (400/800/95xxx ...), not a personal contact"),
    "INVALID_LANDLINE": ("固定电话无效", "Invalid landline number"),
    "MOBILE_IN_LANDLINE": ("固定电话字段中是手机号", "A mobile number in the landline field"),
    "LANDLINE_DUMMY": ("虚假固定电话（如 88888888）", "Dummy landline number (e.g. 88888888)"),
    # resident ID
    "ID_CHECKSUM": ("身份证校验码错误", "Resident ID check character is wrong"),
    "ID_BAD_DATE": ("身份证中的出生日期无效", "Invalid birth date inside the resident ID"),
    "ID_FORMAT": ("身份证号格式无效", "Invalid resident ID format"),
    "ID_PRECISION_LOSS": ("表格以数字保存导致精度丢失（科学计数法或末尾 000），无法恢复",
                          "Stored as a number in a spreadsheet: precision lost (scientific notation or trailing 000)"),
    "ID_REGION_UNKNOWN": ("身份证省份代码未知", "Unknown province code in the resident ID"),
    "ID_UPGRADED_15": ("15 位旧身份证号已升级为 18 位", "Legacy 15-digit ID upgraded to 18 digits"),
    "ID_DUMMY": ("测试/虚假身份证号", "Dummy resident ID number"),
    "ID_AGE_IMPLAUSIBLE": ("身份证显示年龄超过 120 岁", "Resident ID implies an age over 120"),
    "ID_PERMIT": ("港澳台居民居住证或外国人永久居留身份证", "HK/Macau/Taiwan residence permit or foreigner permanent residence ID"),
    # email
    "EMAIL_INVALID": ("邮箱格式无效", "Invalid email address"),
    "EMAIL_TYPO_SUGGESTED": ("邮箱域名疑似拼写错误，已给出建议（未自动修改）",
                             "Email domain looks misspelt; a fix is suggested (not applied)"),
    "EMAIL_REPAIRED": ("已去除邮箱中的空格或全角句号", "Spaces or full-width dots removed from the address"),
    "EMAIL_PLACEHOLDER": ("占位邮箱（如 test@test.com）", "Placeholder email (e.g. test@test.com)"),
    # names
    "NAME_SURNAME_ONLY": ("只有姓（如“王先生”）", "Surname only (e.g. 王先生)"),
    "NAME_TOO_SHORT": ("姓名过短", "Name is too short"),
    "NAME_UNCOMMON_SURNAME": ("姓氏不常见，可能是昵称", "Uncommon surname: perhaps a nickname"),
    "NAME_LENGTH": ("姓名过长", "Name is unusually long"),
    "SUSPICIOUS_NAME": ("姓名含数字、表情或符号", "Name contains digits, emoji or symbols"),
    "NAME_NICKNAME": ("姓名栏填的是昵称（如“💕淡然”），不是姓名", "A nickname in the name column (e.g. 💕淡然), not a name"),
    "NAME_DECORATED": ("已去掉姓名前后的排序符号或行业后缀（如“A.王芳-美妆”）",
                       "Sort prefix or trade tag removed around the name (e.g. A.王芳-美妆)"),
    "NAME_ORGANIZATION": ("姓名疑似机构名称", "Name looks like an organization"),
    "SURNAME_UNKNOWN": ("不常见的姓", "Uncommon or unknown surname"),
    # gender
    "GENDER_FROM_SALUTATION": ("性别由称谓推断（低可信度）", "Gender inferred from a salutation (low confidence)"),
    "GENDER_INVALID": ("无法识别的性别值", "Unrecognized gender value"),
    # cross-field checks (computed by the standardize engine, listed here for the UI)
    "GENDER_ID_CONFLICT": ("性别与身份证不一致", "Gender conflicts with the resident ID"),
    "BIRTH_ID_CONFLICT": ("出生日期与身份证不一致", "Birth date conflicts with the resident ID"),
    "ID_REGION_MISMATCH": ("身份证省份与地址省份不同（可能已迁居）",
                           "Resident ID province differs from the address province (the person may have moved)"),
    # dates
    "DATE_FORMAT": ("无法识别的日期格式", "Unrecognized date format"),
    "DATE_INVALID": ("不存在的日期", "Not a real calendar date"),
    "DATE_AMBIGUOUS": ("日期月/日顺序不确定（按月在前解析）", "Day/month order is ambiguous (read month-first)"),
    "MOBILE_FROM_NOTE": ("手机号为空，取自备注或姓名中的号码", "No mobile; the number is taken from a note or the name"),
    "DATE_ORDER_OF_COLUMN": ("日期月/日顺序不确定，按本批次其他日期的顺序解析", "Day/month order taken from the batch's other dates"),
    "DATE_NO_YEAR": ("日期缺少年份", "Date without a year"),
    "DATE_NO_DAY": ("日期只有年月", "Date has only year and month"),
    "DATE_YEAR_ONLY": ("日期只有年份", "Date has only a year"),
    "DATE_OUT_OF_RANGE": ("日期超出范围（未来或 1900 年以前）", "Date out of range (future or before 1900)"),
    "DATE_PLACEHOLDER": ("占位日期（如 1900-01-01）", "Placeholder date (e.g. 1900-01-01)"),
    "DATE_SUSPECT_DEFAULT": ("疑似系统默认日期（1970-01-01）", "Looks like a system default date (1970-01-01)"),
    "TIME_MISSING": ("只有日期没有时间", "Date without a time of day"),
    "TIMESTAMP_FROM_EPOCH": ("由 Unix 时间戳换算（北京时间）", "Converted from a unix timestamp (China time)"),
    # addresses
    "ADDRESS_UNPARSED": ("未识别出省市区", "No province, city or district recognized"),
    "AMBIGUOUS_DISTRICT": ("区县名重名，缺少城市信息无法确定", "District name exists in several cities; no city context"),
    "ADDRESS_INCONSISTENT": ("省、市、区之间不一致", "Province, city and district do not agree"),
    "OUTDATED_DIVISION": ("已撤销或更名的行政区划", "Abolished or renamed administrative division"),
    "PROVINCE_UNKNOWN": ("无法识别的省份", "Unrecognized province"),
    "CITY_UNKNOWN": ("无法识别的城市", "Unrecognized city"),
    "DIVISION_EXTRACTED": ("从多级或带标签的地区中取出本级", "Taken out of a longer region (several levels or a label)"),
    "CITY_COUNTY_LEVEL": ("县级市，不是地级市", "County-level city, not a prefecture-level city"),
    "DISTRICT_UNKNOWN": ("无法识别的区县", "Unrecognized district or county"),
    "POSTCODE_INVALID": ("邮政编码无效", "Invalid postcode"),
    "POSTCODE_ZERO_RESTORED": ("已补回被表格去掉的前导 0", "Leading zero dropped by a spreadsheet was restored"),
    "POSTCODE_PREFIX_UNKNOWN": ("邮政编码前两位不对应任何省份", "Postcode prefix matches no province"),
    # channel ids and booleans
    "CHANNEL_ID_FORMAT": ("渠道ID含空白字符", "Channel id contains whitespace"),
    "CHANNEL_ID_UNUSUAL": ("渠道ID格式不常见", "Channel id has an unusual format"),
    "BOOLEAN_INVALID": ("无法识别的是/否值", "Unrecognized yes/no value"),
    # other ID numbers
    "OTHER_ID_FORMAT": ("其他证件号格式无效（应为 5–32 位字母或数字）",
                        "Invalid other ID number (5 to 32 letters and digits expected)"),
    "OTHER_ID_DUMMY": ("测试/虚假证件号（如 0000000、123456789）", "Dummy ID number (e.g. 0000000, 123456789)"),
    "OTHER_ID_IS_RESIDENT_ID": ("其他证件号字段中是居民身份证号，应映射到身份证号",
                                "A mainland resident ID in the other-ID field; map the column to id_card"),
    # age bands
    "AGE_BAND_FORMAT": ("无法识别的年龄段", "Unrecognized age band"),
    "AGE_BAND_RANGE": ("年龄段超出范围或上下限颠倒", "Age band out of range, or its bounds reversed"),
    "AGE_BAND_SINGLE_AGE": ("只有一个年龄，不是年龄段", "A single age, not a band"),
}
