"""In Chromium against `streamlit run`, on a smaller demo workspace: a steward builds an audience with the rule
builder (a published tag and a golden attribute), sees the count with who is left out and why, saves it,
compares it with another saved audience, downloads its SMS file and its SHA-256 Ocean Engine (Douyin) DMP
file, and pushes it to a webhook an admin configured: a receiver started here checks the signature.
The files hold the eligible people's mobiles only, as the store and the CLI count them."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import seed_users, serve
from playwright.sync_api import expect

from governance.store.config import secrets_path
from helpers import ROOT
from streamlit_browser import download, open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.browser

NAME = "churn_big_cities"
OTHER = "guangdong"
SECRET_NAME = "webhook_e2e"
RULE = {"all": [{"tag": "lifecycle_stage", "in": ["churned", "dormant", "active"]},
                {"field": "province", "in": ["广东省", "上海市", "北京市"]}]}
MOBILE = re.compile(r"1[3-9][0-9]{9}")
# a fifth of the demo's customers: the same generator and loading, every exclusion the flow checks still
# occurs (no consent, withdrawn) and some of the SMS audience may be uploaded, some may not
CUSTOMERS = 600


def cli(db_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "governance", "--db", str(db_path), *args], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)


class Receiver(BaseHTTPRequestHandler):
    """A webhook that keeps what it was sent (in its server's `received`) and answers 200."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.path, dict(self.headers), body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:  # keep the test's output quiet
        pass


@pytest.fixture
def audience_server(tmp_path, monkeypatch):
    from governance import pipeline
    from governance.audiences import library
    from governance.privacy import consent
    from governance.tags import library as tags

    # the server, the CLI and this process read one secrets file: the test's, plus the webhook's key
    secret = secrets.token_hex(32)
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(secrets_path().read_text(encoding="utf-8") + f'{SECRET_NAME} = "{secret}"\n',
                            encoding="utf-8")
    secrets_file.chmod(0o600)
    monkeypatch.setenv("STEWARD_SECRETS_FILE", str(secrets_file))

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    receiver.received = []
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/steward-hook"

    db_path = tmp_path / "e2e.duckdb"
    db = seed_users(db_path)
    with db.transaction() as cur:
        tags.ensure_builtins(cur)
    pipeline.load_demo(db, tmp_path / "demo", n_customers=CUSTOMERS)
    library.save(db, "admin", OTHER, {"field": "province", "eq": "广东省"}, "marketing")
    # an ad-platform upload needs third-party sharing as well: every other marketing consenter gave it
    with db.cursor() as cur:
        marketing = [r[0] for r in cur.execute("SELECT oneid FROM consent_current WHERE purpose = 'marketing' "
                                               "AND state = 'granted' ORDER BY oneid").fetchall()]
    for oneid in marketing[::2]:
        consent.grant(db, "admin", oneid, consent.THIRD_PARTY, method="written")
    db.close()
    made = cli(db_path, "destinations", "add", "e2e-hook", "--kind", "webhook", "--target", hook,
               "--secret-name", SECRET_NAME, "--actor", "admin")
    assert made.returncode == 0, made.stdout + made.stderr
    try:
        with serve(db_path, tmp_path) as server:
            yield server | {"secret": secret, "received": receiver.received}
    finally:
        receiver.shutdown()
        receiver.server_close()


def choose(page, key: str, option: str) -> None:
    """Pick `option` in the selectbox with widget key `key`."""
    page.locator(f".st-key-{key}").click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def choose_many(page, key: str, options: list[str]) -> None:
    """Pick each of `options` in the multiselect with widget key `key`."""
    for option in options:
        page.locator(f".st-key-{key} input").click()
        page.get_by_role("option", name=option, exact=True).click()
        wait_idle(page)
    page.keyboard.press("Escape")


def fill(page, key: str, text: str) -> None:
    box = page.locator(f".st-key-{key} input, .st-key-{key} textarea").first
    box.fill(text)
    box.press("Tab")
    wait_idle(page)


def grid_rows(page, *headers: str) -> list[list[str]]:
    """The rows of the dataframe with columns headed `headers`, as the grid's accessible table gives them."""
    frame = page.locator("[data-testid='stDataFrame']")
    for header in headers:
        frame = frame.filter(has=page.locator("th[role='columnheader']", has_text=header))
    expect(frame).to_have_count(1, timeout=20_000)
    rows = frame.locator("tbody tr[role='row']")
    return [[c.strip() for c in row.locator("td[role='gridcell']").all_inner_texts()] for row in rows.all()]


def test_build_save_export_and_push_an_audience(audience_server, browser, tmp_path):
    url = audience_server["url"]
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1600},
                               accept_downloads=True).new_page()
    sign_in(page, url, "steward")
    open_page(page, "人群圈选")

    # the builder: a published tag, then a golden attribute; purpose marketing and channel SMS by default
    choose(page, "aud_rule0_0_kind", "已发布标签")
    choose(page, "aud_rule0_0_subject", "生命周期阶段")
    choose(page, "aud_rule0_0_op", "属于")
    choose_many(page, "aud_rule0_0_values", ["流失", "沉睡", "活跃"])
    page.locator(".st-key-aud_rule0_rows_add button").click()
    wait_idle(page)
    choose(page, "aud_rule0_1_op", "属于")
    fill(page, "aud_rule0_1_text", "广东省、上海市、北京市")

    members = page.locator("[data-testid='stMetric']").filter(has_text="可触达人数")
    expect(members).to_have_count(1, timeout=20_000)
    expect(page.get_by_text("被排除的人及原因")).to_be_visible()
    excluded_shown = dict(grid_rows(page, "原因", "人数"))
    expect(page.get_by_text("以上排除是强制的", exact=False)).to_be_visible()
    shown_members = int(members.locator("[data-testid='stMetricValue']").inner_text().replace(",", ""))
    screenshot(page, "audience-count")

    fill(page, "aud_save_name", NAME)
    fill(page, "aud_save_description", "流失与沉睡客户，北上广")
    page.get_by_role("button", name="保存人群").click()
    wait_idle(page)
    expect(page.get_by_text(f"已保存：{NAME} 版本 1。")).to_be_visible(timeout=20_000)

    # the overlap with the other saved audience
    page.get_by_role("tab", name="已保存的人群").click()
    choose_many(page, "aud_overlap_pick", [NAME, OTHER])
    page.locator(".st-key-aud_overlap_button button").click()
    wait_idle(page)
    expect(page.locator(".st-key-aud_overlap_chart")).to_be_visible(timeout=20_000)
    ((a, b, _, _, both_shown, _),) = grid_rows(page, "两者都在")
    assert (a, b) == (NAME, OTHER)
    screenshot(page, "audience-overlap")

    # activation files through the download button: SMS, then Douyin DMP with SHA-256
    page.get_by_role("tab", name="激活与推送").click()
    choose(page, "aud_act_name", NAME)
    page.locator(".st-key-aud_export_button button").click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"文件已生成：steward-.*-sms-.*\.txt"))).to_be_visible(timeout=30_000)
    sms = download(page, page.locator(".st-key-aud_download button"), tmp_path)
    choose(page, f"aud_act_channel_{NAME}", "巨量引擎（抖音）人群包")
    expect(page.locator(".st-key-aud_act_hash").get_by_role("radio", name="SHA-256")).to_be_checked()
    page.locator(".st-key-aud_export_button button").click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"文件已生成：steward-.*-douyin_dmp-.*\.txt"))).to_be_visible(timeout=30_000)
    dmp = download(page, page.locator(".st-key-aud_download button"), tmp_path)

    # a push of the DMP file to the admin's webhook
    page.locator(".st-key-aud_push_button button").click()
    wait_idle(page)
    expect(page.get_by_text("已推送到 e2e-hook", exact=False)).to_be_visible(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "audience-pushed")
    audience_server["stop"]()

    from governance.access import audit
    from governance.audiences import library
    from governance.audiences import members as audience_members
    from governance.store.storage import open_database
    db = open_database(audience_server["db_path"])
    with db.cursor() as cur:
        saved = library.get(cur, NAME)
        eligible = cur.execute(f"SELECT g.oneid, g.mobile FROM golden_wide g WHERE g.oneid IN "
                               f"({audience_members.eligible_sql(cur, RULE, 'marketing', 'sms')})").fetchall()
        uploadable = cur.execute(f"SELECT g.oneid, g.mobile FROM golden_wide g WHERE g.oneid IN "
                                 f"({audience_members.eligible_sql(cur, RULE, 'marketing', 'douyin_dmp')})").fetchall()
        left_out = cur.execute(f"SELECT r.reason, g.mobile FROM ({audience_members.reasons_sql(cur, RULE, 'marketing', 'sms')}) r "
                               f"JOIN golden_wide g USING (oneid) WHERE r.reason IS NOT NULL").fetchall()
        overlap_both = library.overlap(cur, [NAME, OTHER]).query("a != b")["both"].iloc[0]
        exports = cur.execute("SELECT channel, row_count, checksum, destination, status FROM activations "
                              "WHERE audience = ? ORDER BY activation_id", [NAME]).fetchall()
        audited = [r[0] for r in cur.execute("SELECT action FROM audit_log WHERE object_id = ? AND actor = 'steward' "
                                             "ORDER BY id", [NAME]).fetchall()]
        chain = audit.verify_chain(cur)  # the page's, the CLI's and the test's records: one intact chain
    db.close()
    assert chain.ok, chain
    assert saved.owner == "steward"
    assert saved.rule == RULE and saved.purpose == "marketing"
    assert int(both_shown) == overlap_both

    counted = cli(audience_server["db_path"], "audiences", "count", NAME, "--json")
    assert counted.returncode == 0, counted.stderr
    count = json.loads(counted.stdout)
    assert count["members"] == shown_members == len(eligible) > 0
    assert {"no_consent", "withdrawn"} <= {reason for reason, _ in left_out}  # people the exclusions hold back
    assert count["excluded"]["no_consent"] > 0 and count["excluded"]["withdrawn"] > 0
    labels = {"no_consent": "未授予该用途的同意", "withdrawn": "已撤回同意或同意已过期", "minor": "未满 14 岁且无监护人同意",
              "no_contact": "该渠道没有可用的联系方式"}
    assert {labels[r]: str(n) for r, n in count["excluded"].items() if r in labels} == {
        k: v.replace(",", "") for k, v in excluded_shown.items() if k in labels.values()}
    assert len(excluded_shown) == 5  # erased too: every reason has its row, none can be taken away

    # the SMS file: the first mainland mobile of each eligible person, nobody else's
    expected = sorted({next(m.group() for v in mobile.split(" | ") if (m := MOBILE.fullmatch(v.strip())))
                       for _, mobile in eligible})
    sms_lines = sms.read_text(encoding="utf-8").splitlines()
    assert all(re.fullmatch(r"1[3-9][0-9]{9}", line) for line in sms_lines)
    assert sms_lines == expected
    held_back = {m for _, mobile in left_out for m in MOBILE.findall(mobile or "")} - set(expected)
    assert held_back and not held_back & set(sms_lines)  # the rule matched them; the file leaves them out

    # the DMP file: lower-case hex SHA-256 of the mobiles of those who also allowed third-party sharing
    shared = sorted({next(m.group() for v in mobile.split(" | ") if (m := MOBILE.fullmatch(v.strip())))
                     for _, mobile in uploadable})
    assert 0 < len(shared) < len(expected) and set(shared) < set(expected)
    dmp_lines = dmp.read_text(encoding="utf-8").splitlines()
    assert sorted(dmp_lines) == sorted(hashlib.sha256(m.encode()).hexdigest() for m in shared)
    assert all(re.fullmatch(r"[0-9a-f]{64}", line) for line in dmp_lines)

    # the webhook got the DMP file once, signed with the secret from the secrets file
    ((path, headers, body),) = audience_server["received"]
    headers = {k.lower(): v for k, v in headers.items()}
    assert path == "/steward-hook" and body == dmp.read_bytes()
    mac = hmac.new(audience_server["secret"].encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-steward-signature"], f"sha256={mac}")
    assert headers["x-steward-checksum"] == f"sha256={hashlib.sha256(body).hexdigest()}"
    assert headers["x-steward-channel"] == "douyin_dmp" and headers["x-steward-rows"] == str(len(shared))

    assert [(c, n, d, s) for c, n, _, d, s in exports] == [
        ("sms", len(expected), None, "written"), ("douyin_dmp", len(shared), None, "written"),
        ("douyin_dmp", len(shared), "e2e-hook", "delivered")]
    assert exports[1][2] == exports[2][2] == hashlib.sha256(body).hexdigest()
    assert {"audience.save", "audience.export", "audience.push"} <= set(audited)
