"""AppTest for every page: what each role (and an anonymous visitor) can reach and do."""
from __future__ import annotations

import json

import pytest

from governance.access import auth, events
from governance.sources import ingest
from helpers import MOBILE, PASSWORDS, app_test
from helpers import visible_text as texts

PAGES = {"home": "pages/home.py", "sources": "pages/sources.py", "upload": "pages/upload.py",
         "quality": "pages/quality.py", "rules": "pages/rules.py", "review": "pages/review.py",
         "users": "pages/users.py", "audit": "pages/audit.py", "ropa": "pages/ropa.py",
         "masking": "pages/masking_policies.py", "customer360": "pages/customer360.py", "export": "pages/export.py",
         "consent": "pages/consent.py", "requests": "pages/requests.py", "retention": "pages/retention.py",
         "tags": "pages/tags.py", "audiences": "pages/audiences.py", "api_keys": "pages/api_keys.py"}
REACHABLE = {
    "admin": set(PAGES),
    "steward": {"home", "sources", "upload", "quality", "rules", "review", "ropa", "customer360", "export", "consent",
                "requests", "retention", "tags", "audiences"},
    "analyst": {"home", "sources", "quality", "review", "customer360", "consent", "tags", "audiences"},
}
TITLES = {"home": "Home", "sources": "Sources", "upload": "Upload & map", "quality": "Quality", "rules": "Rules",
          "review": "OneID review", "users": "Users", "audit": "Audit log", "ropa": "Record of processing",
          "masking": "Masking policies", "customer360": "Customer 360", "export": "Export", "consent": "Consent ledger",
          "requests": "Requests", "retention": "Retention", "tags": "Tags",
          "audiences": "Audiences", "api_keys": "API keys"}


