"""Apache Spark as a second scoring engine for the OneID model: Splink 5's SparkAPI scores the blocked
pairs with the same model dictionary as `model.score_duckdb`, and returns the same pairs, columns and
types (`functools.partial(score, options=...)` is a `model.Engine`). Training stays on DuckDB.

The records (and any term-frequency tables) go out as Parquet into a scratch folder, Spark reads
them, Splink scores them, Spark SQL projects the predictions with `model.pairs_sql` into Parquet, and
DuckDB reads that back. On a cluster the scratch folder must be mounted at the same path on the
driver and on every executor.

PySpark is optional (requirements-spark.txt) and needs Java 17 or later; without either, `score`
fails with one GovernanceError, and importing this module works. One SparkSession runs per process,
started on first use with the options' master and settings (started again when they change; `stop`
ends it); one scoring runs at a time.

Splink's advice for Spark, as followed here: lineage is broken with Parquet checkpoints
(break_lineage_method="parquet", under the scratch folder); spark.default.parallelism and
spark.sql.shuffle.partitions are five times the cores; after blocking, Splink repartitions the
blocked pairs, comparison vectors and predictions to `num_partitions_on_repartition` (half the
shuffle partitions, Splink's own default); the similarity jar is on the classpath. Splink 5 still
accepts `repartition_after_blocking` but never reads it: the repartitioning above always happens.

Skewed blocks: Splink 5 removed salting. A blocking rule's `salting_partitions` is dropped with a
DeprecationWarning (splink/internals/settings_creator.py) and nothing else in 5.0 splits a block;
`predict(num_chunks_left=, num_chunks_right=)` bounds the memory of one step, not the size of one
block. What splits a skewed join on Spark is adaptive execution (spark.sql.adaptive.enabled and
spark.sql.adaptive.skewJoin.enabled, on by default in Spark 4), so both are left on. The model keeps
its blocks small itself: nicknames and other IDs held by many records do not block.

The model's SQL is DuckDB's. Splink transpiles blocking rules from their recorded dialect but passes
comparison levels on as written, and neither the jar nor sqlglot gives DuckDB's result for every
function. So each SQL condition of the model is transpiled here (sqlglot, DuckDB to Spark) after the
functions in SPARK_FUNCTIONS are rewritten, each to an expression with DuckDB's value, NULL included.
"""
from __future__ import annotations

import atexit
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
import warnings
from copy import deepcopy
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from governance.oneid.model import P_EDGE, linker_for, pairs_sql
from governance.store.errors import GovernanceError
from governance.store.tabular import remove_old_folders

NOT_INSTALLED = "Spark is not installed: pip install -r requirements-spark.txt"
PARALLELISM_PER_CORE = 5  # Splink: spark.default.parallelism about five times the cores

def _bind(value: str, name: str, body: str) -> str:
    """`body` with `name` standing for `value` (evaluated once): Spark SQL has no LET."""
    return f"transform(array({value}), {name} -> {body})[0]"


def _agreeing_prefix(p: str, t: str, n: str) -> str:
    """How many leading characters the arrays p and t share, among their first n (n >= 1)."""
    return _bind(f"transform(sequence(0, {n} - 1), jw_i -> {p}[jw_i] = {t}[jw_i])", "jw_f",
                 "IF(array_position(jw_f, false) = 0, size(jw_f), array_position(jw_f, false) - 1)")


def _fused_bonus(j: str, prefix: str) -> str:
    """fma(prefix * 0.1, 1 - j, j) rounded once, as DuckDB's build computes the prefix bonus, for a
    double j in (0.5, 1] and a prefix of 0 to 4: exact in DECIMAL(38, 0) at the scale 2^109 (j and
    1 - j are multiples of 2^-53, prefix * 0.1 of 2^-56), then one rounding to DOUBLE."""
    weights = " ".join(f"WHEN {p} THEN {int(Fraction(p * 0.1) * 2 ** 56)}" for p in range(1, 5))
    scaled = "CAST({0} * 9007199254740992D AS DECIMAL(38, 0))"  # x 2^53: an integer below 2^53
    product = f"CAST(CASE {prefix} {weights} ELSE 0 END AS DECIMAL(38, 0)) * {scaled.format(f'(1.0D - {j})')}"
    return f"CAST({scaled.format(j)} * CAST(72057594037927936 AS DECIMAL(38, 0)) + {product} AS DOUBLE) * 1.5407439555097887E-33D"


