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


def test_governance_does_not_import_streamlit_outside_ui():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "governance").rglob("*.py")
                 if "ui" not in p.relative_to(ROOT / "governance").parts[:1]
                 and imports(p) & {"streamlit", "streamlit_authenticator"}]
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
