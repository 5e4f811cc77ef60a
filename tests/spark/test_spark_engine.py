"""Spark as a second scoring engine: the same pairs, levels and weights as DuckDB with the same model."""
from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import sqlglot
from sqlglot import exp

from governance.oneid import model
from governance.oneid import spark as engine
from governance.store.errors import GovernanceError
from helpers import ROOT

pytestmark = pytest.mark.spark

LOWEST = 1e-300  # keep every blocked pair
COVERED = ("name", "mobile", "email", "dob", "address", "age")  # every level of these must occur

# Arguments each SPARK_FUNCTIONS entry is checked on against DuckDB (hamming: strings of one length)
CASES = {
    "jaro_winkler_similarity": [("martha", "marhta"), ("dwayne", "duane"), ("dixon", "dicksonx"), ("abc", "abc"),
                                ("", ""), ("a", ""), ("", "a"), ("a", "a"), ("a", "b"), ("ab", "ba"), ("zhangwei", "zhangwie"),
                                ("张伟明", "张伟亮"), ("zhangmengping", "zhangxiuying"), ("lijianhua", "limingxuan"),
                                ("abcdefghij", "acbdefghijxy"),  # 0.92 exactly: DuckDB rounds once (a fused multiply-add)
                                ("ecdaebbee c", "ee"), ("x" * 70 + "abc", "x" * 68 + "bca"), ("18 banksia road", "yuziqian"),
                                (None, "x"), ("x", None), (None, None)],
    "damerau_levenshtein": [("ca", "abc"), ("abcd", "abdc"), ("13912345678", "13912345687"), ("1990-05-12", "1990-06-12"),
                            ("", ""), ("a", ""), ("张伟明", "张伟亮"), ("abc", "abc"), (None, "x"), ("x", None)],
    "hamming": [("张伟明", "张伟亮"), ("张伟明", "张伟明"), ("abcd", "abdc"), ("abc", "xyz"), ("𠀀伟明", "𠀀伟亮"),
                (None, "abc"), ("abc", None)],
}


def _run_spark(session, sql: str, table: pa.Table) -> pa.Table:
    session.createDataFrame(table.to_pylist(), schema=", ".join(f"{c} string" for c in table.column_names)
                            ).createOrReplaceTempView("t")
    return session.sql(sql).toArrow()


def test_every_translated_function_gives_duckdbs_value(spark_session):
    assert CASES.keys() == engine.SPARK_FUNCTIONS.keys()
    for function, cases in CASES.items():
        args = pa.table({"i": [str(i) for i in range(len(cases))], "a": [a for a, _ in cases], "b": [b for _, b in cases]})
        condition = f"{function}(a, b)"
        expected = duckdb.sql(f"SELECT i, {condition} AS v FROM args ORDER BY i").fetchall()
        got = _run_spark(spark_session, f"SELECT i, {engine.to_spark_sql(condition)} AS v FROM t ORDER BY i", args)
        assert list(zip(got["i"].to_pylist(), got["v"].to_pylist())) == expected, function


def _conditions(saved: dict) -> dict[str, str]:
    out = {f"{c['output_column_name']}_{i}": level["sql_condition"] for c in saved["comparisons"]
           for i, level in enumerate(c["comparison_levels"]) if level["sql_condition"] != "ELSE"}
    return out | {f"rule_{i}": r["blocking_rule"] for i, r in enumerate(saved["blocking_rules_to_generate_predictions"])}


def test_every_condition_of_the_model_evaluates_the_same_on_spark(trained, spark_session):
    """Each comparison level and blocking rule of the trained model, alone (not only where Splink's
    CASE reaches it), on every pair of the fixture's records, in a CASE WHEN as Splink evaluates it
    (DuckDB evaluates hamming on strings of different lengths, and fails, outside one)."""
    conditions = _conditions(trained.model)
    side = {s: ", ".join(f"{c} AS {c}_{s}" for c in trained.records.column_names) for s in "lr"}

    def query(translate) -> str:
        selected = ", ".join(f"CASE WHEN {translate(sql)} THEN 1 ELSE 0 END AS {name}" for name, sql in conditions.items())
        return (f"SELECT l.unique_id AS lid, r.unique_id AS rid, {selected} FROM (SELECT *, {side['l']} FROM rec) l "
                f"JOIN (SELECT *, {side['r']} FROM rec) r ON l.unique_id < r.unique_id ORDER BY lid, rid")

    rec = trained.records  # noqa: F841  (read by DuckDB's replacement scan)
    expected = duckdb.sql(query(lambda sql: sql)).to_arrow_table()
    spark_session.createDataFrame(trained.records).createOrReplaceTempView("rec")
    got = spark_session.sql(query(engine.to_spark_sql)).toArrow()
    assert got.num_rows == expected.num_rows > 30_000
    for name in conditions:
        assert got[name].to_pylist() == expected[name].to_pylist(), (name, conditions[name], engine.to_spark_sql(conditions[name]))
        calls = [n for n in sqlglot.parse_one(conditions[name], read="duckdb").walk()
                 if isinstance(n, exp.Func) and not isinstance(n, exp.Connector)]
        if calls:
            assert pc.max(expected[name]).as_py() == 1, name  # the fixture makes each function's condition true somewhere


