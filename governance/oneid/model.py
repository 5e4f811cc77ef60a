"""The probabilistic half of OneID: a Splink 5 model on DuckDB over the standardized fields.

Comparisons: name (hanzi, pinyin in either order, Jaro-Winkler on pinyin, one mistyped character of a
name of three or more, initials; term-frequency adjusted), mobile (exact, last 8 digits, one typo,
masked-compatible first 3 + last 4), email, birth date (exact, the same month and day when one has no
year, same month, one typo), resident ID, platform account (union_id, open_id within its app id or
membership card within its source; else Douyin or buyer id), nickname (exact, term-frequency adjusted;
two different nicknames weigh nothing), district, address (the last three numbers of a Chinese address,
building, unit and room, within the same district), sex (from a resident ID, a gender column or a
salutation), another ID number (passport, SSN) and an age band against a birth date. Records named in
separate family / given fields with no usable single name (Western CRMs such as Febrl) get their own
comparisons and blocking rules: given and family name (exact, swapped, Jaro-Winkler), street, suburb or
city, and postcode (the raw text when it is not a Chinese postcode). Those columns are NULL on every
other record, so they weigh nothing on Chinese multi-channel data. Identifier exact levels get a fixed,
tiny u: on duplicate-rich data, sampled u is contaminated by true matches (splink5-notes §12). The model
is saved as JSON with every run, and a saved model can be reused to skip training.

No probability of exactly 0 or 1 reaches a match weight (log2 of p / (1 - p)): Splink 5 clamps m and
u itself (at 1e-300), but sets the prior to 0 when the rules that estimate it find no pair, so the
prior and the threshold are checked here. Whatever else Splink raises becomes one GovernanceError.
"""
from __future__ import annotations

import functools
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import splink.comparison_level_library as cll
import splink.comparison_library as cl
import sqlglot
from splink import ColumnExpression, DuckDBAPI, Linker, SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule
from sqlglot import exp

from governance.oneid.links import (
    DOB_SQL,
    MASKED_KEY_SQL,
    MOBILE_OK,
    PERSON_NAME_SQL,
    REC_ID,
    SEX_SQL,
    SURNAME_ONLY_SQL,
    rec_id_in,
    rows_of,
)
from governance.standardize.engine import VALID_SQL
from governance.store.errors import GovernanceError
from governance.store.storage import Database, one, relation

SPLINK_SCHEMA = "splink_work"
U_MAX_PAIRS = 1e6
PRIOR = 1e-4        # probability that two random records match, when it cannot be estimated
P_EDGE = 1e-12      # probabilities are kept within [P_EDGE, 1 - P_EDGE] before a match weight is taken
RARE_NICKNAME = 5   # records block on a nickname only when at most this many records carry it
RARE_ID = 20        # an other ID number held by more records is junk (a shop's or a default value): ignored