def _jaro_winkler(a: str, b: str) -> str:
    """DuckDB's jaro_winkler_similarity(a, b) (the rapidfuzz algorithm it bundles) in Spark SQL, on
    characters: window max(len)/2 - 1 (the longer string cut to the shorter's length plus the
    window), the common prefix matched first, then each character of b takes the first free equal
    character of a within the window; transpositions halved as integers; the prefix bonus (at most
    4 characters, 0.1 each) only above 0.7, rounded once as DuckDB's build does (a fused
    multiply-add: it decides ties such as lengths 10 and 12, 10 matches, 1 transposition, which is
    0.92 exactly and 0.9199999999999999 rounded twice)."""
    chars = "transform(sequence(1, char_length({0})), jw_i -> substr({0}, jw_i, 1))"
    none = "named_struct('pf', array_repeat(false, size(jw_y.p)), 'tf', array_repeat(false, size(jw_y.t)))"
    # each character of t takes the first free equal character of p within the window
    flags = (f"IF(size(jw_y.p) = 0 OR size(jw_y.t) = 0, {none}, aggregate(sequence(0, size(jw_y.t) - 1), {none}, "
             "(jw_acc, jw_j) -> " + _bind(
                 "array_min(filter(sequence(0, size(jw_y.p) - 1), jw_k -> jw_k BETWEEN jw_j - jw_x.b AND jw_j + jw_x.b "
                 "AND NOT jw_acc.pf[jw_k] AND jw_y.p[jw_k] = jw_y.t[jw_j]))", "jw_k",
                 "named_struct('pf', transform(jw_acc.pf, (jw_f, jw_i) -> jw_f OR coalesce(jw_i = jw_k, false)), "
                 "'tf', transform(jw_acc.tf, (jw_f, jw_i) -> jw_f OR (jw_i = jw_j AND jw_k IS NOT NULL)))") + "))")
    matched = "filter(zip_with({0}, {1}, (jw_c, jw_f) -> IF(jw_f, jw_c, NULL)), jw_c -> jw_c IS NOT NULL)"
    counts = _bind(flags, "jw_g", "named_struct('m', jw_y.c + size(filter(jw_g.pf, jw_f -> jw_f)), 'tr', size(filter(zip_with("
                   + matched.format("jw_y.p", "jw_g.pf") + ", " + matched.format("jw_y.t", "jw_g.tf")
                   + ", (jw_u, jw_v) -> jw_u <> jw_v), jw_d -> jw_d)) div 2)")
    similarity = ("IF(jw_z.m = 0, 0.0D, ((CAST(jw_z.m AS DOUBLE) / size(jw_x.p) + CAST(jw_z.m AS DOUBLE) / size(jw_x.t)) "
                  "+ (CAST(jw_z.m AS DOUBLE) - CAST(jw_z.tr AS DOUBLE)) / jw_z.m) / 3.0D)")
    without_prefix = _bind(_agreeing_prefix("jw_x.p1", "jw_x.t1", "least(size(jw_x.p1), size(jw_x.t1))"), "jw_c",
                           "named_struct('c', jw_c, 'p', slice(jw_x.p1, jw_c + 1, size(jw_x.p1) - jw_c), "
                           "'t', slice(jw_x.t1, jw_c + 1, size(jw_x.t1) - jw_c))")
    jaro = ("IF(size(jw_x.p) = 1 AND size(jw_x.t) = 1, IF(jw_x.p[0] = jw_x.t[0], 1.0D, 0.0D), "
            + _bind(without_prefix, "jw_y", _bind(counts, "jw_z", similarity)) + ")")
    cut = ("named_struct('p', jw_w.p, 't', jw_w.t, 'b', jw_w.b, "
           "'p1', IF(size(jw_w.t) <= size(jw_w.p) AND size(jw_w.p) > size(jw_w.t) + jw_w.b, slice(jw_w.p, 1, size(jw_w.t) + jw_w.b), jw_w.p), "
           "'t1', IF(size(jw_w.t) > size(jw_w.p) AND size(jw_w.t) > size(jw_w.p) + jw_w.b, slice(jw_w.t, 1, size(jw_w.p) + jw_w.b), jw_w.t))")
    window = "named_struct('p', jw_s.p, 't', jw_s.t, 'b', IF(size(jw_s.t) > size(jw_s.p), size(jw_s.t), size(jw_s.p)) div 2 - 1)"
    winkler = _bind(f"named_struct('j', {jaro}, 'pre', " + _agreeing_prefix("jw_x.p", "jw_x.t", "least(4, size(jw_x.p), size(jw_x.t))") + ")",
                    "jw_r", f"IF(jw_r.j > 0.7D, {_fused_bonus('jw_r.j', 'jw_r.pre')}, jw_r.j)")
    body = _bind(f"named_struct('p', {chars.format(a)}, 't', {chars.format(b)})", "jw_s", _bind(window, "jw_w", _bind(cut, "jw_x", winkler)))
    return f"IF({a} IS NULL OR {b} IS NULL, NULL, IF({a} = '' OR {b} = '', 0.0D, {body}))"


