"""One language at a time: every page in app.PAGES (and the app shell), as every role that can reach
it, in Chinese and in English, on a generated workspace with data in every list. A page fails on
text outside its language and on raw codes and unformatted numbers.

What a page may show besides its own language:
- data, decided by where it is: the cells of a data column (names, addresses, values, source-file
  headers in the mapping's code column, a raw-row table under the file's own headers, ...), and data
  values the workspace holds wherever they appear (source and file names, user and display names,
  OneIDs, emails, region names, masked names, encodings, typed comments; an audit detail may name a
  source file's headers); file paths; data an English text quotes as an example ("e.g. 王先生");
- product and format names (PRODUCT_NAMES);
- Streamlit's own widget chrome (the uploader's "Drag and drop file here", "Browse files", "Limit
  200MB per file"): drawn by the browser, AppTest never sees it, so nothing here needs allowing.
What it may not show: English words in the Chinese UI, Chinese in the English UI, coded values
(MASKED, source_priority, mobile_and_name, weak_bridge, model:0.99, synonym, admin, audit action
codes, JSON), "None"/"nan"/"NaT" cells (and "done"/"empty" in Chinese), and floats with more than 3
decimals. Each failure names the page, role and language and lists the offending strings."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from governance import pipeline
from governance.access import auth
from governance.golden import survivorship
from governance.i18n import COLUMNS, t
from governance.jobs import runner as jobs
from governance.oneid import review
from governance.privacy import consent, dsr, retention
from governance.sources.readers import ENCODINGS
from governance.store.schema import EVENT_FIELD_NAMES, FIELD_NAMES
from governance.store.storage import open_database
from helpers import app_pages, app_test, load_generated

LANGS = ("zh", "en")
# Users whose names are not role codes, so a role code on screen is never mistaken for a user name.
USERS = {"admin": ("lin_admin", "林静"), "steward": ("chen_steward", "陈晨"), "analyst": ("zhou_analyst", "周宇")}
PASSWORD = "language-pass-123"
CASES = [(url, path, role, lang) for path, url, _, permission, _ in app_pages() for role in auth.ROLES
         if auth.can(role, permission) for lang in LANGS]

# Names that stay as they are in Chinese: the product; identifiers and systems known by these names
# (a channel's AppID, OpenID; the CRM and POS channels; Unix time, Excel); file formats; the time zone;
# the hash names of the masking methods; the PIPIA (the assessment's usual abbreviation); log2 in the
# match-weight axis. Single letters are no words (the pair's sides A and B, the keys Y, N, S).
PRODUCT_NAMES = frozenset({
    "Steward", "OneID", "SHA", "SHA256", "HMAC", "CSV", "TSV", "TXT", "XLSX", "XLS", "ODS", "JSON", "Lines",
    "Parquet", "PARQUET", "Excel", "SQL", "ID", "AppID", "OpenID", "UnionID", "CRM", "POS", "Unix", "UTC",
    "PIPIA", "log2", "GB",  # GB: a national standard's number (GB/T 2261.1)
    "PSI", "RFM",  # the population stability index and the RFM model, known by these names
    "API",  # API keys (API 密钥), as Chinese software names them
    "MD5",  # the activation files' hash (SHA-256 reads as SHA above)
})
# Table columns whose cells are data (typed, uploaded or derived from what was uploaded), not UI text.
DATA_COLUMNS = frozenset(FIELD_NAMES) | frozenset(EVENT_FIELD_NAMES) | frozenset({
    "value", "raw_value", "standardized_value", "golden", "competing", "left", "right", "column", "sample",
    "source", "sources", "file_name", "sha256", "checksum", "oneid", "oneid_l", "oneid_r", "oneids", "record",
    "record_l", "record_r", "name_l", "name_r", "account", "username", "display_name", "email", "actor",
    "uploaded_by", "created_by", "updated_by", "changed_by", "lifted_by", "started_by", "requester", "comment",
    "notes", "evidence_ref", "notice_version", "object_id", "app_id", "target", "response", "identity_check",
    "lift_reason", "steward", "decided_by", "keys", "shared_values", "pair", "sheet", "encoding",
    "columns",  # the source-file headers a processing activity covers (record of processing)
    "rule_id",  # a quality rule's id, typed by the steward who created it
    "change_reason",  # why a tag version was saved, typed by its author
})
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
MASKED_NAME = re.compile(r"[\u3400-\u9fff]\*+|[A-Za-z]\*+")  # a name masked to its first character
ONEID = re.compile(r"OID\d{10}")
FILE_PATH = re.compile(r"[\w.-]+(/[\w.-]+)*\.(txt|csv|xlsx|toml|zip|json|parquet|md)\b")
EXAMPLE = re.compile(r"\((e\.g\.|for example) [^)]*\)|Example: \S+")  # an English text citing data examples
EMAIL = re.compile(r"[\w.+*-]+@[\w-]+(\.[\w-]+)+")
LONG_FLOAT = re.compile(r"(?<![\d.])\d+\.\d{4,}(?![\d.])")
# Cells that are never data: a missing text shows a dash; in Chinese a finished state reads in Chinese.
BAD_CELLS = frozenset({"None", "nan", "NaN", "NaT", "<NA>", "null"})
BAD_CELLS_ZH = frozenset({"done", "empty"})


@dataclass(frozen=True)
class Shown:
    where: str  # what shows it: "markdown", "table status", "selectbox 'Source' options", ...
    text: str
    data: bool = False  # a data cell: checked for empty and number formats, not for language


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A generated workspace with data in every list: sources, quality profiled, resolved, golden
    records, review decisions, a survivorship rule change, requests, consent, a retention period due,
    jobs, audit rows."""
    tmp = tmp_path_factory.mktemp("language")
    path = tmp / "language.duckdb"
    db = open_database(path)
    for role, (username, display) in USERS.items():
        auth.create_user(db, "test", username, PASSWORD, role, display_name=display)
    load_generated(db, tmp / "files", 300, seed=5)
    pipeline.refresh_quality(db, "t")
    survivorship.build_golden(db)
    steward = USERS["steward"][0]
    with db.cursor() as cur:
        pairs = review.queue(cur).head(3)
    for pair, decision in zip(pairs.itertuples(), ("approve", "reject", "approve")):
        review.decide(db, steward, int(pair.rec_l), int(pair.rec_r), decision, comment="核对过门店记录")
    pipeline.apply_decisions(db, steward)
    pipeline.set_survivorship_rule(db, steward, "email", "most_recent")
    with db.cursor() as cur:
        oneids = [r[0] for r in cur.execute("SELECT oneid FROM golden_records ORDER BY record_count DESC, oneid LIMIT 3").fetchall()]
    consent.import_from_sources(db, steward)
    consent.grant(db, steward, oneids[0], "analytics", method="written", notice_version="v2", evidence_ref="EV-001")
    consent.withdraw(db, steward, oneids[0], "marketing", method="electronic")
    access = dsr.create(db, steward, "access", "王小明", oneids=[oneids[1]])
    dsr.verify(db, steward, access, "柜台核验身份证")
    dsr.create(db, steward, "deletion", "李四", oneids=[oneids[2]])
    retention.set_policy(db, steward, "source", "pos_sales", 30)  # due: its batch is made old below
    with db.cursor() as cur:
        cur.execute("UPDATE batches SET uploaded_at = uploaded_at - INTERVAL 60 DAY WHERE source = 'pos_sales'")
    done = jobs.create(db, "refresh_quality", steward, status="running")
    jobs.finish(db, done, {"rows": 10})
    failed = jobs.create(db, "resolve", steward, origin="cli", status="running")
    jobs.fail(db, failed, *jobs.failure(RuntimeError("model file unreadable"), tmp))
    _tags(db, steward)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STEWARD_DB", str(path))
        yield db, tmp / "files", oneids
    db.close()