INPUT_SQL = f"""
SELECT {REC_ID} AS unique_id,
       CASE WHEN {PERSON_NAME_SQL} THEN coalesce(name_simplified, name) END AS name_hz,
       CASE WHEN {PERSON_NAME_SQL} THEN name_pinyin END AS name_py,
       CASE WHEN {PERSON_NAME_SQL} THEN coalesce(name_pinyin_rev, name_pinyin) END AS name_py_rev,
       CASE WHEN {PERSON_NAME_SQL} THEN name_initials END AS name_ini,
       CASE WHEN {PERSON_NAME_SQL} THEN name_family END AS name_fam,
       {SURNAME_ONLY_SQL} AS surname_only,
       CASE WHEN {PERSON_NAME_SQL}
            THEN least(name_pinyin, coalesce(name_pinyin_rev, name_pinyin)) END AS name_key,
       CASE WHEN {MOBILE_OK} THEN mobile END AS mobile,
       CASE WHEN {MOBILE_OK} THEN right(mobile, 8) END AS mobile8,
       {MASKED_KEY_SQL} AS mobile_mk,
       CASE WHEN email_status IN {VALID_SQL} THEN lower(email) END AS email,
       ({DOB_SQL})::VARCHAR AS dob,
       coalesce(strftime({DOB_SQL}, '%m-%d'), birth_md_raw) AS birth_md,
       CASE WHEN id_card_status IN {VALID_SQL} THEN id_card END AS id_card,
       CASE WHEN other_id_status IN {VALID_SQL} THEN rare_id END AS other_id,
       age_birth_min AS birth_min, age_birth_max AS birth_max,
       coalesce(age_birth_min, age_birth_max) IS NOT NULL AS has_band,
       coalesce(addr_district, CASE WHEN district_status IN {VALID_SQL} THEN district END) AS district,
       CASE WHEN NOT split_name AND address_status IN {VALID_SQL} AND len(addr_numbers) >= 3
            THEN array_to_string(addr_numbers[-3:], '-') END AS addr_room,
       {SEX_SQL} AS sex,
       split_name,
       CASE WHEN split_name AND given_name_status IN {VALID_SQL} THEN lower(trim(given_name)) END AS given,
       CASE WHEN split_name AND family_name_status IN {VALID_SQL} THEN lower(trim(family_name)) END AS family,
       CASE WHEN split_name AND address_status IN {VALID_SQL} THEN lower(trim(address)) END AS street,
       CASE WHEN split_name AND city_status IN {VALID_SQL} THEN lower(trim(city)) END AS locality,
       CASE WHEN wechat_union_id_status IN {VALID_SQL} THEN wechat_union_id END AS union_id,
       CASE WHEN wechat_open_id_status IN {VALID_SQL} AND wechat_app_id IS NOT NULL
            THEN wechat_app_id || '|' || wechat_open_id END AS open_id,
       CASE WHEN douyin_id_status IN {VALID_SQL} THEN douyin_id END AS douyin_id,
       CASE WHEN ecommerce_buyer_id_status IN {VALID_SQL} THEN ecommerce_buyer_id END AS buyer_id,
       CASE WHEN member_card_status IN {VALID_SQL} THEN source || '|' || member_card END AS card,
       CASE WHEN nickname_status IN {VALID_SQL} THEN nickname END AS nickname,
       CASE WHEN nickname_status IN {VALID_SQL} THEN rare_nickname END AS nick_rare,
       CASE WHEN split_name AND postcode_status IN {VALID_SQL} THEN postcode
            WHEN split_name AND regexp_full_match(postcode_raw, '[0-9A-Z][0-9A-Z -]{{1,8}}[0-9A-Z]')
            THEN replace(postcode_raw, ' ', '') END AS postcode
FROM (SELECT s.*, rare_nickname, rare_id,
             CASE WHEN s.split_name AND s.postcode_status = 'invalid'  -- a postcode outside China: its raw text
                  THEN upper(trim(m.postcode)) END AS postcode_raw,
             CASE WHEN s.birth_date_reason = 'DATE_NO_YEAR'  -- a birthday without its year (10-26, 10月26日)
                  AND m.md.m <> '' THEN lpad(m.md.m, 2, '0') || '-' || lpad(m.md.d, 2, '0') END AS birth_md_raw,
             regexp_extract_all(regexp_replace(s.address, '[(（][^)）]*[)）]', '', 'g'), '[0-9]+') AS addr_numbers
      FROM (SELECT *, coalesce(name_status NOT IN {VALID_SQL}, true)
                      AND coalesce(family_name_status IN {VALID_SQL} OR given_name_status IN {VALID_SQL}, false)
                      AS split_name
            FROM std_records WHERE __ONLY__) s
      LEFT JOIN (SELECT batch_id, row_number, postcode,
                        regexp_extract(translate(birth_date, '０１２３４５６７８９－／．', '0123456789-/.'),  -- as exports write it:
                                       '^[\\s="'']*(\\d{{1,2}})\\s*(?:[-/.]|月)\\s*(\\d{{1,2}})',  -- '10-26, ="10-26"
                                       ['m', 'd']) AS md
                 FROM mapped_records SEMI JOIN  -- only rows that can need it
                 (SELECT batch_id, row_number FROM std_records WHERE postcode_status = 'invalid'
                  OR birth_date_reason = 'DATE_NO_YEAR') USING (batch_id, row_number)) m
                ON m.batch_id = s.batch_id AND m.row_number = s.row_number
      LEFT JOIN (SELECT nickname AS rare_nickname FROM std_records WHERE nickname IS NOT NULL __NICKNAMES__ GROUP BY ALL
                 HAVING count(*) <= {RARE_NICKNAME}) ON rare_nickname = s.nickname
      LEFT JOIN (SELECT other_id AS rare_id FROM std_records WHERE other_id IS NOT NULL __OTHER_IDS__ GROUP BY ALL
                 HAVING count(*) <= {RARE_ID}) ON rare_id = s.other_id)
"""


def input_sql(only: str = "true") -> str:
    """The model's input, in the same order every run (u is sampled with a seed): the records of
    std_records meeting the condition `only` ({rid} stands for a record's id)."""
    return _input_body(only) + " ORDER BY unique_id"