# DuckDB function -> the Spark SQL that gives the same value, NULL included ({0}, {1}: the arguments).
# damerau_levenshtein is the one in Splink's jar (the same distances as DuckDB's; 100.0 on NULL); the
# jar's jaro_winkler is another variant (transpositions not halved as integers, no prefix-first
# matching: 10% of the pinyin pairs of the tests differ), so DuckDB's is written out here. DuckDB's
# hamming counts the characters that differ in strings of one length (it refuses others).
SPARK_FUNCTIONS = {
    "jaro_winkler_similarity": _jaro_winkler("{0}", "{1}"),
    "damerau_levenshtein": "IF({0} IS NULL OR {1} IS NULL, NULL, CAST(damerau_levenshtein({0}, {1}) AS BIGINT))",
    "hamming": "IF({0} IS NULL OR {1} IS NULL, NULL, size(filter(sequence(1, char_length({0})), "
               "hm_i -> substr({0}, hm_i, 1) <> substr({1}, hm_i, 1))))",
}
_DUCKDB_KINDS = {name: type(sqlglot.parse_one(f"{name}(a, b)", read="duckdb")) for name in SPARK_FUNCTIONS}


@dataclass
class SparkOptions:
    master: str = "local[*]"
    conf: dict[str, str] = field(default_factory=dict)  # Spark settings, over the defaults set here
    scratch: Path | None = None  # the folder for Parquet exchange and checkpoints (default: a temporary one)


def parse_conf(items: list[str]) -> dict[str, str]:
    """Spark settings given as "key=value" items (the CLI's --spark-conf)."""
    conf = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or re.search(r"\s", key.strip()) or "\n" in value:
            raise GovernanceError(f"A Spark setting is key=value (for example spark.driver.memory=4g), not {item!r}.")
        conf[key.strip()] = value.strip()
    return conf


def _function_named(node: exp.Expr, name: str) -> bool:
    """Whether `node` is a call of DuckDB's function `name` (a typed sqlglot node or an unknown one)."""
    kind = _DUCKDB_KINDS[name]
    return isinstance(node, exp.Anonymous) and node.name.lower() == name if kind is exp.Anonymous else type(node) is kind


def to_spark_sql(condition: str) -> str:
    """A DuckDB SQL condition of the model in Spark SQL (SPARK_FUNCTIONS, then sqlglot)."""
    if condition.strip().upper() == "ELSE":
        return condition

    def rewrite(node: exp.Expr) -> exp.Expr:
        for name, template in SPARK_FUNCTIONS.items():
            if _function_named(node, name):
                args = [node.args[k] for k in ("this", "expression") if isinstance(node.args.get(k), exp.Expr)]
                args += node.expressions
                return sqlglot.parse_one(template.format(*(a.sql(dialect="spark") for a in args)), read="spark")
        return node

    return sqlglot.parse_one(condition, read="duckdb").transform(rewrite).sql(dialect="spark")


