"""Quality against Great Expectations: from one generated CSV to a quality report, Steward's ingest +
standardize + profile next to Great Expectations (GX Core, pandas) reading the same file and
validating equivalent expectations, in the same run. Target: Steward at most 1.5x GX.

    python benchmarks/quality_vs_gx.py [--records 1000000] [--keep DIR] [--venv DIR] [--repeat 1]

The file is the ingest benchmark's (`synth.write_benchmark_csv`, cached under data/benchmarks/).
Each side runs in a fresh process; with --repeat N they alternate and the best of each is compared.

Steward (the product's venv): a fresh store, then `pipeline.load_file` (ingest and standardize, the
calls `python -m governance ingest` makes; the split between the two is timed at the start of its
standardize call) and `pipeline.refresh_quality` (what `python -m governance profile` calls: the
profile, every statistic, the default rules and the scores).

GX: GX_VERSION (with pyarrow, so pandas reads Arrow strings) in its own virtualenv, made once by this script (`python -m venv`, then pip) under
~/.cache/steward-bench/gx-venv (or --venv); the product's requirements and venv are not touched. A
child script run with that venv's python builds an ephemeral context and the suite (untimed), then
times `pd.read_csv(file, dtype=str)` (every value as text, pandas' default missing markers: "",
NULL, N/A, ...) and `batch.validate(suite, result_format="BASIC")` on that frame (BASIC: each
expectation's unexpected count and share, as Steward's rule results carry; GX's default SUMMARY also
tallies the unexpected values and takes about 15% longer). If the venv cannot be made (no network,
no package index) the script stops with one line.

The suite follows what Steward checked on this file: the fields its mapping filled, and its default
rules that apply to them (`rules.default_rules`, `rules.applies_to`). GX reads the raw file, so each
check is the nearest built-in expectation on the raw column:

| Steward rule | GX expectation on the raw column |
|---|---|
| completeness of every mapped field (the profile's missing count; `*.present`, type not_null) | ExpectColumnValuesToNotBeNull, mostly = the field's `.present` rule, else 0.5 (the generic one) |
| mobile.format (phone) | ExpectColumnValuesToMatchRegex: 11-digit mainland mobile, +86 and - or space allowed |
| email.format | ExpectColumnValuesToMatchRegex: local@domain.tld |
| id_card.format | ExpectColumnValuesToMatchRegex: 15 or 18 characters (no checksum or date check in GX) |
| birth_date.format (date) | ExpectColumnValuesToMatchRegex: Y-M-D, Y/M/D, Y.M.D, YYYYMMDD |
| registered_at.format (timestamp) | ExpectColumnValuesToMatchRegex: a date with an optional time |
| gender.format, gender.codes (allowed_values 0/1/2/9 after standardizing) | ExpectColumnValuesToBeInSet: the raw forms the normalizer maps to a code (男, F, Male, ...), in three cases |
| province.format, city.format, district.format | ExpectColumnValuesToBeInSet: official and short names from the product's division catalogue |
| address.format (fails only masked values) | ExpectColumnValuesToNotMatchRegex: `*` |
| birth_date.range, registered_at.not_future | ExpectColumnValuesToBeBetween on the column parsed as datetimes (see below) |
| unique, unique_together, consistency (ID against birth date, gender, region), custom | none: not format or completeness checks; listed as not mapped |

Each expectation takes its Steward rule's `mostly`. GX turns text bounds of a range into dates and
then refuses to compare them with text, so the child parses each range column once
(`pd.to_datetime(format="ISO8601", errors="coerce")`, other forms become missing and are skipped)
into a new column; that parse is timed and counted on GX's side. The figures compared are Steward's
ingest + standardize + profile against GX's read + parse + validate; imports, the GX context and the
suite's set-up are not timed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

GX_VERSION = "1.24.1"  # the version the package index here holds; pinned exactly
# pandas reads text into Arrow strings when pyarrow is there, as a GX user's install usually has it
GX_PACKAGES = [f"great_expectations=={GX_VERSION}", "pyarrow==26.0.1"]
DEFAULT_VENV = Path.home() / ".cache" / "steward-bench" / "gx-venv"
TARGET = 1.5
ACTOR = "benchmark"

GX_CHILD = r'''
import json, os, sys, time
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
import pandas as pd
import great_expectations as gx
import great_expectations.expectations as gxe


def build(spec):
    column, mostly = spec["column"], spec["mostly"]
    kind = spec["kind"]
    if kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=column, mostly=mostly)
    if kind == "regex":
        return gxe.ExpectColumnValuesToMatchRegex(column=column, regex=spec["regex"], mostly=mostly)
    if kind == "not_regex":
        return gxe.ExpectColumnValuesToNotMatchRegex(column=column, regex=spec["regex"], mostly=mostly)
    if kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=spec["values"], mostly=mostly)
    if kind == "between":  # on the column parsed as datetimes: GX compares text only with text bounds
        return gxe.ExpectColumnValuesToBeBetween(column=column + PARSED, min_value=spec.get("min"),
                                                 max_value=spec.get("max"), mostly=mostly)
    raise ValueError(kind)


def error(info):
    """The message of an exception GX caught while computing an expectation's metrics, or None."""
    if not info:
        return None
    if "raised_exception" in info:
        return info.get("exception_message") if info["raised_exception"] else None
    found = [v.get("exception_message") for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
    return found[0] if found else None


PARSED = "__parsed"


csv, specs = sys.argv[1], json.loads(open(sys.argv[2], encoding="utf-8").read())
context = gx.get_context(mode="ephemeral")
batches = (context.data_sources.add_pandas("bench").add_dataframe_asset("customers")
           .add_batch_definition_whole_dataframe("whole"))
suite = context.suites.add(gx.ExpectationSuite(name="quality"))
for spec in specs:
    suite.add_expectation(build(spec))
started = time.perf_counter()
frame = pd.read_csv(csv, dtype=str)
read = time.perf_counter() - started
started = time.perf_counter()
for column in sorted({spec["column"] for spec in specs if spec["kind"] == "between"}):
    frame[column + PARSED] = pd.to_datetime(frame[column], format="ISO8601", errors="coerce")
parse = time.perf_counter() - started
started = time.perf_counter()
result = batches.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format="BASIC")
validate = time.perf_counter() - started
checks = [{"type": r.expectation_config.type, "column": r.expectation_config.kwargs.get("column"),
           "success": bool(r.success), "unexpected": (r.result or {}).get("unexpected_count"),
           "error": error(r.exception_info)} for r in result.results]