def _input_body(only: str = "true") -> str:
    where = only.format(rid=REC_ID)
    sql = INPUT_SQL.replace("__ONLY__", where)
    for marker, column in (("__NICKNAMES__", "nickname"), ("__OTHER_IDS__", "other_id")):  # count only the values in play
        sql = sql.replace(marker, "" if only == "true" else f"AND {column} IN (SELECT {column} FROM std_records WHERE {where})")
    return sql



def _identifier(column: str, label: str, extra_levels: list | None = None) -> cl.CustomComparison:
    levels = [cll.NullLevel(column),
              cll.ExactMatchLevel(column).configure(u_probability=1e-6, fix_u_probability=True,
                                                    label_for_charts=f"{label} exact")]
    return cl.CustomComparison(output_column_name=column, comparison_levels=levels + (extra_levels or []) + [cll.ElseLevel()])


def _split_field(column: str, label: str, jw: tuple[float, ...], swapped_with: str | None = None,
                 tf: bool = True) -> cl.CustomComparison:
    """A field of the records named in separate family / given fields (NULL on every other record,
    so it weighs nothing there): exact (term-frequency adjusted), swapped with `swapped_with`,
    then Jaro-Winkler at each threshold."""
    exact = cll.ExactMatchLevel(column).configure(label_for_charts=f"{label} exact")
    if tf:
        exact = exact.configure(tf_adjustment_column=column)
    levels: list = [cll.NullLevel(column), exact]
    if swapped_with:
        levels.append(cll.CustomLevel(f"{column}_l = {swapped_with}_r AND {swapped_with}_l = {column}_r",
                                      label_for_charts=f"{label} swapped with {swapped_with}"))
    levels += [cll.JaroWinklerLevel(column, t).configure(label_for_charts=f"{label} similar ({t})") for t in jw]
    return cl.CustomComparison(output_column_name=column, comparison_levels=levels + [cll.ElseLevel()])


# Blocking for records named in separate family / given fields (no Chinese identifier to block on)
SPLIT_BLOCKING = [
    CustomRule("l.dob = r.dob AND l.split_name AND r.split_name"),
    block_on("given", "family"),
    CustomRule("l.given = r.family AND l.family = r.given"),
    block_on("family", "street"),
    block_on("given", "street"),
    block_on("street", "locality"),
    block_on("postcode", ColumnExpression("family").substr(1, 1)),
    block_on("postcode", "given"),
    block_on("postcode", "street"),
    block_on("postcode", "locality"),
]


_ACCOUNTS = ("union_id", "open_id", "card", "douyin_id", "buyer_id")  # platform accounts
# Two accounts compare only within one namespace: an openid within its app, a card within its source
# ('app|id', 'source|card'); a person has an openid per app and may hold a card per source.
_SCOPED_ACCOUNTS = ("open_id", "card")


def _accounts_not_comparable() -> str:
    def apart(c: str) -> str:
        space = "regexp_extract({}, '^(.*)[|]', 1)"  # all before the last '|' (a source name may hold one)
        other = f" OR {space.format(c + '_l')} <> {space.format(c + '_r')}" if c in _SCOPED_ACCOUNTS else ""
        return f"({c}_l IS NULL OR {c}_r IS NULL{other})"
    return " AND ".join(apart(c) for c in _ACCOUNTS)


