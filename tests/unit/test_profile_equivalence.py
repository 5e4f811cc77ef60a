"""The faster profile stores exactly what the original SQL stored.

`reference_profile` below is the original implementation of `profile.run_profile` (window
functions for top values, patterns and uniqueness rules), kept as the oracle: verbatim but for the
fixed order in which the field scores are averaged (see `_reference_store_scores`). The test
profiles a generated multi-source store (ties in top values and patterns, duplicate and
unique-rule violations, a NULL-only mapped field, a second batch) with both and compares every
stored row of every profile table. `benchmarks/profile_statements.py` runs the same comparison
on a 1,000,000-record store. When a change to the profile's figures is intended, change the
oracle with it (or retire this file): it guards speed-ups, not the definitions.
"""
from __future__ import annotations

import json
import time

import duckdb
import pytest

from governance.access import audit
from governance.quality import profile, rules
from governance.standardize.normalizers import STATUSES
from governance.store.schema import FIELD_NAMES
from governance.store.util import utcnow

# ------------------------------------------------------------------ the original implementation


def _reference_compile_rule(rule: rules.Rule) -> tuple[str, str, list, bool]:
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
        value = rules._typed(f"s.{f}", kind)
        params = [v for v in (lo, hi) if v not in (None, "", "today")]
        return (f"{value} IS NOT NULL", f"({value} < {rules._bound(lo, kind)} OR {value} > {rules._bound(hi, kind)})",
                params, False)
    if t == "unique":
        return f"s.{f} IS NOT NULL", "s._dup_" + rule.rule_id.replace("-", "_").replace(".", "_") + " > 1", [], True
    if t == "unique_together":
        cond = " AND ".join(f"s.{x} IS NOT NULL" for x in rule.fields)
        return cond, "s._dup_" + rule.rule_id.replace("-", "_").replace(".", "_") + " > 1", [], True
    if t == "consistency":
        check = rule.params["check"]
        return f"s.{check} IS NOT NULL", f"s.{check} = 'conflict'", [], False
    if t == "custom_sql":
        return "TRUE", f"NOT coalesce(({rule.params['sql']}), TRUE)", [], False
    raise rules.RuleError(t)


def reference_evaluate(cur: duckdb.DuckDBPyConnection, rule_list: list[rules.Rule] | None = None) -> list[rules.RuleResult]:
    rule_list = rules.current_rules(cur, enabled_only=True) if rule_list is None else rule_list
    if not rule_list:
        return []
    windows, aggregates, params = [], [], []
    for i, rule in enumerate(rule_list):
        applicable, failed, p, needs_window = _reference_compile_rule(rule)
        if needs_window:
            cols = ", ".join(f"{x}" for x in rule.fields)
            windows.append(f"count(*) OVER (PARTITION BY source, {cols}) AS _dup_"
                           + rule.rule_id.replace("-", "_").replace(".", "_"))
        aggregates.append(f"count(*) FILTER (WHERE {applicable}) AS a{i}")
        aggregates.append(f"count(*) FILTER (WHERE ({applicable}) AND ({failed})) AS f{i}")
        params += p
    base = "std_records" if not windows else f"(SELECT *, {', '.join(windows)} FROM std_records)"
    sql = f"SELECT source, {', '.join(aggregates)} FROM {base} s GROUP BY source ORDER BY source"
    rows = cur.execute(sql, params).fetchall()
    results = []
    for row in rows:
        source = row[0]
        for i, rule in enumerate(rule_list):
            results.append(rules.RuleResult(rule, source, row[1 + 2 * i], row[2 + 2 * i]))
    return results


def _reference_top_n(cur, table: str, expressions: dict[str, str], key: str) -> list[tuple]:
    parts = [f"SELECT source, '{f}' AS field, {expr} AS v, count(*) AS n FROM {table} WHERE {f} IS NOT NULL "
             f"GROUP BY source, v QUALIFY row_number() OVER (PARTITION BY source ORDER BY count(*) DESC, v) <= {profile.TOP_N}"
             for f, expr in expressions.items()]
    return cur.execute(f"SELECT source, field, list({{'{key}': v, 'n': n}} ORDER BY n DESC, v) FROM ("
                       + profile._union(parts) + ") GROUP BY ALL").fetchall()


