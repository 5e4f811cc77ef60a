"""Masking of personal data for display and export: one helper for every page.

Conventions (governance-anchors §4.12): mobile 138****1234, resident ID
110105********002X, names 张* / 欧阳** (compound-surname aware), email z***@qq.com,
address kept to the district, channel ids first 4 … last 4.
"""
from __future__ import annotations

import re

import pandas as pd

from governance.schema import BY_NAME

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 司空 夏侯 轩辕 端木 万俟 单于 澹台 钟离 闾丘 南宫 西门 "
    "呼延 拓跋 第五 百里 东郭 独孤 赫连 申屠 太叔 公羊 濮阳 淳于 仲孙 鲜于 闻人 左丘 谷梁 宰父 乐正 壤驷 巫马 漆雕 公良 "
    "亓官 司寇 子车 颛孙 段干 梁丘 公西 羊舌".split())
_HAN = re.compile(r"[\u3400-\u9fff]")
_ADDRESS_KEEP = re.compile(r"^.*?(区|县|旗|市(?!场))")


def mask_name(value: str) -> str:
    text = value.strip()
    if not text:
        return text
    if _HAN.match(text):
        keep = 2 if text[:2] in COMPOUND_SURNAMES and len(text) > 2 else 1
        return text[:keep] + "*" * max(1, len(text) - keep)
    parts = text.split()
    return " ".join(p[0] + "*" * max(1, len(p) - 1) for p in parts)


def mask_digits(value: str, keep_start: int, keep_end: int) -> str:
    text = value.strip()
    if len(text) <= keep_start + keep_end:
        return "*" * len(text)
    return text[:keep_start] + "*" * (len(text) - keep_start - keep_end) + text[len(text) - keep_end:]


def mask_email(value: str) -> str:
    local, at, domain = value.strip().partition("@")
    if not at:
        return mask_generic(value)
    return (local[:1] + "***" if local else "***") + "@" + domain


def mask_address(value: str) -> str:
    text = value.strip()
    match = _ADDRESS_KEEP.match(text[:20])
    kept = match.group(0) if match else text[:3]
    return kept + "*****"


def mask_id(value: str) -> str:
    text = value.strip()
    if len(text) <= 8:
        return mask_digits(text, 1, 1)
    return f"{text[:4]}…{text[-4:]}"


def mask_generic(value: str) -> str:
    text = value.strip()
    return (text[:1] + "***") if text else text


_BY_FIELD = {
    "name": mask_name, "family_name": lambda v: mask_digits(v, 0, 0) if len(v) > 1 else v,
    "given_name": lambda v: "*" * len(v.strip()), "nickname": mask_generic,
    "mobile": lambda v: mask_digits(v, 3, 4), "landline": lambda v: mask_digits(v, 4, 4),
    "email": mask_email, "id_card": lambda v: mask_digits(v, 6, 4), "address": mask_address,
    "birth_date": lambda v: v.strip()[:4] + "-**-**" if len(v.strip()) >= 4 else "****",
    "wechat_open_id": mask_id, "wechat_union_id": mask_id, "douyin_id": mask_id,
    "ecommerce_buyer_id": mask_id, "member_card": mask_id, "gender": lambda v: "*",
}


def mask_value(field: str | None, value: object) -> object:
    """Masked display form of one value of a standard field; unknown columns are masked generically."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or not isinstance(value, str):
        return value
    if field is not None and field in BY_NAME and not BY_NAME[field].pii:
        return value
    return _BY_FIELD.get(field, mask_generic)(value)


def mask_frame(frame: pd.DataFrame, fields_by_column: dict[str, str | None], keep: set[str] = frozenset()) -> pd.DataFrame:
    """A copy of `frame` with every column masked by its field; columns in `keep` are left alone."""
    out = frame.copy()
    for column in out.columns:
        if column in keep:
            continue
        f = fields_by_column.get(column)
        out[column] = out[column].map(lambda v, f=f: mask_value(f, v))
    return out