def settings() -> SettingsCreator:
    name = cl.CustomComparison(output_column_name="name", comparison_levels=[
        cll.NullLevel("name_py"),
        cll.ExactMatchLevel("name_hz").configure(tf_adjustment_column="name_hz", label_for_charts="hanzi exact"),
        cll.ExactMatchLevel("name_py").configure(label_for_charts="pinyin exact"),
        cll.CustomLevel("name_py_l = name_py_rev_r OR name_py_rev_l = name_py_r", label_for_charts="pinyin reversed"),
        cll.JaroWinklerLevel("name_py", 0.92).configure(label_for_charts="pinyin similar"),
        cll.CustomLevel("name_fam_l = name_fam_r AND length(name_hz_l) >= 3 AND (CASE WHEN length(name_hz_l) = "
                        "length(name_hz_r) THEN hamming(name_hz_l, name_hz_r) END) = 1",  # hamming needs equal lengths
                        label_for_charts="one character differs"),
        cll.ExactMatchLevel("name_ini").configure(label_for_charts="initials"),
        cll.CustomLevel("(surname_only_l AND name_fam_l = name_fam_r) OR (surname_only_r AND name_fam_r = name_fam_l)",
                        label_for_charts="surname only, compatible"),
        cll.ElseLevel()])
    mobile = cl.CustomComparison(output_column_name="mobile", comparison_levels=[
        cll.CustomLevel("mobile_mk_l IS NULL OR mobile_mk_r IS NULL").configure(is_null_level=True),
        cll.ExactMatchLevel("mobile").configure(u_probability=1e-6, fix_u_probability=True, label_for_charts="exact"),
        # near-identifiers, rare between random records (7 of 11 digits, 138****5530: about 1 in 10^5);
        # a sampled u is contaminated by true matches
        cll.ExactMatchLevel("mobile8").configure(u_probability=1e-6, fix_u_probability=True, label_for_charts="last 8 digits"),
        cll.DamerauLevenshteinLevel("mobile", 1).configure(u_probability=1e-5, fix_u_probability=True,
                                                           label_for_charts="one typo"),
        cll.ExactMatchLevel("mobile_mk").configure(u_probability=1e-5, fix_u_probability=True,
                                                   label_for_charts="masked-compatible"),
        cll.ElseLevel()])
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            name, mobile,
            _identifier("email", "email", [cll.LevenshteinLevel("email", 1)]),
            cl.CustomComparison(output_column_name="dob", comparison_levels=[
                cll.CustomLevel("coalesce(dob_l, birth_md_l) IS NULL OR coalesce(dob_r, birth_md_r) IS NULL").configure(
                    is_null_level=True),
                cll.ExactMatchLevel("dob"),
                cll.CustomLevel("(dob_l IS NULL OR dob_r IS NULL) AND birth_md_l = birth_md_r",  # 10-26 and 1984-10-26
                                label_for_charts="same month and day, a year missing"),
                cll.CustomLevel("substr(dob_l, 1, 7) = substr(dob_r, 1, 7)", label_for_charts="same month"),
                cll.DamerauLevenshteinLevel("dob", 1).configure(label_for_charts="one typo"),
                cll.ElseLevel()]),
            _identifier("id_card", "ID"),
            _identifier("other_id", "other ID", [cll.DamerauLevenshteinLevel("other_id", 1).configure(
                label_for_charts="other ID, one typo")]),
            cl.CustomComparison(output_column_name="age", comparison_levels=[  # an age band against a birth date
                cll.CustomLevel("NOT ((has_band_l AND dob_r IS NOT NULL) OR (has_band_r AND dob_l IS NOT NULL))").configure(
                    is_null_level=True),
                cll.CustomLevel("(NOT has_band_l OR dob_r IS NULL OR TRY_CAST(substr(dob_r, 1, 4) AS INTEGER) "
                                "BETWEEN coalesce(birth_min_l, 0) AND coalesce(birth_max_l, 9999)) AND "
                                "(NOT has_band_r OR dob_l IS NULL OR TRY_CAST(substr(dob_l, 1, 4) AS INTEGER) "
                                "BETWEEN coalesce(birth_min_r, 0) AND coalesce(birth_max_r, 9999))",
                                label_for_charts="birth year within the age band"),
                cll.ElseLevel()]),
            cl.CustomComparison(output_column_name="account", comparison_levels=[
                cll.CustomLevel(_accounts_not_comparable()).configure(is_null_level=True),
                cll.CustomLevel("union_id_l = union_id_r OR open_id_l = open_id_r OR card_l = card_r").configure(
                    u_probability=1e-6, fix_u_probability=True, label_for_charts="union_id, open_id or card"),
                cll.CustomLevel("douyin_id_l = douyin_id_r OR buyer_id_l = buyer_id_r").configure(
                    u_probability=1e-5, fix_u_probability=True, label_for_charts="Douyin or buyer id"),
                cll.ElseLevel()]),
            cl.CustomComparison(output_column_name="nickname", comparison_levels=[
                # two different nicknames say nothing (people pick a new one per platform and account)
                cll.CustomLevel("nickname_l IS NULL OR nickname_r IS NULL OR nickname_l <> nickname_r").configure(
                    is_null_level=True),
                cll.ExactMatchLevel("nickname").configure(tf_adjustment_column="nickname", label_for_charts="exact"),
                cll.ElseLevel()]),
            cl.ExactMatch("district"),
            cl.CustomComparison(output_column_name="address", comparison_levels=[
                # only within one district (the district itself weighs in its own comparison)
                cll.CustomLevel("addr_room_l IS NULL OR addr_room_r IS NULL OR district_l IS DISTINCT FROM district_r"
                                ).configure(is_null_level=True),
                cll.ExactMatchLevel("addr_room").configure(label_for_charts="same building, unit and room"),
                cll.ElseLevel()]),
            cl.ExactMatch("sex"),
            _split_field("given", "given name", (0.92, 0.8), swapped_with="family"),
            _split_field("family", "family name", (0.92, 0.8), swapped_with="given"),
            _split_field("street", "street", (0.9, 0.75)),
            _split_field("locality", "suburb or city", (0.9,)),
            cl.CustomComparison(output_column_name="postcode", comparison_levels=[
                cll.NullLevel("postcode"), cll.ExactMatchLevel("postcode"), cll.DamerauLevenshteinLevel("postcode", 1),
                cll.ElseLevel()]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("mobile"), block_on("id_card"), block_on("other_id"), block_on("email"), block_on("mobile_mk", "name_ini"),
            block_on("name_key", "dob"),
            CustomRule("l.name_key = r.name_key AND l.birth_md = r.birth_md AND (l.dob IS NULL OR r.dob IS NULL)"),
            block_on("name_hz", "district"), block_on("name_key", "mobile8"),
            block_on("union_id"), block_on("open_id"), block_on("douyin_id"), block_on("buyer_id"), block_on("card"),
            block_on("nick_rare"), block_on(ColumnExpression("mobile").substr(1, 7), "name_ini"),
            *SPLIT_BLOCKING,
        ],
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        probability_two_random_records_match=PRIOR,
    )


