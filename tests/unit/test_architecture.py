"""Rules of the code base that a reviewer would otherwise check by hand."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from governance.i18n import TEXTS

ROOT = Path(__file__).resolve().parents[2]


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


# ---- the layers ---------------------------------------------------------------------------
# Lowest first. A module may import its own package and the layers below it, never one above:
# ui/cli -> bootstrap -> pipeline -> stages (in their own order) -> store.
LAYERS = [
    {"store"},
    {"i18n", "synth"},
    # standardize (pure normalizers, and the engine that reads mapped_records through SQL) sits below
    # sources: auto-mapping checks a sample the way standardization will read it.
    # events (parsing purchase and order fields in SQL) sits below sources: auto-mapping knows its status words.
    {"access"}, {"standardize"}, {"events"}, {"sources"}, {"quality"}, {"oneid"}, {"golden"}, {"privacy"}, {"tags"}, {"exports"},
    {"audiences"},  # saved audiences, their members and exclusions
    {"pipeline"},
    {"jobs"},  # background jobs: run pipeline steps, used by the shells
    {"bootstrap"},
    {"api"},  # the read API (a front end, no Streamlit): its keys are managed from the CLI and a page
    {"cli_tags", "cli_audiences", "cli_api"},  # the tags, audiences and API commands, registered by cli
    {"cli", "ui"},
    {"__main__"},
]
RANK = {unit: i for i, units in enumerate(LAYERS) for unit in units}
# The stage functions a step chains; only their own module, the pipeline and the front ends call them.
CHAINED = {("engine", "standardize"): "governance.standardize.engine",
           ("resolve", "resolve"): "governance.oneid.resolve",
           ("survivorship", "refresh_golden"): "governance.golden.survivorship",
           ("profile", "run_profile"): "governance.quality.profile"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """governance module -> the governance modules it imports, at any depth of the file."""
    files = [p for p in (ROOT / "governance").rglob("*.py")]
    known = {_module(p) for p in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        mod, edges = _module(path), set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                while name and name not in known:
                    name = name.rpartition(".")[0]
                if name and name != mod and not mod.startswith(name + "."):
                    edges.add(name)
        graph[mod] = edges
    return graph


def _unit(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def test_the_import_graph_has_no_cycle():
    graph, state, cycle = import_graph(), {}, []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycle.extend(path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt])
                return True
            if nxt not in state and visit(nxt, path + [node]):
                return True
        state[node] = "done"
        return False

    assert not any(visit(m, []) for m in sorted(graph) if m not in state), " -> ".join(cycle)


def test_imports_point_down_the_layers():
    graph = import_graph()
    assert set(RANK) >= {_unit(m) for m in graph if m != "governance"}, "a new package needs a place in LAYERS"
    upward = sorted(f"{m} -> {d}" for m, deps in graph.items() if m != "governance" for d in deps
                    if _unit(d) != _unit(m) and RANK[_unit(d)] >= RANK[_unit(m)])
    assert upward == []


def test_nothing_in_the_library_imports_the_ui():
    graph = import_graph()
    assert sorted(m for m, deps in graph.items() if _unit(m) != "ui" and any(_unit(d) == "ui" for d in deps)) == []


def test_no_governance_import_inside_a_function():
    """Imports inside functions were how the old cycle was dodged; the layers make them unneeded."""
    found = []
    for path in (ROOT / "governance").rglob("*.py"):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(fn)
                          if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("governance")]
    assert found == []


def test_only_the_pipeline_chains_stages():
    """A stage never runs another stage's step (standardize, resolve, golden refresh, profile)."""
    offenders = []
    for path in (ROOT / "governance").rglob("*.py"):
        mod = _module(path)
        if mod in ("governance.pipeline", "governance.cli") or _unit(mod) == "ui":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                owner = CHAINED.get((node.func.value.id, node.func.attr))
                if owner and owner != mod:
                    offenders.append(f"{mod}:{node.lineno} {node.func.value.id}.{node.func.attr}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                owner = next((o for (_, f), o in CHAINED.items() if f == node.func.id), None)
                if owner and owner != mod and node.func.id != "standardize":
                    offenders.append(f"{mod}:{node.lineno} {node.func.id}")
    assert offenders == []


def test_pages_and_the_cli_use_the_pipeline():
    """The shells chain stages through the pipeline: directly, or through a background job (jobs.kinds,
    whose every job is a pipeline step)."""
    chained = r"^from governance import .*\bpipeline\b|^from governance\.jobs import .*\bkinds\b"
    users = [p.name for p in [*(ROOT / "pages").glob("*.py"), ROOT / "governance" / "cli.py"]
             if re.search(chained, p.read_text(encoding="utf-8"), re.M)]
    assert "cli.py" in users and len(users) >= 5
    assert re.search(r"^from governance import .*\bpipeline\b", (ROOT / "governance/jobs/kinds.py").read_text(), re.M)


_WRITES = re.compile(r"\b(?:INSERT\s+(?:OR\s+REPLACE\s+)?INTO|UPDATE|DELETE\s+FROM|CREATE\s+(?:OR\s+REPLACE\s+)?TABLE"
                     r"|DROP\s+TABLE(?:\s+IF\s+EXISTS)?|ALTER\s+TABLE|TRUNCATE)\s+([A-Za-z_]\w*)\b", re.I)
# Erasure removes a person from every table that can hold them (found by their columns, so a new
# table cannot be missed): the one writer across owners, and only to delete and redact.
ERASURE = "governance/privacy/erasure.py"


def test_each_table_has_one_owner():
    tables = re.findall(r"^TABLE main\.(\w+) ", (ROOT / "tests/fixtures/schema_snapshot.txt").read_text(encoding="utf-8"), re.M)
    writers: dict[str, set[str]] = {t: set() for t in tables}
    for path in (ROOT / "governance").rglob("*.py"):
        for table in _WRITES.findall(path.read_text(encoding="utf-8")):
            if table in writers and str(path.relative_to(ROOT)) != ERASURE:
                writers[table].add(str(path.relative_to(ROOT)))
    shared = {t: sorted(w) for t, w in writers.items() if len(w) > 1}
    assert shared == {}
    assert writers["std_records"] == {"governance/standardize/engine.py"}
    assert writers["std_events"] == {"governance/events/events.py"}


def test_the_usable_statuses_are_spelled_once():
    """normalizers defines the statuses and VALID; engine.VALID_SQL is built from it; all others use those."""
    spelled = [str(p.relative_to(ROOT)) for p in (ROOT / "governance").rglob("*.py")
               if re.search(r"""['"]valid['"],\s*['"]valid_with_warning['"]""", p.read_text(encoding="utf-8"))]
    assert spelled == ["governance/standardize/normalizers.py"]


def test_governance_does_not_import_streamlit_outside_ui():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "governance").rglob("*.py")
                 if "ui" not in p.relative_to(ROOT / "governance").parts[:1]
                 and imports(p) & {"streamlit", "streamlit_authenticator"}]
    assert offenders == []