@pytest.fixture
def loaded(app_db, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text("会员卡号,姓名,手机号,身份证号\nM1,张伟,13800138000,11010519491231002X\n"
                    "M2,欧阳娜娜,13912345678,440524188001010014\n", encoding="utf-8")
    ingest.ingest_file(app_db, path, actor="steward", channel="crm")
    return app_db


@pytest.mark.parametrize("role", sorted(REACHABLE))
@pytest.mark.parametrize("page", sorted(PAGES))
def test_role_page_access(loaded, role, page):
    at = app_test(loaded, role)
    at.run()
    try:
        at.switch_page(PAGES[page]).run()
    except ValueError:  # not registered for this role: Streamlit refuses the page
        assert page not in REACHABLE[role]
        return
    assert not at.exception
    if page in REACHABLE[role]:
        assert [t.value for t in at.title] == [TITLES[page]]
    else:
        assert [e.value for e in at.error] == ["Your role does not have access to this page."]
        assert not at.title and not at.dataframe


@pytest.mark.parametrize("page", sorted(PAGES))
def test_anonymous_first_request_is_stopped_by_the_guard(loaded, page, cold_server):
    """A fresh server can run a pages/ script without app.py (streamlit-notes §1): the guard stops it."""
    at = app_test()
    at.switch_page(PAGES[page]).run()  # no run() before: the very first request
    assert not at.exception
    assert not at.text_input
    assert [w.value for w in at.warning] == ["Please sign in first."]
    assert not at.title and not at.dataframe and not at.button


def test_anonymous_sees_only_the_sign_in_form(loaded):
    at = app_test()
    at.run()
    assert [t.value for t in at.title] == ["Steward customer-data workbench"]
    assert len(at.text_input) == 2 and not at.dataframe
    assert not at.get("page_link")  # no page list for an anonymous session


@pytest.mark.parametrize("role", sorted(REACHABLE))
def test_the_sidebar_menu_lists_the_roles_pages_only(loaded, role):
    at = app_test(loaded, role).run()
    assert sorted(link.proto.label for link in at.sidebar.get("page_link")) == sorted(
        TITLES[page] for page in REACHABLE[role])


def test_an_unreadable_secrets_file_is_one_message_not_a_traceback(tmp_path, monkeypatch):
    bad = tmp_path / "secrets.toml"
    bad.write_text('cookie_key = "unterminated\n', encoding="utf-8")
    monkeypatch.setenv("STEWARD_SECRETS_FILE", str(bad))
    monkeypatch.setenv("STEWARD_DB", str(tmp_path / "fresh.duckdb"))
    at = app_test()
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "Cannot read the secrets file" in at.error[0].value
    assert not at.text_input  # no sign-in form on a store that cannot start


def test_an_unexpected_failure_on_a_page_shows_an_incident_not_a_traceback(loaded, monkeypatch):
    from governance import pipeline

    def broken(_cur):
        raise RuntimeError("detail with 13912345678")

    monkeypatch.setattr(pipeline, "overview", broken)
    at = app_test(loaded, "steward").run()
    assert not at.exception
    assert len(at.error) == 1 and "incident" in at.error[0].value and "13912345678" not in texts(at)
    incident = at.error[0].value.split("incident ")[1].split(")")[0]
    log = (loaded.path.parent / "incidents.log").read_text(encoding="utf-8")
    assert f"incident {incident}" in log and "detail with 13912345678" in log


def sign_in(at, username: str, password: str):
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return at


def test_sign_in_with_the_form_opens_home_and_audits(loaded):
    at = sign_in(app_test().run(), "steward", PASSWORDS["steward"])
    assert not at.exception
    assert [t.value for t in at.title] == ["Home"]
    with loaded.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM user_sessions WHERE username = 'steward'").fetchone()[0] == 1
        assert cur.execute("SELECT actor FROM audit_log WHERE action = 'login.success'").fetchall() == [("steward",)]


def test_a_wrong_password_a_locked_account_and_an_unknown_user_get_one_answer(loaded):
    at = app_test().run()
    failed = "Sign-in failed: wrong username or password."
    for _ in range(5):
        sign_in(at, "analyst", "not-the-password")
        assert len(at.error) == 1 and at.error[0].value.startswith(failed)
    answers = set()
    for user, password in (("analyst", PASSWORDS["analyst"]), ("nobody", "not-the-password"), ("analyst", "x")):
        sign_in(at, user, password)  # right password but locked; no such user; wrong password and locked
        answers.add(tuple(e.value for e in at.error))
        assert not at.session_state["authentication_status"]
    assert len(answers) == 1 and next(iter(answers))[0].startswith(failed)
    with loaded.cursor() as cur:  # the audit log still tells them apart
        reasons = [json.loads(d)["reason"] for (d,) in cur.execute(
            "SELECT detail FROM audit_log WHERE action = 'login.failure' ORDER BY id").fetchall()]
    assert reasons[-3:] == ["locked", "unknown_user", "locked"]


def test_sign_out_revokes_the_session_for_good(loaded):
    at = app_test(loaded, "steward").run()
    session_id = at.session_state["steward_session"]
    at.sidebar.button(key="logout_button").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Steward customer-data workbench"]
    with loaded.cursor() as cur:
        assert auth.session_user(cur, session_id) is None
    # a copy of the old session (as a copied cookie would carry) is refused
    replay = app_test()
    for key, value in {"steward_session": session_id, "authentication_status": True, "username": "steward",
                       "name": "steward", "roles": ["steward"]}.items():
        replay.session_state[key] = value
    replay.run()
    assert [t.value for t in replay.title] == ["Steward customer-data workbench"]
    assert "Your session has ended" in texts(replay)


def test_disabled_user_is_signed_out_on_next_run(loaded):
    at = app_test(loaded, "analyst").run()
    assert [t.value for t in at.title] == ["Home"]
    auth.set_disabled(loaded, "admin", "analyst", True)
    at.run()
    assert [t.value for t in at.title] == ["Steward customer-data workbench"]


def test_chinese_is_the_default_language(loaded):
    at = app_test(loaded, "steward", lang="zh").run()
    assert [t.value for t in at.title] == ["首页"]
    at.session_state["lang"] = "en"
    at.run()
    assert [t.value for t in at.title] == ["Home"]


def test_home_shows_the_workspace(loaded):
    at = app_test(loaded, "analyst").run()
    # nothing profiled or resolved yet; then the scorecard's four rates, none yet
    assert [m.value for m in at.metric] == ["1", "1", "2", "3", "—", "0", "0", "0", "—", "—", "—", "—"]
    assert at.get("plotly_chart")


@pytest.mark.parametrize("role", ["analyst", "steward", "admin"])
def test_sources_page_masks_personal_data_by_default(loaded, role):
    at = app_test(loaded, role).run()
    at.switch_page(PAGES["sources"]).run()
    assert not at.exception
    shown = texts(at)
    assert "138****8000" in shown and "张*" in shown and "欧阳**" in shown
    assert not MOBILE.search(shown) and "11010519491231002X" not in shown
    assert bool(at.toggle) == (role != "analyst")  # only stewards and admins may reveal


def test_steward_reveal_needs_a_reason_and_is_audited_once_per_view(loaded):
    at = app_test(loaded, "steward").run()
    at.switch_page(PAGES["sources"]).run()
    at.toggle(key="sources_reveal").set_value(True).run()
    assert "13800138000" not in texts(at) and "Enter a reason" in texts(at)  # no reason yet: still masked
    at.text_input(key="sources_reveal_reason").input("customer called about a wrong number").run()
    assert "13800138000" in texts(at)
    at.run()  # a rerun of the same view is not a new reveal
    with loaded.cursor() as cur:
        rows = cur.execute("SELECT actor, object_type, detail FROM audit_log WHERE action = 'pii.reveal'").fetchall()
    assert len(rows) == 1 and rows[0][:2] == ("steward", "batch")
    assert '"reason": "customer called about a wrong number"' in rows[0][2]


def test_analyst_cannot_edit_the_mapping(loaded):
    at = app_test(loaded, "analyst").run()
    at.switch_page(PAGES["sources"]).run()
    assert not [b for b in at.button if b.key == "save_mapping"]


def test_steward_edits_the_mapping(loaded):
    at = app_test(loaded, "steward").run()
    at.switch_page(PAGES["sources"]).run()
    at.session_state["mapping_editor_crm_1"] = {"edited_rows": {0: {"field": ""}}, "added_rows": [], "deleted_rows": []}
    at.button(key="save_mapping").click().run()
    assert not at.exception
    with loaded.cursor() as cur:
        from governance.sources import mapping
        assert mapping.current_version(cur, "crm") == 2
        assert mapping.load(cur, "crm")["会员卡号"] is None


def test_upload_gbk_csv_confirm_and_see_the_batch(app_db):
    at = app_test(app_db, "steward").run()
    at.switch_page(PAGES["upload"]).run()
    at.text_input(key="upload_new_source").input("门店POS")
    at.selectbox(key="upload_channel").set_value("pos")
    data = "门店会员消费明细\n\n会员卡号,姓名,手机,性别\nP1,王芳,13512345678,女\nP2,李娜,+86 13612345678,女\n".encode("gbk")
    at.file_uploader(key="upload_file").set_value(("pos.csv", data, "text/csv")).run()
    assert not at.exception, at.exception
    assert "encoding gb18030" in texts(at) and "header on line 3" in texts(at)
    assert "13512345678" not in texts(at)  # the preview is masked
    at.button(key="upload_confirm").click().run()
    assert not at.exception
    assert at.success and at.success[0].value.startswith("Loaded batch 1: 2 rows, 4 columns")
    with app_db.cursor() as cur:
        assert cur.execute("SELECT source, channel, encoding, row_count FROM batches").fetchall() == [
            ("门店POS", "pos", "gb18030", 2)]


def test_upload_bad_file_shows_error_and_stores_nothing(app_db):
    at = app_test(app_db, "steward").run()
    at.switch_page(PAGES["upload"]).run()
    at.text_input(key="upload_new_source").input("bad")
    at.file_uploader(key="upload_file").set_value(("bad.csv", b"\x00\x01\x02" * 100, "text/csv")).run()
    assert at.error and "binary" in at.error[0].value
    with app_db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM batches").fetchone()[0] == 0


def test_admin_adds_a_user(loaded):
    at = app_test(loaded, "admin").run()
    at.switch_page(PAGES["users"]).run()
    at.text_input[0].input("carol")
    at.text_input[1].input("Carol")
    at.text_input[3].input("carol-pass-123")
    at.button[0].click().run()
    assert not at.exception
    assert "Created user carol." in [s.value for s in at.success]
    assert auth.authenticate(loaded, "carol", "carol-pass-123").ok


def test_admin_audit_page_lists_filters_and_verifies(loaded):
    at = app_test(loaded, "admin").run()
    at.switch_page(PAGES["audit"]).run()
    assert not at.exception
    label = events.label("ingest.batch", "en")  # the action as the table names it, not its code
    assert label in texts(at) and "ingest.batch" not in texts(at)
    at.selectbox(key="audit_action").set_value("ingest.batch").run()
    assert at.dataframe[0].value["action"].tolist() == [label]
    at.button(key="audit_verify").click().run()
    assert at.success and "Hash chain intact" in at.success[0].value


def test_steward_assigns_a_source_steward(loaded):
    at = app_test(loaded, "steward").run()
    at.switch_page(PAGES["sources"]).run()
    at.text_input(key="sources_steward_crm").input("王经理")
    at.button(key="sources_set_steward").click().run()
    assert not at.exception
    with loaded.cursor() as cur:
        assert cur.execute("SELECT steward FROM sources WHERE source = 'crm'").fetchone() == ("王经理",)
        assert cur.execute("SELECT actor FROM audit_log WHERE action = 'source.steward'").fetchone() == ("steward",)