def _tags(db, steward: str) -> None:
    """The tag library with its built-ins computed, and a steward's tag with two versions and reviews."""
    from governance.tags import compute, library
    from governance.tags.definitions import TagDefinition

    with db.transaction() as cur:
        library.ensure_builtins(cur)
    tag = TagDefinition("big_spender", "高消费客户", "Big spender", "value", "boolean",
                        {"when": {"all": [{"event": "spend", "days": 365, "gte": 1000},
                                          {"not": {"field": "province", "in": ["广东省"]}}]}}, "近一年消费满一千元。")
    library.save(db, steward, tag, "首版")
    library.submit(db, steward, "big_spender", "请审核")
    library.approve(db, USERS["admin"][0], "big_spender", "门槛合理")
    library.save(db, steward, replace(tag, technical={"when": {"event": "spend", "days": 365, "gte": 2000}}), "门槛提高")
    compute.compute(db, steward)


@dataclass(frozen=True)
class Data:
    values: list[str]  # data values that may appear anywhere (a source name in a sentence, a region in a chart)
    headers: frozenset[str]  # source-file headers: a raw-row table's columns


def workspace_data(db) -> Data:
    """What the workspace holds. Values longest first, so a value is taken out before any inside it."""
    with db.cursor() as cur:
        rows = cur.execute("""
            SELECT source FROM sources UNION SELECT file_name FROM batches
            UNION SELECT username FROM users UNION SELECT display_name FROM users
            UNION SELECT DISTINCT actor FROM audit_log
            UNION SELECT name FROM std_records UNION SELECT province FROM std_records
            UNION SELECT city FROM std_records UNION SELECT district FROM std_records
            UNION SELECT province FROM golden_records UNION SELECT city FROM golden_records
            UNION SELECT requester FROM dsr_requests UNION SELECT identity_check FROM dsr_requests
            UNION SELECT comment FROM review_decisions UNION SELECT notice_version FROM consent_records UNION SELECT rule_id FROM quality_rules
            UNION SELECT json_extract_string(result, '$.incident') FROM jobs
            UNION SELECT name_zh FROM tag_definitions UNION SELECT name_en FROM tag_definitions
            UNION SELECT business_definition FROM tag_definitions UNION SELECT product_category FROM std_events
            UNION SELECT comment FROM tag_reviews UNION SELECT reason FROM tag_definitions""").fetchall()
        headers = {h for (h,) in cur.execute("SELECT DISTINCT header FROM mapping_entries").fetchall()}
    values = {str(v) for (v,) in rows if v} | set(ENCODINGS)  # codec names are identifiers, never translated
    return Data(sorted(values, key=len, reverse=True), frozenset(headers - set(COLUMNS)))