def reference_profile(db, actor: str) -> int:
    """The original `run_profile`; returns the run id."""
    _union = profile._union
    started = time.perf_counter()
    with db.cursor() as cur:
        mapped = profile._mapped_fields(cur)
        records = cur.execute("SELECT count(*) FROM std_records").fetchone()[0]
    with db.transaction() as cur:
        run_id = cur.execute("SELECT nextval('profile_run_seq')").fetchone()[0]
        cur.execute("INSERT INTO profile_status " + _union([
            f"SELECT {run_id}, source, batch_id, '{f}', {f}_status, {f}_reason, count(*) FROM std_records GROUP BY ALL"
            for f in FIELD_NAMES]))
        values = cur.execute(_union([
            f"SELECT source, '{f}' AS field, count(DISTINCT {f}), min({f}), max({f}) FROM std_records GROUP BY source"
            for f in FIELD_NAMES])).fetchall()
        tops = _reference_top_n(cur, "std_records", {f: f for f in FIELD_NAMES}, "value")
        pattern = ("regexp_replace(regexp_replace(regexp_replace({f}, '[A-Za-z]', 'A', 'g'), '[0-9]', 'N', 'g'), "
                   "'[\\x{{4e00}}-\\x{{9fff}}]', '汉', 'g')")
        patterns = _reference_top_n(cur, "mapped_records", {f: pattern.format(f=f) for f in profile.PATTERN_FIELDS},
                                    "pattern")
        clean = cur.execute(
            "SELECT s.source, " + ", ".join(f"count(*) FILTER (WHERE m.{f} = s.{f})" for f in FIELD_NAMES)
            + " FROM std_records s JOIN mapped_records m USING (batch_id, row_number) GROUP BY s.source").fetchall()
        row_hash = "hash(" + ", ".join(f"s.{f}" for f in FIELD_NAMES) + ")"
        dup_rows = dict(cur.execute(
            f"SELECT source, sum(n - 1) FROM (SELECT source, {row_hash} h, count(*) n FROM std_records s "
            "GROUP BY ALL HAVING count(*) > 1) GROUP BY source").fetchall())
        cur.execute("INSERT INTO profile_keys " + _union([
            f"SELECT {run_id}, '{f}', count(*), coalesce(sum(n), 0) FROM (SELECT {f}, count(*) n FROM std_records "
            f"WHERE {f}_status IN ('valid', 'valid_with_warning') GROUP BY {f} HAVING count(DISTINCT source) > 1)"
            for f in profile.KEY_FIELDS]))
        # A rule on fields a source does not map is not applicable there (0 of 0).
        rule_results = rules.only_mapped(reference_evaluate(cur), mapped)
        for r in rule_results:
            cur.execute("INSERT INTO rule_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [run_id, r.source, r.rule.rule_id, r.rule.version, r.rule.name, r.rule.severity,
                         r.rule.dimension, ",".join(r.rule.fields or [c for c in r.rule.params.values()
                                                                    if isinstance(c, str)]),
                         r.applicable, r.failed, r.pass_rate, r.rule.mostly, r.passed])
        _reference_store_scores(cur, run_id, mapped, values, tops, patterns, clean, dup_rows, rule_results)
        score = cur.execute("SELECT sum(score * rows) / nullif(sum(rows), 0) FROM profile_sources WHERE run_id = ? "
                            "AND score IS NOT NULL", [run_id]).fetchone()[0]
        seconds = time.perf_counter() - started
        cur.execute("INSERT INTO profile_runs VALUES (?, ?, ?, ?, ?, ?)",
                    [run_id, actor, utcnow(), seconds, records, None if score is None else round(score, 2)])
        audit.record(cur, actor, "profile.run", "profile_run", run_id, {"records": records, "score": score})
    return run_id