print(json.dumps({"read": read, "parse": parse, "validate": validate, "rows": len(frame), "version": gx.__version__,
                  "pandas": pd.__version__,
                  "success": bool(result.success), "checks": checks}))
'''


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


# ---- Steward ---------------------------------------------------------------------------------

def run_steward(csv: Path, store: Path) -> dict:
    """Ingest + standardize (pipeline.load_file) and profile (pipeline.refresh_quality) into a fresh store."""
    from helpers import scratch_secrets

    scratch_secrets()
    from governance import pipeline
    from governance.quality import rules
    from governance.store.schema import FIELD_NAMES
    from governance.store.storage import open_database

    for old in (store, store.with_name(store.name + ".wal")):  # a fresh store on every run
        old.unlink(missing_ok=True)
    db = open_database(store)
    marks: list[float] = []
    standardize = pipeline.standardize

    def timed(*args, **kwargs):  # load_file calls pipeline.standardize once, right after ingest
        marks.append(time.perf_counter())
        return standardize(*args, **kwargs)

    pipeline.standardize = timed
    started = time.perf_counter()
    loaded = pipeline.load_file(db, ACTOR, csv, channel="crm")
    loaded_at = time.perf_counter()
    pipeline.standardize = standardize
    refreshed = pipeline.refresh_quality(db, ACTOR)
    profiled = time.perf_counter() - loaded_at
    with db.cursor() as cur:
        headers = dict(cur.execute("SELECT e.field, e.header FROM mapping_entries e JOIN (SELECT source, max(version) v "
                                   "FROM mapping_versions GROUP BY source) c ON c.source = e.source AND c.v = e.version "
                                   "WHERE e.field IS NOT NULL").fetchall())
    mapped = {f for f in headers if f in FIELD_NAMES}
    applied = [r for r in rules.default_rules() if rules.applies_to(r, mapped)]
    return {"ingest": marks[0] - started, "standardize": loaded_at - marks[0], "profile": profiled,
            "records": loaded.standardized.records, "score": refreshed.run.score,
            "headers": {f: headers[f] for f in FIELD_NAMES if f in mapped},
            "rules": [{"id": r.rule_id, "type": r.rule_type, "fields": r.fields, "params": r.params, "mostly": r.mostly}
                      for r in applied]}


# ---- the GX suite ----------------------------------------------------------------------------

REGEX = {
    "phone": r"^\s*(\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}\s*$",
    "email": r"^\s*[^@\s]+@[^@\s]+\.[A-Za-z]{2,}\s*$",
    "id_card": r"^\s*(\d{15}|\d{17}[\dXx])\s*$",
    "date": r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{8})\s*$",
    "timestamp": r"^\s*\d{4}[-/]\d{1,2}[-/]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*$",
}


def value_sets() -> dict[str, list[str]]:
    """Raw values the product's normalizers accept, from its own tables."""
    from governance.standardize import normalizers as N

    words = set(N._GENDER_TABLE) | set(N._GENDER_SALUTATIONS)
    provinces = {n for names in N._PROVINCES.values() for n in names} | set(N._PROVINCE_ALIASES)
    return {"gender": sorted(words | {w.upper() for w in words} | {w.capitalize() for w in words}),
            "province": sorted(provinces),
            "city": sorted(set(N._CITY_FULL) | set(N._CITY_SHORT)),
            "district": sorted(set(N._DISTRICT_FULL) | set(N._DISTRICT_SHORT) | set(N._CITY_FULL))}


def gx_suite(steward: dict, today: date) -> tuple[list[dict], list[str]]:
    """GX expectation specs for what Steward checked (see the module docstring), and the rules left out."""
    from governance.store.schema import BY_NAME

    headers: dict[str, str] = steward["headers"]
    sets = value_sets()
    present = {r["fields"][0]: r["mostly"] for r in steward["rules"] if r["type"] == "not_null"}
    specs = [{"kind": "not_null", "column": headers[f], "mostly": present.get(f, 0.5), "rule": f"{f} completeness"}
             for f in headers]
    skipped = []
    for r in steward["rules"]:
        f = r["fields"][0] if r["fields"] else None
        base = {"column": headers.get(f or ""), "mostly": r["mostly"], "rule": r["id"]}
        kind = BY_NAME[f].type if f else None
        if r["type"] == "format" and kind in REGEX:
            specs.append(base | {"kind": "regex", "regex": REGEX[kind]})
        elif r["type"] in ("format", "allowed_values") and f in sets:
            specs.append(base | {"kind": "in_set", "values": sets[f]})
        elif r["type"] == "format" and f == "address":
            specs.append(base | {"kind": "not_regex", "regex": r"\*"})
        elif r["type"] == "range":
            p = r["params"]
            bound = {"min": p.get("min"), "max": p.get("max")}
            for side, value in bound.items():
                if value == "today":
                    bound[side] = f"{today.isoformat()} {'23:59:59' if p.get('type') == 'timestamp' else '00:00:00'}"
                elif value:
                    bound[side] = f"{value} 00:00:00" if len(str(value)) == 10 else value
            specs.append(base | {"kind": "between"} | {k: v for k, v in bound.items() if v})
        elif r["type"] != "not_null":
            skipped.append(r["id"])
    return specs, skipped


# ---- the GX virtualenv -----------------------------------------------------------------------

def gx_python(venv: Path) -> Path:
    """The venv's python with great_expectations==GX_VERSION, made once; SystemExit with one line if
    it cannot be made (no network, no index)."""
    python, stamp = venv / "bin" / "python", venv / ".steward-gx"
    if stamp.exists() and stamp.read_text().strip() == " ".join(GX_PACKAGES) and python.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    log = venv.parent / f"{venv.name}-install.log"
    print(f"making the GX virtualenv {venv} (great_expectations=={GX_VERSION}); log: {log}", flush=True)
    with open(log, "w", encoding="utf-8") as out:
        for label, step in (("python -m venv", [sys.executable, "-m", "venv", "--clear", str(venv)]),
                            (f"pip install {' '.join(GX_PACKAGES)}",
                             [str(python), "-m", "pip", "install", "--disable-pip-version-check", *GX_PACKAGES])):
            try:
                done = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, timeout=1800).returncode
            except (OSError, subprocess.TimeoutExpired) as exc:
                done, label = 1, f"{label} ({exc})"
            if done != 0:
                sys.exit(f"cannot make the GX virtualenv: {label} failed (no network or no package index?); see {log}")
    stamp.write_text(" ".join(GX_PACKAGES))
    return python


def run_gx(python: Path, csv: Path, specs: Path, workdir: Path) -> dict:
    script = workdir / "gx_child.py"
    script.write_text(GX_CHILD, encoding="utf-8")
    proc = subprocess.run([str(python), str(script), str(csv), str(specs)], capture_output=True, text=True,
                          env=os.environ | {"GX_ANALYTICS_ENABLED": "false"})
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        sys.exit(f"the GX run failed: {last}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def child_steward(csv: Path, store: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", "--csv", str(csv), "--store", str(store)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        sys.exit(f"the Steward run failed: {last}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="work in DIR and keep the store, the GX suite and the results there")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help=f"the GX virtualenv (default {DEFAULT_VENV})")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side, alternating; the best of each counts")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_steward(args.csv, args.store)))
        return
    if args.records < 1 or args.repeat < 1:
        sys.exit("--records and --repeat must be at least 1")

    python = gx_python(args.venv.expanduser())
    from governance import synth

    csv = ROOT / "data" / "benchmarks" / f"customers_{args.records}.csv"
    if not csv.exists():
        csv.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        synth.write_benchmark_csv(csv, args.records)
        print(f"generated {csv.name} ({csv.stat().st_size / 1024**2:.0f} MB) in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory(prefix="steward-gx-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        steward_runs: list[dict] = []
        gx_runs: list[dict] = []
        skipped: list[str] = []
        specs = workdir / "gx_suite.json"
        for _ in range(args.repeat):  # alternate, so that machine noise hits both alike
            steward_runs.append(child_steward(csv, workdir / "steward.duckdb"))
            if len(steward_runs) == 1:  # the suite follows the first run's mapping and rules
                suite, skipped = gx_suite(steward_runs[0], date.today())
                specs.write_text(json.dumps(suite, ensure_ascii=False, indent=1), encoding="utf-8")
            gx_runs.append(run_gx(python, csv, specs, workdir))
        if args.keep:
            (workdir / "results.json").write_text(json.dumps({"steward": steward_runs, "gx": gx_runs}, ensure_ascii=False,
                                                             indent=1), encoding="utf-8")
    ours = min(steward_runs, key=lambda r: r["ingest"] + r["standardize"] + r["profile"])
    theirs = min(gx_runs, key=lambda r: r["read"] + r["parse"] + r["validate"])
    assert ours["records"] == theirs["rows"] == args.records, (ours["records"], theirs["rows"])
    total = ours["ingest"] + ours["standardize"] + ours["profile"]
    gx_total = theirs["read"] + theirs["parse"] + theirs["validate"]
    failed = [c for c in theirs["checks"] if c["error"]]
    print(f"records: {args.records:,}  file: {csv.name} ({csv.stat().st_size / 1024**2:.1f} MB)  runs of each: {args.repeat}")
    print(f"steward: ingest {ours['ingest']:.2f} s + standardize {ours['standardize']:.2f} s + profile "
          f"{ours['profile']:.2f} s = {total:.2f} s  ({len(ours['rules'])} default rules apply, score {ours['score']})")
    print(f"GX Core {theirs['version']} (pandas {theirs['pandas']}): read {theirs['read']:.2f} s + parse dates "
          f"{theirs['parse']:.2f} s + validate {theirs['validate']:.2f} s = {gx_total:.2f} s  "
          f"({len(theirs['checks'])} expectations, {len(failed)} raised)")
    if skipped:
        print(f"rules without a GX equivalent (not in the suite): {', '.join(skipped)}")
    for c in failed:
        print(f"  GX error in {c['type']} on {c['column']}: {c['error']}")
    print(f"ratio: {total / gx_total:.2f}x (steward total / GX read + parse + validate; target <= {TARGET}x)")
    print(f"load average (1, 5, 15 min): {load()}")
    print("PASS" if total / gx_total <= TARGET and not failed else "MISS")


if __name__ == "__main__":
    main()