@dataclass
class Prediction:
    pairs: pa.Table          # rec_l, rec_r, match_probability, match_weight, and the mw_* weights
    model_json: str
    seconds: float = 0.0     # how long training and scoring took
    keys: pa.Table | None = None  # a full prediction's keys_sql of every record


def _input(db: Database) -> pa.Table:
    with db.cursor() as cur:
        return input_table(cur)


def input_table(cur: duckdb.DuckDBPyConnection) -> pa.Table:
    """The model's input of every record, as this cursor sees the store."""
    return relation(cur, input_sql()).to_arrow_table()


RESCORE = "_rescore"  # temp table (rid): the records whose pairs an incremental run scores again


def tf_columns(model: dict) -> list[str]:
    """The columns a model adjusts for term frequency."""
    try:
        columns = sorted({level["tf_adjustment_column"] for comparison in model.get("comparisons", [])
                          for level in comparison.get("comparison_levels", []) if level.get("tf_adjustment_column")})
    except (AttributeError, TypeError):
        raise GovernanceError("The saved OneID model cannot be used: its comparisons are not Splink comparisons.") from None
    if not all(isinstance(c, str) and re.fullmatch(r"\w+", c) for c in columns):
        raise GovernanceError("The saved OneID model names a term-frequency column that is not a plain column name.")
    return columns


def _blocking_rules(model: dict) -> list[str]:
    """The model's blocking rules, each checked to be one condition on l. and r. columns: they run on
    the store's own connection (changed_scoring), and a saved model may come from a file."""
    rules = [r["blocking_rule"] if isinstance(r, dict) else str(r) for r in model.get("blocking_rules_to_generate_predictions", [])]
    for rule in rules:
        _check_blocking_rule(rule)
    return rules


@functools.lru_cache(maxsize=256)  # a run checks its model's rules several times; parsing them takes 25 ms each time
def _check_blocking_rule(rule: str) -> None:
    try:
        statements = sqlglot.parse(rule, read="duckdb")
    except sqlglot.errors.ParseError:
        statements = []
    tree = statements[0] if len(statements) == 1 else None
    if tree is None or tree.find(exp.Select, exp.Subquery, exp.Command) is not None or any(
            c.table not in ("l", "r") or not re.fullmatch(r"\w+", c.name) for c in tree.find_all(exp.Column)):
        raise GovernanceError(f"The saved OneID model's blocking rule is not a condition on two records: {rule[:80]}")


def no_longer_rare_sql(new: str) -> str:
    """One SELECT of (rid): the records whose nickname or other ID the records of temp table `new(rid)`
    made common (held by more than RARE_NICKNAME or RARE_ID records, and not before them): the
    model's input of those records changed."""
    parts = [f"SELECT {REC_ID} AS rid FROM std_records WHERE {column} IN (SELECT {column} FROM std_records WHERE "
             f"{column} IN (SELECT {column} FROM std_records WHERE {rec_id_in(new)}) GROUP BY ALL "
             f"HAVING count(*) > {limit} AND count(*) FILTER (WHERE {REC_ID} NOT IN (SELECT rid FROM {new})) <= {limit})"
             for column, limit in (("nickname", RARE_NICKNAME), ("other_id", RARE_ID))]
    return " UNION ".join(parts)


