"""AppTest for the Users page: every per-user control follows the selected user, so
修改角色 can never apply a role shown for someone else; forms keep what was typed on an error."""
from __future__ import annotations

import pytest

from governance.access import auth
from helpers import app_test, visible_text


@pytest.fixture
def users(app_db):
    auth.create_user(app_db, "test", "analyst1", "analyst1-pass-123", "analyst", "分析员一号")
    auth.create_user(app_db, "test", "steward1", "steward1-pass-123", "steward")
    return app_db


def _users_page(db, lang: str = "en"):
    at = app_test(db, "admin", lang).run()
    at.switch_page("pages/users.py").run()
    assert not at.exception
    return at


def _role_box(at):
    """The role box of the 'manage a user' section (not the add-user form's)."""
    [box] = [s for s in at.selectbox if s.key and s.key.startswith("users_role")]
    return box


def _role_of(db, username: str) -> str:
    with db.cursor() as cur:
        return auth.get_user(cur, username).role


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_role_box_shows_the_picked_users_role(users, lang):
    at = _users_page(users, lang)
    for username, role in (("admin", "admin"), ("analyst1", "analyst"), ("steward1", "steward"), ("analyst1", "analyst")):
        at.selectbox(key="users_pick").set_value(username).run()
        assert not at.exception
        box = _role_box(at)
        assert box.value == role and box.format_func(box.value) == auth_label(role, lang), username


def auth_label(role: str, lang: str) -> str:
    from governance.i18n import t
    return t(f"role.{role}", lang)


def test_change_role_after_picking_an_analyst_never_applies_the_previous_users_role(users):
    at = _users_page(users, "zh")
    at.selectbox(key="users_pick").set_value("admin").run()
    at.selectbox(key="users_pick").set_value("analyst1").run()
    set_role = at.button(key="users_set_role")
    assert set_role.label == "修改角色"
    assert set_role.disabled                                  # nothing to change: the box shows 分析师
    assert _role_of(users, "analyst1") == "analyst"
    assert "analyst1（分析员一号）：分析师，正常" in visible_text(at)


def test_a_role_chosen_for_one_user_does_not_carry_over_to_another(users):
    at = _users_page(users)
    at.selectbox(key="users_pick").set_value("analyst1").run()
    _role_box(at).set_value("admin").run()                    # chosen, not applied
    at.selectbox(key="users_pick").set_value("steward1").run()
    assert _role_box(at).value == "steward"
    at.selectbox(key="users_pick").set_value("analyst1").run()
    assert _role_box(at).value == "analyst"
    assert _role_of(users, "analyst1") == "analyst" and _role_of(users, "steward1") == "steward"


def test_change_role_applies_the_role_shown_to_the_user_shown(users):
    at = _users_page(users)
    at.selectbox(key="users_pick").set_value("analyst1").run()
    _role_box(at).set_value("steward").run()
    at.button(key="users_set_role").click().run()
    assert not at.exception
    assert _role_of(users, "analyst1") == "steward" and _role_of(users, "admin") == "admin"
    assert "Done." in [s.value for s in at.success]
    assert _role_box(at).value == "steward" and at.button(key="users_set_role").disabled
    assert at.dataframe[0].value.set_index("username").loc["analyst1", "role"] == "steward"   # the table too


def test_a_password_typed_for_one_user_is_not_offered_for_another(users):
    at = _users_page(users)
    at.selectbox(key="users_pick").set_value("analyst1").run()
    [box] = [t for t in at.text_input if t.key and t.key.startswith("users_new_password")]
    box.input("meant-for-analyst1").run()
    at.selectbox(key="users_pick").set_value("steward1").run()
    [box] = [t for t in at.text_input if t.key and t.key.startswith("users_new_password")]
    assert box.value == ""


def test_the_disable_control_follows_the_user(users):
    auth.set_disabled(users, "test", "steward1", True)
    at = _users_page(users)
    at.selectbox(key="users_pick").set_value("steward1").run()
    keys = {b.key for b in at.button}
    assert "users_enable" in keys and "users_disable" not in keys
    at.button(key="users_enable").click().run()
    with users.cursor() as cur:
        assert not auth.get_user(cur, "steward1").disabled
    assert {b.key for b in at.button} >= {"users_disable"} and "users_enable" not in {b.key for b in at.button}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_rejected_add_user_form_keeps_what_was_typed(users, lang):
    at = _users_page(users, lang)
    form = {"users_add_username": "carol", "users_add_display_name": "Carol", "users_add_email": "carol@example.com"}
    for key, value in form.items():
        at.text_input(key=key).input(value)
    at.selectbox(key="users_add_role").set_value("analyst")
    at.text_input(key="users_add_password").input("short")
    [b for b in at.button if b.label == ("创建用户" if lang == "zh" else "Create user")][0].click().run()
    assert not at.exception
    assert at.error                                            # the password is too short
    assert {key: at.text_input(key=key).value for key in form} == form
    assert at.selectbox(key="users_add_role").value == "analyst"
    with users.cursor() as cur:
        assert auth.get_user(cur, "carol") is None
    at.text_input(key="users_add_password").input("carol-pass-123")
    [b for b in at.button if b.label == ("创建用户" if lang == "zh" else "Create user")][0].click().run()
    assert not at.exception
    with users.cursor() as cur:
        assert auth.get_user(cur, "carol").role == "analyst"
    assert all(at.text_input(key=key).value == "" for key in form)   # a created user's form is empty again
    assert at.selectbox(key="users_add_role").value == "steward"