def spark_model(model: dict) -> dict:
    """The model dictionary with its comparison levels and blocking rules in Spark SQL."""
    out = deepcopy(model)
    out["sql_dialect"] = "spark"
    for comparison in out.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            level["sql_condition"] = to_spark_sql(level["sql_condition"])
    rules = [r if isinstance(r, dict) else {"blocking_rule": r, "sql_dialect": "duckdb"}
             for r in out.get("blocking_rules_to_generate_predictions", [])]
    for rule in rules:
        if rule.get("sql_dialect", "duckdb") == "duckdb":
            rule["blocking_rule"], rule["sql_dialect"] = to_spark_sql(rule["blocking_rule"]), "spark"
    out["blocking_rules_to_generate_predictions"] = rules
    return out


# ---- the session ---------------------------------------------------------------------------

_session: Any = None            # the process's SparkSession, started by `session`
_session_key: tuple | None = None
_warehouse: str | None = None   # Spark's warehouse folder (it creates one in the working folder otherwise)
_lock = threading.Lock()        # one scoring at a time per process (the checkpoint folder is the session's)


def _cores(master: str) -> int | None:
    """The cores of a local master: local, local[N], local[*] (with or without a retry count); None
    for a cluster, whose cores are known once Spark runs."""
    found = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\s*\d+)?\])?", master.strip())
    if not found:
        return None
    if found.group(1) == "*":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return int(found.group(1) or 1)


def _java() -> None:
    """Spark 4 runs on Java 17 or later (JAVA_HOME's, else the one on PATH)."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home, "bin", "java")) if home and Path(home, "bin", "java").exists() else shutil.which("java")
    if java is None:
        raise GovernanceError("Spark needs Java 17 or later and none was found: install openjdk-17-jre-headless "
                              "or set JAVA_HOME.")
    try:
        shown = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60).stderr
    except (OSError, subprocess.SubprocessError):
        return  # Spark's own start reports it
    found = re.search(r'version "(?:1\.)?(\d+)', shown)
    if found and int(found.group(1)) < 17:
        raise GovernanceError(f"Spark needs Java 17 or later, not Java {found.group(1)} ({java}): install "
                              "openjdk-17-jre-headless or set JAVA_HOME.")


def _first_line(exc: BaseException) -> str:
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)


def session(options: SparkOptions):
    """The process's SparkSession for `options` (master and settings): started on first use, and
    again when they change."""
    global _session, _session_key, _warehouse
    key = (options.master, tuple(sorted(options.conf.items())))
    if _session is not None and key == _session_key:
        return _session
    try:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location
        from splink.internals.spark.jar_location import get_scala_udfs
    except ImportError:
        raise GovernanceError(NOT_INSTALLED) from None
    # PySpark 4.3 warns that it does not fully support pandas 3; records reach Spark as Parquet, not pandas
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    _java()
    stop()
    _warehouse = tempfile.mkdtemp(prefix="steward-spark-warehouse-")
    # files Spark writes (Parquet of personal data on a shared scratch folder) are the owner's alone
    conf = {"spark.ui.showConsoleProgress": "false", "spark.sql.warehouse.dir": _warehouse,
            "spark.hadoop.fs.permissions.umask-mode": "077"}
    cores = _cores(options.master)
    if cores:
        conf["spark.default.parallelism"] = conf["spark.sql.shuffle.partitions"] = str(PARALLELISM_PER_CORE * cores)
    conf |= options.conf
    conf["spark.jars"] = ",".join(filter(None, [similarity_jar_location(), options.conf.get("spark.jars")]))
    builder = SparkSession.builder.master(options.master).appName("steward-oneid")
    for k, v in conf.items():
        builder = builder.config(k, v)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # a master that cannot be reached, a setting Spark refuses
        raise GovernanceError(f"Spark could not start at {options.master}: {_first_line(exc)}") from None
    spark.sparkContext.setLogLevel("ERROR")
    for udf in get_scala_udfs():  # jaro_winkler, damerau_levenshtein, ... from the jar (SparkAPI does it too)
        spark.udf.registerJavaFunction(*udf)
    if not cores and "spark.sql.shuffle.partitions" not in options.conf:  # a cluster: its cores are known now
        spark.conf.set("spark.sql.shuffle.partitions", str(PARALLELISM_PER_CORE * spark.sparkContext.defaultParallelism))
    _session, _session_key = spark, key
    atexit.unregister(stop)
    atexit.register(stop)
    return spark


def stop() -> None:
    """Stop the process's SparkSession, if one runs."""
    global _session, _session_key, _warehouse
    if _session is not None:
        _session.stop()
    if _warehouse:
        shutil.rmtree(_warehouse, ignore_errors=True)
    _session = _session_key = _warehouse = None