def key_columns(model: dict) -> list[str]:
    """The input columns a model blocks on or adjusts for term frequency."""
    rules = _blocking_rules(model)
    return sorted({c for rule in rules for c in re.findall(r'[lr]\."?(\w+)"?', rule)} | set(tf_columns(model)))


def keys_sql(model: dict, only: str = "true") -> str:
    """One SELECT of (unique_id, key_columns) for the records meeting `only` (see input_sql)."""
    return f"SELECT unique_id, {', '.join(key_columns(model))} FROM ({input_sql(only)})"


def changed_scoring(cur: duckdb.DuckDBPyConnection, threshold: float, model_json: str,
                    engine: Engine | None = None, keys: str | None = None) -> Callable[[], Prediction]:
    """Score with a saved model only the blocked pairs that touch a record of the temp table
    `_rescore(rid)`, at or above `threshold`: the same pairs with the same weights as a full
    prediction would give them. The candidates are the records that share a blocking key with one
    of those records, found on the table `keys` (keys_sql of every record, kept by the caller) or
    else on keys computed now; term frequencies come from every record, as in a full run.

    The input is read now, on `cur`; the returned function scores it on the engine's own connection
    and reads nothing of `cur`, so it may run in another thread while `cur` goes on."""
    saved = _saved_model(model_json)
    rules = _blocking_rules(saved)
    tf = tf_columns(saved)
    started = time.perf_counter()
    empty = Prediction(pa.table({"rec_l": pa.array([], pa.int64()), "rec_r": pa.array([], pa.int64()),
                                 "match_probability": pa.array([], pa.float64()),
                                 "match_weight": pa.array([], pa.float64())}), model_json)
    if not rules:
        return lambda: empty
    try:
        records, tf_tables = _changed_input(cur, saved, rules, tf, keys)
    except duckdb.Error as exc:
        raise GovernanceError(f"The new records could not be prepared for the OneID model: {_first_line(exc)}") from exc
    if records.num_rows < 2:
        return lambda: empty
    scoring = saved | {"blocking_rules_to_generate_predictions": [
        {"blocking_rule": f"({rule}) AND (l.rescore OR r.rescore)", "sql_dialect": "duckdb"} for rule in rules]}

    def score() -> Prediction:
        try:
            pairs = (engine or score_duckdb)(records, scoring, threshold, tf_tables)
        except GovernanceError:
            raise
        except Exception as exc:
            raise GovernanceError(f"The OneID model could not score the new records: {type(exc).__name__}: "
                                  f"{_first_line(exc)}") from exc
        return Prediction(pairs, model_json, time.perf_counter() - started)
    return score


MIN_LABELS = 20  # approved pairs needed before m is estimated from the stewards' labels


# A scoring engine: (the model's input records, the model as a settings dict, the lowest match
# probability kept, term-frequency tables computed elsewhere or None) -> the scored pairs (PAIR_COLUMNS,
# then the gamma_* and mw_* columns). score_duckdb here; governance.oneid.spark.score on Spark.
Engine = Callable[[pa.Table, dict, float, "dict[str, pa.Table] | None"], pa.Table]


def pairs_sql(table: str, columns: list[str]) -> str:
    """The scored pairs in the engine-neutral shape, from Splink's predictions `table` with `columns`:
    each pair once (smaller record id left), its probability and weight, a mobile of the pair, and
    the comparison levels and weights."""
    extra = [c for c in columns if c.startswith("mw_") or c.startswith("gamma_")]
    return (f"SELECT least(unique_id_l, unique_id_r) AS rec_l, greatest(unique_id_l, unique_id_r) AS rec_r, "
            f"match_probability, match_weight, coalesce(mobile_l, mobile_r) AS mobile"
            f"{''.join(', ' + c for c in extra)} FROM {table}")


# Splink's settings validation only logs warnings (columns missing from the input), which ERROR hides;
# it costs 0.1 s per linker. A saved model's own checks are _saved_model's.
VALIDATE_SETTINGS = False


def linker_for(frame, model: dict) -> Linker:
    """A linker over a registered frame with a saved model; its prior is clamped (P_EDGE)."""
    try:
        linker = Linker(frame, model, log_level=logging.ERROR, validate_settings=VALIDATE_SETTINGS)
    except Exception as exc:
        raise GovernanceError(f"The saved OneID model cannot be used: {_first_line(exc)}") from exc
    _set_prior(linker, _prior(linker))  # a loaded model's prior of 0 or 1 is clamped too
    return linker