def _reference_store_scores(cur, run_id, mapped, values, tops, patterns, clean, dup_rows, rule_results) -> None:
    # The one change to the original: the fixed order of commit cbc0aa2 (unordered, the float means
    # behind source and batch scores could differ by 0.01 between two runs of this very code).
    status = cur.execute("SELECT source, batch_id, field, status, sum(n) FROM profile_status WHERE run_id = ? "
                         "GROUP BY ALL ORDER BY source, batch_id, field, status", [run_id]).fetchall()
    counts: dict[tuple, dict[str, int]] = {}
    for source, batch_id, f, st, n in status:
        for key in ((source, None, f), (source, batch_id, f)):
            bucket = counts.setdefault(key, dict.fromkeys(STATUSES, 0))
            bucket[st] = bucket.get(st, 0) + int(n)
    value_stats = {(s, f): (d, lo, hi) for s, f, d, lo, hi in values}
    top_map = {(s, f): v for s, f, v in tops}
    pattern_map = {(s, f): v for s, f, v in patterns}
    clean_map = {row[0]: dict(zip(FIELD_NAMES, row[1:])) for row in clean}
    rule_dims = profile._rule_dims(rule_results)

    def dims(source: str, f: str, c: dict[str, int]) -> dict[str, float | None]:
        total = sum(c.values())
        present = total - c["missing"] - c["placeholder"]
        d = {"completeness": present / total if total else None,
             "validity": (c["valid"] + c["valid_with_warning"]) / present if present else None}
        for dim in ("uniqueness", "consistency"):
            rates = rule_dims.get((source, f, dim))
            d[dim] = min(rates) if rates else None
        return d

    batch_scores: dict[tuple[str, int], list[float]] = {}
    source_scores: dict[str, list[float]] = {}
    for (source, batch_id, f), c in counts.items():
        if f not in mapped.get(source, set()):
            continue
        d = dims(source, f, c)
        score = profile._score(d)
        if batch_id is not None:
            if score is not None:
                batch_scores.setdefault((source, batch_id), []).append(score)
            continue
        if score is not None:
            source_scores.setdefault(source, []).append(score)
        total = sum(c.values())
        distinct, lo, hi = value_stats.get((source, f), (0, None, None))
        present = total - c["missing"] - c["placeholder"]
        cur.execute("INSERT INTO profile_fields VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            run_id, source, f, total, c["missing"] + c["placeholder"], c["valid"] + c["valid_with_warning"],
            c["invalid"], c["masked"], distinct, distinct / present if present else None, lo, hi,
            clean_map.get(source, {}).get(f), d["completeness"], d["validity"], d["uniqueness"], d["consistency"],
            score, json.dumps(top_map.get((source, f)) or [], ensure_ascii=False),
            json.dumps(pattern_map.get((source, f)) or [], ensure_ascii=False)])
    batches = cur.execute("SELECT source, batch_id, uploaded_at, row_count FROM batches ORDER BY source, batch_id").fetchall()
    previous: dict[str, float] = {}
    for source, batch_id, uploaded_at, rows in batches:
        scores = batch_scores.get((source, batch_id))
        score = round(sum(scores) / len(scores), 2) if scores else None
        dropped = score is not None and source in previous and previous[source] - score > profile.DROP_BOUND
        cur.execute("INSERT INTO profile_batches VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [run_id, source, batch_id, uploaded_at, rows, score, dropped])
        if score is not None:
            previous[source] = score
    for source, rows in cur.execute("SELECT source, count(*) FROM std_records GROUP BY source").fetchall():
        scores = source_scores.get(source)
        flagged = cur.execute("SELECT bool_or(dropped) FROM profile_batches WHERE run_id = ? AND source = ?",
                              [run_id, source]).fetchone()[0]
        cur.execute("INSERT INTO profile_sources VALUES (?, ?, ?, ?, ?, ?)",
                    [run_id, source, rows, round(sum(scores) / len(scores), 2) if scores else None,
                     int(dup_rows.get(source) or 0), bool(flagged)])


# ------------------------------------------------------------------ comparing stored runs

COMPARED = ("profile_fields", "profile_status", "profile_sources", "profile_keys", "rule_results", "profile_batches")


def stored_rows(cur: duckdb.DuckDBPyConnection, run_id: int) -> dict[str, list[tuple]]:
    """Every stored row of a run, per table, without the run id, in a canonical order."""
    out = {}
    for table in COMPARED:
        out[table] = sorted(cur.execute(f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ?", [run_id]).fetchall(),
                            key=repr)
    return out


def differences(old: dict[str, list[tuple]], new: dict[str, list[tuple]]) -> dict[str, tuple[list, list]]:
    """Per table: (rows only in old, rows only in new); empty when every row is identical."""
    diff = {}
    for table in COMPARED:
        a, b = old[table], new[table]
        if a != b:
            diff[table] = ([r for r in a if r not in b], [r for r in b if r not in a])
    return diff


# ------------------------------------------------------------------ the test

TIES = ("手机,姓名,邮箱,生日\n"
        + "".join(f"{m},{n},{e},{b}\n" for m, n, e, b in [
            # mobile counts 3, 2, 2, 2, 2, 2, 1: the fifth place is a tie that only the value breaks
            *[("13900000007", "王芳", "a@qq.com", "1990-01-01")] * 3,
            *[(f"1390000000{i}", "张伟", f"z{i}@qq.com", "1990/1/2") for i in (5, 1, 4, 2, 6) for _ in range(2)],
            ("13900000003", "Zhang Wei", "", "19900103"),
            ("13912345678", "李娜", "ln@163.com", "1990年1月4日"),  # also in another source: a shared key
            ("", "", "", ""),
        ]))


@pytest.fixture
def store(db, tmp_path):
    from governance import pipeline, synth
    from governance.sources import ingest
    from helpers import load_generated

    load_generated(db, tmp_path / "first", 120, seed=11, resolve=False)
    second = synth.generate_workspace(40, seed=12)  # a second batch for every channel
    for spec, path in zip(second.files, synth.write_workspace(second, tmp_path / "second")):
        ingest.ingest_file(db, path, actor="t", source=spec.source, channel=spec.channel)
    bench = tmp_path / "bench.csv"
    synth.write_benchmark_csv(bench, 600)  # ~20 % duplicate rows: unique rules fail
    ingest.ingest_file(db, bench, actor="t", source="crm_bulk", channel="crm")
    ties = tmp_path / "ties.csv"
    ties.write_text(TIES, encoding="utf-8")
    ingest.ingest_file(db, ties, actor="t", source="ties")
    other = tmp_path / "other.csv"
    other.write_text("手机,姓名\n13912345678,李娜\n13900000007,王芳\n", encoding="utf-8")
    ingest.ingest_file(db, other, actor="t", source="shop")
    pipeline.standardize(db, "t")
    for rule in (rules.Rule("name_birth.unique", "Name + birth date unique", "unique_together", ["name", "birth_date"],
                            dimension="uniqueness"),
                 rules.Rule("email.unique", "E-mail unique", "unique", ["email"], dimension="uniqueness", mostly=0.5),
                 rules.Rule("card.regex", "Card format", "regex", ["member_card"], {"pattern": "[A-Z][0-9]+"}),
                 rules.Rule("gender.set", "Gender set", "allowed_values", ["gender"], {"values": ["1", "2"]}),
                 rules.Rule("short.name", "Short name", "custom_sql", [], {"sql": "length(s.name) <= 3"})):
        rules.save_rule(db, "t", rule)
    return db


def test_profile_stores_exactly_what_the_original_implementation_stored(store):
    old_run = reference_profile(store, "t")
    new_run = profile.run_profile(store, "t").run_id
    with store.cursor() as cur:
        old, new = stored_rows(cur, old_run), stored_rows(cur, new_run)
        # The data has what the comparison must cover: several sources and batches, ties at the
        # fifth top value, failed uniqueness rules (single field and together), shared keys.
        assert cur.execute("SELECT count(DISTINCT source), count(*) FROM batches").fetchone() >= (7, 12)
        ties = cur.execute(
            "SELECT count(*) FROM (SELECT source, mobile, count(*) n FROM std_records WHERE source = 'ties' "
            "AND mobile IS NOT NULL GROUP BY ALL) WHERE n = 2").fetchone()[0]
        assert ties == 5
    assert sum(len(rows) for rows in old.values()) > 500
    fields = {(r[0], r[1]): r for r in old["profile_fields"]}
    top = json.loads(fields[("ties", "mobile")][17])
    assert [t["n"] for t in top] == [3, 2, 2, 2, 2] and [t["value"] for t in top][1:] == [
        "13900000001", "13900000002", "13900000004", "13900000005"]
    patterns = json.loads(fields[("ties", "birth_date")][18])
    assert patterns[:2] == [{"pattern": "NNNN/N/N", "n": 10}, {"pattern": "NNNN-NN-NN", "n": 3}]
    assert {p["pattern"] for p in patterns[2:]} == {"NNNNNNNN", "NNNN汉N汉N汉"}
    by_rule = {(r[0], r[1]): r for r in old["rule_results"]}
    assert by_rule[("crm_bulk", "id_card.unique")][8] > 0 and by_rule[("crm_bulk", "mobile.unique")][8] > 0
    assert by_rule[("ties", "mobile.unique")][8] == 13
    assert any(by_rule[(s, "name_birth.unique")][8] > 0 for s, _ in by_rule)
    assert any(r[1] > 0 for r in old["profile_keys"])
    assert any(r[4] > 0 for r in old["profile_sources"])  # duplicate rows
    assert differences(old, new) == {}


def test_the_comparison_sees_a_changed_figure(store):
    """The oracle comparison can fail: one changed tie order is a difference."""
    run = profile.run_profile(store, "t").run_id
    with store.cursor() as cur:
        before = stored_rows(cur, run)
        top = json.loads(cur.execute("SELECT top_values FROM profile_fields WHERE run_id = ? AND source = 'ties' "
                                     "AND field = 'mobile'", [run]).fetchone()[0])
        top[1], top[2] = top[2], top[1]
        cur.execute("UPDATE profile_fields SET top_values = ? WHERE run_id = ? AND source = 'ties' AND field = 'mobile'",
                    [json.dumps(top, ensure_ascii=False), run])
        after = stored_rows(cur, run)
    assert set(differences(before, after)) == {"profile_fields"}


REGEXP_PATTERN = ("regexp_replace(regexp_replace(regexp_replace(v, '[A-Za-z]', 'A', 'g'), '[0-9]', 'N', 'g'), "
                  "'[\\x{4e00}-\\x{9fff}]', '汉', 'g')")


def test_value_patterns_equal_the_regular_expressions(db):
    samples = ["", "a", "Z9", "+86 139-1234-5678", "１３９", "ｱ", "É", "ß", "Ω", "\u4dff\u4e00\u9fff\ua000", "欧阳娜娜",
               "張偉", "𠀀𪚥", "😀x", "138****1234", "M-0001/x", "a\u00a0b", "\u3000", "x" * 300 + "汉" * 100,
               "2026-11-01 12:00:00", "zw@qq.com", "\u4e00" * 7, "N/A", "null", "测试", "\t\n"]
    rows = [chr(c) for c in range(0x20, 0x250)] + [chr(c) for c in range(0x4DF0, 0x4E10)] + [
        chr(c) for c in range(0x9FF0, 0xA010)] + samples * 200  # more than one vector of 2048 rows
    with db.transaction() as cur:
        cur.execute("CREATE TEMP TABLE p (i INTEGER, v VARCHAR)")
        cur.executemany("INSERT INTO p VALUES (?, ?)", [[i, v] for i, v in enumerate(rows + [None])])
        with profile.pattern_function(cur) as fn:
            got = cur.execute(f"SELECT i, {fn}(v), {REGEXP_PATTERN} FROM p ORDER BY i").fetchall()
    assert len(got) == len(rows) + 1
    assert [r for r in got if r[1] != r[2] and not (r[1] is None and r[2] is None)] == []
    assert got[-1][1:] == (None, None)


def test_the_pattern_function_lives_only_inside_its_block(store):
    profile.run_profile(store, "t")
    with store.cursor() as cur, pytest.raises(duckdb.CatalogException):
        cur.execute(f"SELECT {profile.PATTERN_FUNCTION}('x')")
    with pytest.raises(RuntimeError), store.transaction() as cur:  # a failed transaction rolls it back
        with profile.pattern_function(cur):
            raise RuntimeError("stop")
    profile.run_profile(store, "t")


def test_an_empty_store_profiles_alike(db):
    old_run = reference_profile(db, "t")
    new_run = profile.run_profile(db, "t").run_id
    with db.cursor() as cur:
        old, new = stored_rows(cur, old_run), stored_rows(cur, new_run)
    assert len(old["rule_results"]) == 0 and len(old["profile_keys"]) == len(profile.KEY_FIELDS)
    assert differences(old, new) == {}