def _plotly_strings(spec: dict) -> list[str]:
    """The strings a chart shows: trace names, categories, texts and hover texts, titles, annotations."""
    out: list[str] = []

    def title(node) -> None:
        text = node.get("text") if isinstance(node, dict) else node
        if isinstance(text, str):
            out.append(text)

    layout = spec.get("layout", {})
    # an axis with tick texts shows those, not its values (a heatmap keeps field codes as its x values)
    ticked = {key[0] for key, axis in layout.items() if key in ("xaxis", "yaxis") and (axis or {}).get("ticktext")}
    for trace in spec.get("data", []):
        for key in ("name", "x", "y", "text", "labels", "hovertemplate", "texttemplate"):
            if key in ticked:
                continue
            value = trace.get(key)
            values = value if isinstance(value, list) else [value]
            for v in values:
                for item in (v if isinstance(v, list) else [v]):
                    if isinstance(item, str):
                        out.append(re.sub(r"%\{[^}]*\}|<extra>.*?</extra>|<[^>]+>", " ", item))
        colorbar = (trace.get("colorbar") or trace.get("marker", {}).get("colorbar") or {})
        title(colorbar.get("title"))
    title(layout.get("title"))
    for key, axis in layout.items():
        if isinstance(axis, dict) and (key.startswith(("xaxis", "yaxis")) or key in ("legend", "coloraxis")):
            title(axis.get("title"))
            out += [str(t) for t in axis.get("ticktext", []) or []]
            title((axis.get("colorbar") or {}).get("title"))
    out += [a.get("text", "") for a in layout.get("annotations", []) or []]
    return [s for s in out if s.strip()]


def _cells(frame: pd.DataFrame, config: dict, kind: str, raw_headers: frozenset[str], editor: bool = False) -> list[Shown]:
    # the grid's word for a table without rows (an editor without rows offers to add one)
    out = [Shown(kind, "empty", data=True)] if len(frame) == 0 and not editor else []
    for column in frame.columns:
        name = str(column)
        column_config = config.get(name) or {}
        type_config = column_config.get("type_config") or {}
        raw = name in raw_headers  # a raw-row table: the source file's own header and cells
        out.append(Shown(f"{kind} header of {name}", str(column_config.get("label") or name), data=raw))
        data = raw or name in DATA_COLUMNS
        formatted = bool(type_config.get("format")) or column_config.get("type") == "progress"
        shown_as = {o.get("value"): o.get("label") for o in type_config.get("options") or [] if isinstance(o, dict)}
        for cell in frame[column].tolist():
            if isinstance(cell, np.ndarray):
                cell = cell.tolist()
            if shown_as and cell in shown_as:
                cell = shown_as[cell]  # a selectbox column shows its option's label
            if isinstance(cell, float) and not pd.isna(cell):
                if not formatted:  # a column without a display format shows the float as it is
                    out.append(Shown(f"{kind} {name}", repr(cell), data=True))
                continue
            if isinstance(cell, bool | np.bool_):
                continue  # the grid shows a check box
            if cell is None or cell is pd.NaT:  # the grid writes "None" in a cell without a text or a time
                out.append(Shown(f"{kind} {name}", "None", data=True))
                continue
            if not isinstance(cell, list | tuple | dict) and pd.isna(cell):
                continue  # a missing number
            if isinstance(cell, datetime | date):
                continue  # the grid formats dates and times itself
            if isinstance(cell, list | tuple):
                text = ", ".join(str(c) for c in cell)
            else:
                text = str(cell)
            out.append(Shown(f"{kind} {name}", text, data=data))
    return out


