"""Every page in app.PAGES, as every role that can reach it, on a generated workspace: no unmasked
11-digit mobile and no 18-character ID number anywhere in what the page shows (text, tables,
widget options and values, chart strings). New pages are covered as soon as app.py lists them."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from governance import pipeline
from governance.access import auth
from governance.standardize.normalizers import _MOBILE_DUMMIES
from governance.store.storage import open_database
from helpers import ID_NUMBER, MOBILE, PASSWORDS, app_pages, app_test, load_generated, unlabelled_columns

CASES = [(url, path, role) for path, url, _, permission, _ in app_pages() for role in auth.ROLES
         if auth.can(role, permission)]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A generated, standardized, profiled and resolved workspace with one user per role."""
    tmp = tmp_path_factory.mktemp("scan")
    path = tmp / "scan.duckdb"
    database = open_database(path)
    for role, password in PASSWORDS.items():
        auth.create_user(database, "test", role, password, role)
    load_generated(database, tmp / "files", 400, seed=7)
    pipeline.refresh_quality(database, "t")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STEWARD_DB", str(path))
        yield database, tmp / "files"
    database.close()


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def page_text(at) -> str:
    """Everything the page shows: every element's value (tables in full), labels, options, chart strings."""
    parts = []
    for node in at._tree:
        if getattr(node, "type", None) == "plotly_chart":
            parts += _strings(json.loads(node.proto.spec))  # strings only: numbers in a chart are not PII
            continue
        for attribute in ("label", "options", "help", "placeholder"):
            parts += _strings(getattr(node, attribute, None))
        if getattr(node, "options", None) is not None:
            continue  # a choice widget shows its formatted options (scanned above), not its Python value
        try:
            value = node.value
        except Exception:  # blocks and elements without a value
            continue
        if isinstance(value, pd.DataFrame):
            with pd.option_context("display.max_colwidth", None):
                parts.append(value.to_string())
        elif value is not None and not isinstance(value, bool):
            parts.append(str(value))
    return "\n".join(parts)


def unmasked(text: str) -> list[str]:
    """Mobiles and ID numbers in `text`, except the public dummy numbers a reason text may cite."""
    found = [m.group(0) for m in MOBILE.finditer(text) if m.group(0) not in _MOBILE_DUMMIES]
    return found + [m.group(0) for m in ID_NUMBER.finditer(text)]


def interactions(url: str, files) -> list:
    """Deeper states worth scanning beyond each page's first screen."""
    if url == "sources":
        names = ["crm_members", "wechat_mp_member", "douyin_orders", "tmall_orders", "pos_sales"]
        return [lambda at, s=s: at.selectbox(key="sources_pick").set_value(s).run() for s in names]
    if url == "quality":
        return [lambda at, f=f: at.selectbox(key="drill_field").set_value(f).run()
                for f in ("mobile", "id_card", "name", "email", "address", "wechat_open_id")]
    if url == "review":
        return [lambda at: at.text_input(key="cluster_oneid").input(_busy_oneid()).run()]
    if url == "upload":
        return [lambda at, f=f: at.file_uploader(key="upload_file").set_value((f.name, f.read_bytes(), "text/csv")).run()
                for f in sorted(files.glob("*.csv")) if f.name != "truth.csv"]
    if url == "audiences":  # everyone in the csv channel (no contact needed), then the masked sample
        return [lambda at: at.selectbox(key="aud_channel").set_value("csv").run(),
                lambda at: at.text_input(key="aud_rule0_0_text").input("广东省").run(),
                lambda at: at.button(key="aud_sample_button").click().run()]
    return []


_db = {}


def _busy_oneid() -> str:
    with _db["db"].cursor() as cur:
        return cur.execute("SELECT c.oneid FROM crosswalk c JOIN std_records s USING (batch_id, row_number) "
                           "WHERE s.mobile_status = 'valid' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]


@pytest.mark.parametrize("url, path, role", CASES, ids=[f"{u}-{r}" for u, _, r in CASES])
def test_no_unmasked_mobile_or_id_number_on_any_page(workspace, url, path, role):
    database, files = workspace
    _db["db"] = database
    at = app_test(database, role).run()
    at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    states = [page_text(at)]
    assert unlabelled_columns(at) == []  # every table has headers in the UI language
    for act in interactions(url, files):
        act(at)
        assert not at.exception, [e.value for e in at.exception]
        states.append(page_text(at))
        assert unlabelled_columns(at) == []
    for text in states:
        assert unmasked(text) == []
    assert sum(len(s) for s in states) > 200  # the page did render content


def test_the_scan_finds_what_a_reveal_shows(workspace):
    """The scanner is not blind: revealed raw rows do show mobiles and ID numbers."""
    database, _ = workspace
    at = app_test(database, "steward").run()
    at.switch_page("pages/sources.py").run()
    at.selectbox(key="sources_pick").set_value("crm_members").run()
    assert unmasked(page_text(at)) == []
    at.toggle(key="sources_reveal").set_value(True).run()
    at.text_input(key="sources_reveal_reason").input("scanner self-check").run()
    text = page_text(at)
    assert MOBILE.search(text) and ID_NUMBER.search(text)


def test_every_page_is_scanned():
    assert {url for url, _, _ in CASES} == {url for _, url, _, _, _ in app_pages()}
    assert ("users", "pages/users.py", "admin") in CASES and ("users", "pages/users.py", "analyst") not in CASES