# ---- scoring -------------------------------------------------------------------------------

def score(records: pa.Table, model: dict, threshold: float, tf_tables: dict[str, pa.Table] | None = None, *,
          options: SparkOptions) -> pa.Table:
    """Score the blocked pairs of `records` at or above `threshold` with `model` on Spark: the same
    pairs, columns and types as `model.score_duckdb`."""
    with _lock:
        spark = session(options)
        given = Path(options.scratch).resolve() if options.scratch else None
        sweep_stale_scratch(given)
        base = given or Path(tempfile.mkdtemp(prefix="steward-spark-"))
        work = base / f"oneid-{uuid.uuid4().hex[:12]}"
        work.mkdir(parents=True, mode=0o700)  # personal data: private, as every file Steward writes
        try:
            return _score(spark, work, records, model, threshold, tf_tables or {})
        finally:
            shutil.rmtree(work if options.scratch else base, ignore_errors=True)


STALE_SCRATCH_SECONDS = 86400  # a scratch folder this old was left by a run that was killed


def sweep_stale_scratch(scratch: Path | None = None) -> None:
    """Remove the scratch folders of runs killed before they could clean up, in the temp folder
    and in the `--spark-scratch` folder given: they hold personal data."""
    left = [*Path(tempfile.gettempdir()).glob("steward-spark-*"), *(scratch.glob("oneid-*") if scratch else ())]
    remove_old_folders(left, time.time() - STALE_SCRATCH_SECONDS)


def _score(spark, work: Path, records: pa.Table, model: dict, threshold: float, tf_tables: dict[str, pa.Table]) -> pa.Table:
    from splink.backends.spark import SparkAPI

    spark.sparkContext.setCheckpointDir((work / "checkpoints").as_uri())
    db_api = SparkAPI(spark_session=spark, break_lineage_method="parquet", repartition_after_blocking=True,
                      num_partitions_on_repartition=max(1, math.ceil(int(spark.conf.get("spark.sql.shuffle.partitions")) / 2)))
    views = []
    try:
        frame = db_api.register(_to_spark(spark, records, work / "records.parquet"))
        views.append(frame.physical_name)
        linker = linker_for(frame, spark_model(model))
        for column, table in tf_tables.items():
            tf = db_api.register(_to_spark(spark, table, work / f"tf_{column}.parquet"))
            views.append(tf.physical_name)
            linker.table_management.register_term_frequency_lookup(tf, column)
        predictions = linker.inference.predict(threshold_match_probability=min(threshold, 1 - P_EDGE))
        out = work / "pairs"
        spark.sql(pairs_sql(predictions.physical_name, predictions.as_spark_dataframe().columns)).write.parquet(out.as_uri())
        with duckdb.connect() as con:  # DuckDB's types, as model.score_duckdb returns them
            return con.read_parquet(str(out / "*.parquet")).to_arrow_table()
    finally:
        db_api.delete_tables_created_by_splink_from_db()
        for view in views:
            spark.catalog.dropTempView(view)


def _to_spark(spark, table: pa.Table, path: Path):
    pq.write_table(table, path)
    return spark.read.parquet(path.as_uri())  # a file: URI, whatever the cluster's default file system