def shown(at, raw_headers: frozenset[str] = frozenset()) -> list[Shown]:
    """Everything the page shows, each piece with where it is."""
    out: list[Shown] = []
    for node in at._tree:
        kind = getattr(node, "type", None) or type(node).__name__
        if kind == "plotly_chart":
            out += [Shown("chart", s) for s in _plotly_strings(json.loads(node.proto.spec))]
            continue
        if kind in ("arrow_data_frame", "dataframe") or type(node).__name__ == "Dataframe":
            out += _cells(node.value, json.loads(node.proto.columns or "{}"), "table", raw_headers,
                          editor=bool(getattr(node.proto, "editing_mode", 0)))
            continue
        label = getattr(node, "label", None)
        for attribute in ("label", "help", "placeholder"):
            value = getattr(node, attribute, None)
            if isinstance(value, str) and value.strip():
                out.append(Shown(f"{kind} {attribute}", value))
        options = getattr(node, "options", None)
        if getattr(node, "key", None) == "lang":
            continue  # the language box names each language in that language
        if options is not None:
            out += [Shown(f"{kind} {label!r} option", str(o)) for o in options]
            continue  # a choice widget shows its formatted options (above), not its Python value
        if kind in ("text_input", "text_area", "number_input", "date_input", "slider", "checkbox", "toggle",
                    "file_uploader", "button", "download_button", "form_submit_button"):
            continue  # a typed value is the user's data; a button's label is above
        try:
            value = node.value
        except Exception:  # blocks and elements without a value
            continue
        if kind == "metric":
            out.append(Shown("metric value", str(value)))
            delta = getattr(node.proto, "delta", "")
            if delta:
                out.append(Shown("metric delta", str(delta)))
        elif isinstance(value, str) and value.strip():
            out.append(Shown(kind, value))
    return out


def _strip_data(text: str, values: list[str]) -> str:
    text = ONEID.sub(" ", EMAIL.sub(" ", FILE_PATH.sub(" ", EXAMPLE.sub(" ", text))))
    for value in values:
        if value in text:
            text = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])", " ", text)
    return MASKED_NAME.sub(" ", text)


def offences(items: list[Shown], lang: str, values: list[str], headers: frozenset[str] = frozenset()) -> list[str]:
    """The pieces of `items` outside `lang`, each as 'where: what'. An audit detail may also name a
    source file's `headers` (a mapping change)."""
    bad = []
    with_headers = sorted([*values, *headers], key=len, reverse=True)
    for item in items:
        text = item.text.strip()
        if text in BAD_CELLS or (lang == "zh" and text in BAD_CELLS_ZH):
            bad.append(f"{item.where}: {text!r}")
            continue
        long = LONG_FLOAT.findall(text)
        if long and not ONEID.search(text):
            bad.append(f"{item.where}: number {long[0]} in {text[:80]!r}")
        if item.data:
            continue
        rest = _strip_data(text, with_headers if item.where == "table detail" else values)
        if lang == "zh":
            words = [w for w in LATIN.findall(rest) if w not in PRODUCT_NAMES and len(w) > 1]
            if words:
                bad.append(f"{item.where}: {words} in {text[:120]!r}")
        else:
            chars = CJK.findall(rest)
            if chars:
                bad.append(f"{item.where}: {chars} in {text[:120]!r}")
    return sorted(set(bad))


def _rejected_password(at, lang: str):
    """Add a user with a too-short password: the library's refusal is shown in the page's language."""
    at.text_input(key="users_add_username").input("new_user")
    at.text_input(key="users_add_password").input("short")
    next(b for b in at.button if b.label == t("users.create", lang)).click().run()
    assert at.error, "the form should refuse a short password"
    return at