RELATIONS = {"sql", "query", "table", "view", "values", "from_arrow", "from_df", "read_parquet", "read_csv", "read_json",
             "register"}


def test_store_relations_go_through_storage_relation():
    """DuckDB refuses `cur.sql(...)` and `cur.register(...)` while an earlier execute() on the cursor is
    unfinished (after a `fetchone()`): store cursors open relations and views of Arrow tables through
    storage.relation and storage.arrow_view, which finish it first.
    Throwaway in-memory connections (`con`: Splink's scratch one, Spark's results) are the exception."""
    offenders = [f"{p.relative_to(ROOT)}:{n.lineno}" for p in [*(ROOT / "governance").rglob("*.py"),
                                                            *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
                 if p.name != "storage.py" for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in RELATIONS
                 and isinstance(n.func.value, ast.Name) and n.func.value.id in ("cur", "cursor", "conn", "connection")]
    assert offenders == []


def test_every_page_starts_with_a_guard():
    for page in sorted((ROOT / "pages").glob("*.py")):
        tree = ast.parse(page.read_text(encoding="utf-8"))
        calls = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom, ast.Expr))
                 or (isinstance(n, ast.Expr) and not isinstance(n.value, ast.Constant))]
        first = calls[0]
        assert isinstance(first, ast.Assign) and isinstance(first.value, ast.Call), page.name
        assert getattr(first.value.func, "id", None) == "require", f"{page.name} must call require(...) first"


def test_pages_hold_no_sql():
    sql = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b\s+[\w*]", re.I)
    for page in (ROOT / "pages").glob("*.py"):
        strings = [n.value for n in ast.walk(ast.parse(page.read_text(encoding="utf-8")))
                   if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        assert not [s for s in strings if sql.search(s)], page.name


def test_every_translation_key_used_exists_in_both_languages():
    used = set()
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "governance" / "ui").glob("*.py")]:
        used |= set(re.findall(r"""\b(?:tr|t|ctx\.t)\(\s*f?["']([a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    missing = sorted(k for k in used if not k.endswith(".") and k not in TEXTS)
    assert missing == []
    assert all(zh and en for zh, en in TEXTS.values())


def test_no_secrets_or_databases_tracked():
    import subprocess

    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert not [f for f in tracked if f.endswith((".duckdb", "secrets.toml", ".wal")) or "admin-password" in f]