def score_duckdb(records: pa.Table, model: dict, threshold: float,
                 tf_tables: dict[str, pa.Table] | None = None) -> pa.Table:
    """Score the blocked pairs of `records` at or above `threshold` with `model` on an in-memory
    DuckDB (Splink's scratch tables stay apart from the store)."""
    con = duckdb.connect()
    try:
        db_api = DuckDBAPI(connection=con)
        linker = linker_for(db_api.register(records), model)
        for column, table in (tf_tables or {}).items():
            linker.table_management.register_term_frequency_lookup(db_api.register(table), column)
        return _scored(con, linker, threshold)
    finally:
        con.close()


def predict(db: Database, threshold: float, model_json: str | None = None, u_max_pairs: float = U_MAX_PAIRS,
            seed: int = 42, labels: list[tuple[int, int]] | None = None, engine: Engine | None = None,
            records: pa.Table | None = None) -> Prediction:
    """Train (or load) the model and score the blocked pairs at or above `threshold`, on `engine`
    (default DuckDB; training always runs on DuckDB), of the store's records or of `records` (its
    input_table, already read). When training and at least MIN_LABELS approved pairs exist, m is
    estimated from them after EM. Fails with one GovernanceError, never with Splink's own exceptions."""
    if not 0 < threshold <= 1:  # Splink takes the threshold's match weight
        raise GovernanceError(f"The review band start must be a probability between 0 and 1 (above 0), not {threshold}.")
    saved_model = _saved_model(model_json) if model_json else None
    data = records if records is not None else _input(db)
    if data.num_rows < 2:
        return Prediction(pa.table({"rec_l": pa.array([], pa.int64()), "rec_r": pa.array([], pa.int64()),
                                    "match_probability": pa.array([], pa.float64()),
                                    "match_weight": pa.array([], pa.float64())}), model_json or "{}")
    try:
        if saved_model is None and engine is None:
            saved_model, pairs = train_and_score(data, threshold, u_max_pairs, seed, labels)
        else:
            saved_model = saved_model or train(data, u_max_pairs, seed, labels)
            pairs = (engine or score_duckdb)(data, saved_model, threshold, None)
        keys = data.select(["unique_id", *key_columns(saved_model)])
        return Prediction(pairs, json.dumps(saved_model, ensure_ascii=False), keys=keys)
    except GovernanceError:
        raise
    except Exception as exc:  # whatever Splink, DuckDB or Spark raise on records they cannot model
        raise GovernanceError(f"The OneID model could not be trained or scored on these records: "
                              f"{type(exc).__name__}: {_first_line(exc)}") from exc


def _changed_input(cur: duckdb.DuckDBPyConnection, model: dict, rules: list[str], tf: list[str],
                   keys: str | None) -> tuple[pa.Table, dict[str, pa.Table]]:
    """The model's input for the records of `_rescore` and their candidates (with a `rescore` flag),
    and the term-frequency tables of every record for the values among them."""
    if keys is None:
        keys = "_keys"
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _keys AS SELECT unique_id AS rec_id, {', '.join(key_columns(model))} "
                    f"FROM ({_input_body()})")
    # the records scored again, keyed, apart first: each rule's join then builds on them (a third faster at 1M)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _rescore_keys AS SELECT * FROM {keys} WHERE rec_id IN (SELECT rid FROM {RESCORE})")
    candidates = " UNION ".join(f"SELECT r.rec_id FROM _rescore_keys l JOIN {keys} r ON ({rule})" for rule in rules)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _scope AS SELECT rid FROM {RESCORE} UNION {candidates}")
    records = relation(cur, input_sql(rows_of(cur, "_scope", "_scope_rows"))).to_arrow_table()
    rescored = relation(cur, f"SELECT rid FROM {RESCORE}").to_arrow_table()["rid"]
    records = records.append_column("rescore", pa.compute.is_in(records["unique_id"], rescored))
    tf_tables = {}
    if tf:  # the values in play, taken apart once; every column's total in one read
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _scope_keys AS SELECT {', '.join(tf)} FROM {keys} "
                    "WHERE rec_id IN (SELECT rid FROM _scope)")
        totals = one(cur, f"SELECT {', '.join(f'count({c})' for c in tf)} FROM {keys}")
        tf_tables = {c: relation(cur, f"SELECT {c}, count(*)::DOUBLE / {int(total)} AS tf_{c} FROM {keys} WHERE {c} IN "
                                      f"(SELECT {c} FROM _scope_keys) GROUP BY {c}").to_arrow_table()
                     for c, total in zip(tf, totals, strict=True)}
    for table in ("_keys", "_rescore_keys", "_scope", "_scope_rows", "_scope_keys"):
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    return records, tf_tables


