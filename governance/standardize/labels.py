"""Files for people: a table's headers and coded values as labels in a language, and the sheet that
explains its columns.

A file a steward downloads reads like the screen: 状态 for `status`, 无效 for `invalid`, the reason's
description for `MOBILE_DUMMY`, 天猫旗舰店、微信小程序 for `tmall,wechat_mp`. Files for systems keep the
field names and codes (the callers decide). Labelling runs after masking, one chunk at a time: each
coded column's distinct values are labelled once and mapped (vectorized), so memory stays flat.

Codes whose labels live above this layer (the OneID link rules) come in through `extra`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from governance.i18n import TEXTS, VALUES_EN, VALUES_ZH, column_label, t
from governance.standardize.normalizers import REASONS, STATUSES
from governance.store.schema import BY_NAME, CHANNELS

# column -> the kind of codes it holds
KINDS = {"status": "status", "reason": "reason", "channel": "channel", "channels": "channels",
         "consent_marketing": "state", "state": "state", "field": "field", "rule": "rule", "gender": "gender",
         "is_minor": "bool", "marketing_consent": "bool", "placed_by": "placed_by"}
LIST_SEPARATOR = ","  # how an export joins a list of codes (channels)
RULE_KINDS = ("source_priority", "most_recent", "most_frequent", "most_complete", "aggregate", "override")
GENDERS = ("0", "1", "2", "9")  # GB/T 2261.1
PLACED = ("singleton", "review")
TRUE, FALSE = frozenset({"true", "1", "yes", "是"}), frozenset({"false", "0", "no", "否"})


def _values(lang: str) -> dict[str, dict[str, str]]:
    return VALUES_ZH if lang == "zh" else VALUES_EN


@dataclass(frozen=True)
class Labeller:
    """Headers and coded values of a table in `lang` ("zh" or "en"). `extra`: column -> code ->
    label for codes known only above this layer (placed_by: the link rules' names)."""

    lang: str
    extra: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def t(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)

    # ---- headers

    def header(self, column: str) -> str:
        key = f"files.header.{column}"
        return self.t(key) if key in TEXTS else column_label(column, self.lang)

    def headers(self, columns: Iterable[object]) -> list[str]:
        """Each column's header; a header two columns would share gets its code added."""
        names = [str(c) for c in columns]
        labels = [self.header(c) for c in names]
        return [f"{label} · {name}" if labels.count(label) > 1 else label for label, name in zip(labels, names)]

    # ---- values

    def vocabulary(self, column: str) -> dict[str, str]:
        """Every code the column can hold -> its label (for the columns sheet; placed_by's model
        links, `model:<probability>`, are open-ended and shown by one example)."""
        kind = KINDS.get(column)
        values = _values(self.lang)
        if kind == "reason":
            return {code: (zh if self.lang == "zh" else en) for code, (zh, en) in REASONS.items()}
        if kind in ("channel", "channels"):
            return {code: (zh if self.lang == "zh" else en) for code, (zh, en) in CHANNELS.items()}
        if kind == "status":
            return {c: values.get("status", {}).get(c, c) for c in STATUSES}
        if kind == "state":
            return {c: values.get("state", {}).get(c, c) for c in ("granted", "withdrawn", "expired")}
        if kind == "field":
            return {name: f.label(self.lang) for name, f in BY_NAME.items()}
        if kind == "rule":
            return {k: self.t(f"files.rule.{k}") for k in RULE_KINDS}
        if kind == "gender":
            return {g: self.t(f"files.gender.{g}") for g in GENDERS}
        if kind == "bool":
            return {"true": self.t("files.yes"), "false": self.t("files.no")}
        if kind == "placed_by":
            return {**{p: self.t(f"files.placed.{p}") for p in PLACED}, **dict(self.extra.get(column, {})),
                    "model:0.9950": self.t("files.placed.model", p="0.9950")}
        return dict(self.extra.get(column, {}))

    def value(self, column: str, value: object, vocabulary: Mapping[str, str] | None = None) -> object:
        """One coded value as a label (unknown codes, masked values and non-codes as they are)."""
        kind = KINDS.get(column)
        if value is None or kind is None:
            return value
        if kind == "bool":
            text = str(value).strip().lower()
            return self.t("files.yes") if text in TRUE else self.t("files.no") if text in FALSE else value
        if not isinstance(value, str):
            return value
        known = self.vocabulary(column) if vocabulary is None else vocabulary
        if kind == "channels":
            joiner = "、" if self.lang == "zh" else ", "
            return joiner.join(known.get(part, part) for part in value.split(LIST_SEPARATOR) if part)
        if kind == "placed_by" and value.startswith("model:"):
            return self.t("files.placed.model", p=value.split(":", 1)[1])
        return known.get(value, value)

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A chunk with labelled headers and coded values: each coded column's distinct values are
        labelled once, then mapped."""
        out = frame.copy(deep=False)
        for column in frame.columns:
            if KINDS.get(str(column)) is None:
                continue
            values = frame[column]
            vocabulary = self.vocabulary(str(column))
            mapping = {v: self.value(str(column), v, vocabulary) for v in pd.unique(values.dropna())}
            out[column] = values.astype(object).map(mapping)  # nulls stay empty
        if "field" in frame.columns:  # lineage: a value is coded when its row's field is (gender, say)
            for name in set(KINDS) & set(frame["field"].dropna().unique()):
                rows = frame["field"] == name
                vocabulary = self.vocabulary(name)
                for column in {"value", "competing"} & set(frame.columns):
                    part = frame.loc[rows, column]
                    out.loc[rows, column] = part.map({v: self.value(name, v, vocabulary) for v in pd.unique(part.dropna())})
        out.columns = self.headers(frame.columns)
        return out

    # ---- the columns sheet

    @property
    def sheet_name(self) -> str:
        return self.t("files.sheet")

    def about(self, column: str) -> str:
        key = f"files.about.{column}"
        if key in TEXTS:
            return self.t(key)
        std = BY_NAME.get(column)
        if std is None:
            return ""
        text = self.t("files.about_field", label=std.label(self.lang), type=self.t(f"files.type.{std.type}"))
        if std.pii:
            text += self.t("files.about_pii")
        return text + ("" if self.lang == "zh" else f" {std.definition}")

    def columns_sheet(self, columns: Iterable[object]) -> pd.DataFrame:
        """One row per column: its label, its field code, what it holds, and its codes with their labels."""
        names = [str(c) for c in columns]
        rows = []
        for name, label in zip(names, self.headers(names)):
            vocabulary = self.vocabulary(name) if name in KINDS else {}
            codes = "\n".join(f"{code} → {text}" for code, text in vocabulary.items())
            rows.append({self.t("files.col.label"): label, self.t("files.col.code"): name,
                         self.t("files.col.about"): self.about(name), self.t("files.col.codes"): codes})
        return pd.DataFrame(rows, columns=[self.t(f"files.col.{c}") for c in ("label", "code", "about", "codes")])
