"""AppTest for the API keys page: an admin creates a key (shown once), sees it listed and revokes it;
stewards and analysts do not reach the page."""
from __future__ import annotations

import pytest

from governance.api import keys
from helpers import app_test, visible_text


def _open(db, username: str, lang: str = "en"):
    at = app_test(db, username, lang=lang).run()
    at.switch_page("pages/api_keys.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_admin_creates_a_key_shown_once_lists_and_revokes_it(app_db):
    at = _open(app_db, "admin")
    assert [t.value for t in at.title] == ["API keys"]
    assert "There are no API keys yet." in visible_text(at)
    at.text_input(key="apikeys_name").set_value("CRM-Sync")
    assert at.selectbox(key="apikeys_role").options == ["analyst", "steward"]  # never an admin key
    assert at.selectbox(key="apikeys_purpose").value == "marketing"
    at.selectbox(key="apikeys_role").set_value("steward")
    at.selectbox(key="apikeys_purpose").set_value("analytics")
    at.multiselect(key="apikeys_scopes").set_value(["tags:read", "customers:read"])
    at.checkbox(key="apikeys_no_expiry").uncheck()
    at.number_input(key="apikeys_rate").set_value(30)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, [e.value for e in at.exception]
    shown = [c.value for c in at.code]
    assert len(shown) == 1 and shown[0].startswith("stw_")
    with app_db.cursor() as cur:
        key = keys.verify(cur, shown[0])
        stored = cur.execute("SELECT key_hash FROM api_keys").fetchone()[0]
    assert key is not None and (key.name, key.role, key.scopes, key.purpose, key.rate_per_minute) == \
        ("crm-sync", "steward", ("tags:read", "customers:read"), "analytics", 30)
    assert key.expires_at is not None and stored != shown[0]
    listed = at.dataframe[0].value
    assert listed["name"].tolist() == ["crm-sync"] and listed["key_status"].tolist() == ["active"]
    assert listed["purpose"].tolist() == ["Analytics"]
    assert listed["prefix"].tolist() == [shown[0][:12]] and shown[0] not in listed.to_string()

    at.run()  # any later run: the key is gone from the page
    assert not at.code

    assert at.button(key="apikeys_revoke").disabled  # needs the confirmation first
    at.checkbox(key="apikeys_revoke_confirm").check().run()
    at.button(key="apikeys_revoke").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Revoked the key crm-sync." in visible_text(at)
    assert at.dataframe[0].value["key_status"].tolist() == ["revoked"]
    with app_db.cursor() as cur:
        assert keys.verify(cur, shown[0]) is None
        actions = [r[0] for r in cur.execute("SELECT action FROM audit_log WHERE action LIKE 'api_key.%' "
                                             "ORDER BY id").fetchall()]
    assert actions == ["api_key.add", "api_key.revoke"]


def test_a_refused_key_shows_one_line_in_chinese(app_db):
    keys.add(app_db, "admin", "taken", "analyst", "tags:read")
    at = _open(app_db, "admin", lang="zh")
    assert [t.value for t in at.title] == ["API 密钥"]
    purpose = at.selectbox(key="apikeys_purpose")
    assert purpose.label == "用途（同意目的）" and purpose.options == ["营销", "分析", "向第三方提供"]
    assert "北京时间" in at.date_input(key="apikeys_expires").label
    at.text_input(key="apikeys_name").set_value("taken")
    at.button[0].click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "已有名为“taken”的 API 密钥（已吊销的密钥仍占用其名称）。" in errors[0], errors
    assert not at.code
    at.multiselect(key="apikeys_scopes").set_value([])
    at.text_input(key="apikeys_name").set_value("fresh")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["请至少选择一个权限范围。"]


@pytest.mark.parametrize("role", ["steward", "analyst"])
def test_only_admins_reach_the_page(app_db, role):
    at = app_test(app_db, role).run()
    with pytest.raises(ValueError):  # not in this role's navigation
        at.switch_page("pages/api_keys.py").run()