@contextmanager
def _trained(records: pa.Table, u_max_pairs: float, seed: int,
             labels: list[tuple[int, int]] | None) -> Iterator[tuple[duckdb.DuckDBPyConnection, Linker]]:
    """A linker trained on `records` on an in-memory DuckDB, with its connection."""
    con = duckdb.connect()
    try:
        db_api = DuckDBAPI(connection=con)
        frame = db_api.register(records)
        linker = Linker(frame, settings(), log_level=logging.ERROR, validate_settings=VALIDATE_SETTINGS)
        _train(linker, u_max_pairs, seed)
        if labels and len(labels) >= MIN_LABELS:
            name = frame.templated_name
            linker.training.estimate_m_from_pairwise_labels(db_api.register(pa.table({
                "source_dataset_l": [name] * len(labels), "unique_id_l": [a for a, _ in labels],
                "source_dataset_r": [name] * len(labels), "unique_id_r": [b for _, b in labels]})))
        _set_prior(linker, _prior(linker))
        yield con, linker
    finally:
        con.close()


def train(records: pa.Table, u_max_pairs: float = U_MAX_PAIRS, seed: int = 42,
          labels: list[tuple[int, int]] | None = None) -> dict:
    """Train a model on `records` (DuckDB, in memory); returns it as a settings dict."""
    with _trained(records, u_max_pairs, seed, labels) as (_con, linker):
        return linker.misc.save_model_to_json()


def train_and_score(records: pa.Table, threshold: float, u_max_pairs: float = U_MAX_PAIRS, seed: int = 42,
                    labels: list[tuple[int, int]] | None = None) -> tuple[dict, pa.Table]:
    """train, then the pairs at or above `threshold` as score_duckdb gives them with that model,
    scored on the trained linker: the records and term frequencies are prepared once."""
    with _trained(records, u_max_pairs, seed, labels) as (con, linker):
        return linker.misc.save_model_to_json(), _scored(con, linker, threshold)


def _scored(con: duckdb.DuckDBPyConnection, linker: Linker, threshold: float) -> pa.Table:
    """The pairs `linker` scores at or above `threshold`, in the shape of pairs_sql."""
    predictions = linker.inference.predict(threshold_match_probability=min(threshold, 1 - P_EDGE))
    return con.sql(pairs_sql(predictions.physical_name, predictions.as_duckdbpyrelation().columns)).to_arrow_table()


def _saved_model(model_json: str) -> dict:
    try:
        saved = json.loads(model_json)
    except ValueError as exc:
        raise GovernanceError(f"The saved OneID model is not valid JSON: {exc}") from None
    if not isinstance(saved, dict):
        raise GovernanceError("The saved OneID model must be a JSON object (a Splink settings dictionary).")
    key_columns(saved)  # its blocking rules and term-frequency columns are checked
    return saved


def _first_line(exc: BaseException) -> str:
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), "no message")


def _prior(linker: Linker) -> float:
    return linker._settings_obj._probability_two_random_records_match  # no public accessor once built


def _set_prior(linker: Linker, prior: float) -> None:
    """Set the prior within [P_EDGE, 1 - P_EDGE] (PRIOR if it is not a number): predict takes its
    match weight, log2(p / (1 - p)), which fails at 0 and is infinite at 1."""
    prior = PRIOR if prior is None or math.isnan(prior) else min(max(prior, P_EDGE), 1 - P_EDGE)
    linker._settings_obj._probability_two_random_records_match = prior


def _train(linker: Linker, u_max_pairs: float, seed: int) -> None:
    try:
        linker.training.estimate_probability_two_random_records_match(
            [block_on("id_card"), block_on("mobile", "name_key"), block_on("given", "family", "dob")], recall=0.6)
    except Exception:  # the rules found too few pairs to estimate the prior: keep the default
        pass
    if not 0 < _prior(linker) < 1:  # no pair at all (Splink then sets 0), or every pair: keep the default
        _set_prior(linker, PRIOR)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    # Chinese identifiers first, then records named in separate family / given fields; a session
    # whose block is empty on these records fails and changes nothing
    for rule in (block_on("mobile"), block_on("name_key", "dob"), SPLIT_BLOCKING[0], block_on("given", "family")):
        before = linker._settings_obj.core_model_settings.copy()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception:  # too few pairs in this block to train on: the other sessions still run
            # Splink 5 drops the block's comparisons and rescales the prior before it finds the block empty
            linker._settings_obj.core_model_settings = before