def _assert_same_scores(duck: pa.Table, spark: pa.Table) -> None:
    assert spark.schema == duck.schema
    assert duck.num_rows > 0
    joined = duck.join(spark, ["rec_l", "rec_r"], right_suffix="_s")
    assert joined.num_rows == duck.num_rows == spark.num_rows  # the same set of pairs, each once
    for column in duck.column_names[2:]:
        a, b = joined[column], joined[column + "_s"]
        if pa.types.is_floating(a.type):
            assert pc.max(pc.abs(pc.subtract(a, b))).as_py() <= 1e-9, column
        else:
            assert a.to_pylist() == b.to_pylist(), column


def test_spark_scores_the_same_pairs_as_duckdb(trained, spark_options):
    duck = model.score_duckdb(trained.records, trained.model, LOWEST)
    spark = engine.score(trained.records, trained.model, LOWEST, options=spark_options)
    _assert_same_scores(duck, spark)
    for comparison in trained.model["comparisons"]:  # the translated SQL ran: every level occurs
        if comparison["output_column_name"] in COVERED:
            levels = set(pc.unique(spark[f"gamma_{comparison['output_column_name']}"]).to_pylist())
            assert levels == {-1, *range(len(comparison["comparison_levels"]) - 1)}, comparison["output_column_name"]
    assert not list(spark_options.scratch.iterdir())  # the scratch folder is left empty


def test_spark_uses_the_term_frequency_tables_given(trained, spark_options):
    records = trained.records
    tf_tables = {column: duckdb.from_arrow(records).filter(f"{column} IS NOT NULL").aggregate(
        f"{column}, 0.5 AS tf_{column}").to_arrow_table() for column in ("name_hz", "nickname")}
    duck = model.score_duckdb(records, trained.model, LOWEST, tf_tables)
    _assert_same_scores(duck, engine.score(records, trained.model, LOWEST, tf_tables, options=spark_options))
    own = model.score_duckdb(records, trained.model, LOWEST)  # term frequencies of the records themselves
    joined = duck.join(own, ["rec_l", "rec_r"], right_suffix="_own")
    changed = pc.not_equal(joined["mw_tf_adj_name"], joined["mw_tf_adj_name_own"])
    assert pc.sum(changed.cast(pa.int64())).as_py() > 0  # the tables given weigh, not the records' own frequencies


def test_a_spark_setting_that_is_not_key_value_is_one_line():
    assert engine.parse_conf(["spark.driver.memory=4g", " spark.x = a=b"]) == {"spark.driver.memory": "4g", "spark.x": "a=b"}
    for item in ("spark.driver.memory", "=4g", "spark driver=4g"):
        with pytest.raises(GovernanceError) as raised:
            engine.parse_conf([item])
        assert "key=value" in str(raised.value) and "\n" not in str(raised.value)


def test_without_pyspark_the_module_imports_and_score_is_one_line(tmp_path):
    script = ("import sys; sys.modules['pyspark'] = None\n"
              "import pyarrow as pa\n"
              "from governance.oneid import spark\n"
              "from governance.store.errors import GovernanceError\n"
              "try:\n"
              "    spark.score(pa.table({'unique_id': [1, 2]}), {}, 0.5, options=spark.SparkOptions())\n"
              "except GovernanceError as exc:\n"
              "    print(exc)\n")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == engine.NOT_INSTALLED + "\n"


@pytest.mark.parametrize("java", [None, 'openjdk version "11.0.2" 2019-01-15'])
def test_without_java_17_score_is_one_line(java, trained, spark_session, spark_options, tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    if java:
        (tmp_path / "java").write_text(f"#!/bin/sh\necho '{java}' >&2\n")
        (tmp_path / "java").chmod(0o755)
    other = engine.SparkOptions(master="local[1]", scratch=spark_options.scratch)  # another session: Spark must start
    with pytest.raises(GovernanceError, match="Spark needs Java 17 or later") as raised:
        engine.score(trained.records, trained.model, 0.5, options=other)
    assert "\n" not in str(raised.value) and ("Java 11" in str(raised.value)) == bool(java)
    assert engine.session(spark_options) is spark_session  # the running session was left alone


@pytest.mark.parametrize(("master", "cores"), [("local", 1), ("local[3]", 3), ("local[4, 2]", 4), ("spark://h:7077", None),
                                                ("yarn", None)])
def test_cores_come_from_a_local_master(master, cores):
    assert engine._cores(master) == cores


def test_scratch_left_by_killed_runs_is_swept_from_the_temp_and_the_given_folder(tmp_path, monkeypatch):
    """A run killed mid-way leaves its Parquet hand-offs (personal data) behind; the next run removes
    those older than a day, in the temp folder and in a `--spark-scratch` folder alike."""
    import tempfile
    import time

    temp, given = tmp_path / "tmp", tmp_path / "shared"
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    old = time.time() - engine.STALE_SCRATCH_SECONDS - 60
    folders = {name: parent / name for parent, names in ((temp, ("steward-spark-a", "steward-spark-b", "other")),
                                                          (given, ("oneid-a", "oneid-b", "mine")))
               for name in names}
    for name, folder in folders.items():
        (folder / "records.parquet").parent.mkdir(parents=True)
        (folder / "records.parquet").write_bytes(b"PAR1")
        if not name.endswith("b"):
            os.utime(folder, (old, old))
    engine.sweep_stale_scratch(given)
    assert sorted(p.name for p in (*temp.iterdir(), *given.iterdir())) == ["mine", "oneid-b", "other", "steward-spark-b"]
