"""AppTest: a library error (a rejected form, a failed background job) shows in the page's language."""
from __future__ import annotations

import pytest

from governance.access import auth
from governance.i18n import t
from governance.jobs import runner as jobs
from governance.store.errors import GovernanceError
from helpers import app_test, visible_text

SHORT = {"zh": "密码至少需要 10 个字符。", "en": "The password must have at least 10 characters."}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_rejected_password_on_the_users_page_speaks_the_pages_language(app_db, lang):
    at = app_test(app_db, "admin", lang).run()
    at.switch_page("pages/users.py").run()
    at.text_input(key="users_add_username").input("newuser")
    at.text_input(key="users_add_password").input("short")
    [create] = [b for b in at.button if b.label == t("users.create", lang)]
    create.click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [t("common.error", lang, message=SHORT[lang])]
    if lang == "zh":
        assert "password" not in visible_text(at).lower()
    with app_db.cursor() as cur:
        assert "newuser" not in auth.list_users(cur)["username"].tolist()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_failed_jobs_line_in_the_panel_speaks_the_pages_language(app_db, lang):
    job_id = jobs.create(app_db, "export", "admin", status="running")
    with pytest.raises(GovernanceError) as caught:
        auth.create_user(app_db, "admin", "newuser", "short", "analyst")
    jobs.fail(app_db, job_id, *jobs.failure(caught.value, app_db.path.parent))
    at = app_test(app_db, "admin", lang).run()
    assert not at.exception
    assert t("common.error", lang, message=SHORT[lang]) in [e.value for e in at.sidebar.error]