def interactions(url: str, files, oneids: list[str], lang: str) -> list:
    """Deeper states worth reading beyond each page's first screen."""
    if url == "sources":
        return [lambda at, s=s: at.selectbox(key="sources_pick").set_value(s).run()
                for s in ("crm_members", "wechat_mp_member", "douyin_orders")]
    if url == "quality":
        return [lambda at, f=f: at.selectbox(key="drill_field").set_value(f).run() for f in ("mobile", "name", "email")]
    if url == "review":
        return [lambda at: at.text_input(key="cluster_oneid").input(oneids[0]).run()]
    if url == "customer360":
        return [lambda at, o=o: at.text_input(key="c360_query").input(o).run() for o in oneids[:2]]
    if url == "consent":
        return [lambda at: at.text_input(key="consent_oneid").input(oneids[0]).run()]
    if url == "requests":
        return [lambda at: at.selectbox(key="dsr_pick").set_value(1).run()]  # the access request
    if url == "upload":
        return [lambda at, f=f: at.file_uploader(key="upload_file").set_value((f.name, f.read_bytes(), "text/csv")).run()
                for f in sorted(files.glob("*.csv"))[:2] if f.name != "truth.csv"]
    if url == "tags":
        return [lambda at, c=c: at.selectbox(key="tags_pick").set_value(c).run()
                for c in ("lifecycle_stage", "big_spender", "rfm_monetary_365", "member_tier")]
    if url == "audiences":  # a rule (its count and exclusions), then the masked sample and the breakdowns
        return [lambda at: at.text_input(key="aud_rule0_0_text").input("广东省").run(),
                lambda at: at.button(key="aud_sample_button").click().run(),
                lambda at: at.button(key="aud_breakdown_button").click().run()]
    if url == "users":
        return [lambda at: at.selectbox(key="users_pick").set_value(USERS["analyst"][0]).run(),
                lambda at: _rejected_password(at, lang)]
    return []


def _render(db, role: str, lang: str):
    at = app_test(db, USERS[role][0], lang=lang).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("url, path, role, lang", CASES, ids=[f"{u}-{r}-{lang}" for u, _, r, lang in CASES])
def test_every_page_reads_in_one_language(workspace, url, path, role, lang):
    db, files, oneids = workspace
    data = workspace_data(db)
    at = _render(db, role, lang)
    at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    items = shown(at, data.headers)
    for act in interactions(url, files, oneids, lang):
        act(at)
        assert not at.exception, [e.value for e in at.exception]
        items += shown(at, data.headers)
    assert len(items) > 10  # the page did render content
    found = offences(items, lang, data.values, data.headers)
    assert not found, f"page {url}, role {role}, language {lang}:\n" + "\n".join(found)


@pytest.mark.parametrize("role", auth.ROLES)
@pytest.mark.parametrize("lang", LANGS)
def test_the_app_shell_reads_in_one_language(workspace, role, lang):
    """The sidebar (language box, signed-in line, menu, job panel) of a signed-in user."""
    db, _, _ = workspace
    at = _render(db, role, lang)
    items = [i for i in shown(at) if i.where != "chart"]
    sidebar = shown_in(at.sidebar)
    assert len(sidebar) > 3
    found = offences(items + sidebar, lang, workspace_data(db).values)
    assert not found, f"app shell, role {role}, language {lang}:\n" + "\n".join(found)


def shown_in(block) -> list[Shown]:
    class _Tree:
        _tree = list(block)
    return shown(_Tree)


@pytest.mark.parametrize("lang", LANGS)
def test_the_sign_in_page_reads_in_one_language(lang):
    at = app_test(lang=lang).run()
    found = offences(shown(at), lang, [])
    assert not found, f"sign-in page, language {lang}:\n" + "\n".join(found)


def test_the_check_finds_what_leaks():
    """The check is not blind: codes, English in Chinese, Chinese in English, raw numbers and empty
    cells are reported; data and product names are not."""
    zh = [Shown("table reason", "MOBILE_PRECISION_LOSS"), Shown("markdown", "规则 source_priority"),
          Shown("caption", "The password must have at least 10 characters."), Shown("metric value", "92.26631427940853"),
          Shown("table status", "None"), Shown("table name", "Zhang Wei", data=True),
          Shown("caption", "数据源 crm_members 的 OneID OID0000000001，文件 CSV"),
          Shown("table header of x", "姓名")]
    found = offences(zh, "zh", ["crm_members"])
    assert len(found) == 5 and not any("Zhang" in f or "crm_members" in f or "OneID" in f for f in found), found
    en = [Shown("markdown", "Reason: 手机号无效"), Shown("table name", "李四", data=True),
          Shown("selectbox 'Pair' option", "李* · WeChat ↔ 王* · Tmall"), Shown("chart", "广东省")]
    assert offences(en, "en", ["广东省"]) == ["markdown: ['手机号无效'] in 'Reason: 手机号无效'"]


def test_every_page_is_read():
    assert {url for url, *_ in CASES} == {url for _, url, *_ in app_pages()}
    assert ("users", "pages/users.py", "analyst", "zh") not in CASES
