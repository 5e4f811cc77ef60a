"""Users (admin): add users, reset passwords, assign roles, disable and unlock accounts.

Every control acting on one user is keyed by that user, so it shows that user's state: after
picking another user the role box shows their role, never the previous one's (a stale role box
would make 修改角色 a privilege escalation). Forms keep what was typed when they show an error."""
import streamlit as st

from governance.access import auth
from governance.ui.actions import run_step, show_flash
from governance.ui.guard import require
from governance.ui.session import tr
from governance.ui.widgets import table

ctx = require("users.manage")
st.title(tr("page.users"))
actor = ctx.user.username
ADD_KEYS = {"users_add_username": "", "users_add_display_name": "", "users_add_email": "", "users_add_role": "steward",
            "users_add_password": ""}
_CLEAR = "_users_clear"  # widget keys to empty at the start of the next run (a form that succeeded)

# Set, not deleted: a deleted key leaves the browser showing what was typed.
for key, default in st.session_state.pop(_CLEAR, {}).items():  # before the widgets exist, so allowed
    st.session_state[key] = default
show_flash()


def done(clear: dict[str, str]):
    """A success message (for run_step) that also resets the `clear` widgets for the next run."""
    def message(result: object = None) -> str:
        st.session_state[_CLEAR] = clear
        return tr("users.created", user=result.username) if isinstance(result, auth.User) else tr("users.done")
    return message


def run(action, *args, clear: dict[str, str] | None = None) -> None:
    """Act on a user, then start over so the table and every control show the new state."""
    run_step(action, ctx.db, actor, *args, success=done(clear or {}), rerun=True, flash=True)


with st.form("add_user", clear_on_submit=False):  # a rejected form keeps what was typed
    st.subheader(tr("users.add"))
    c1, c2 = st.columns(2)
    username = c1.text_input(tr("users.username"), key="users_add_username")
    display_name = c2.text_input(tr("users.display_name"), key="users_add_display_name")
    email = c1.text_input(tr("users.email"), key="users_add_email")
    role = c2.selectbox(tr("users.role"), auth.ROLES, index=1, format_func=lambda r: ctx.t(f"role.{r}"),
                        key="users_add_role")
    password = st.text_input(tr("users.password"), type="password", key="users_add_password")
    if st.form_submit_button(tr("users.create")):
        run(auth.create_user, username, password, role, display_name or None, email or None, clear=ADD_KEYS)

with ctx.db.cursor() as cur:
    users = auth.list_users(cur)
st.subheader(tr("users.list"))
table(users)

st.subheader(tr("users.manage"))
target = st.selectbox(tr("users.pick"), users["username"].tolist(), key="users_pick")
with ctx.db.cursor() as cur:
    user = auth.get_user(cur, target)
if user is None:  # removed meanwhile
    st.stop()
state = tr("users.state_disabled") if user.disabled else tr("users.state_locked") if user.is_locked() else tr(
    "users.state_active")
st.caption(tr("users.selected", user=user.username, name=user.display_name, role=ctx.t(f"role.{user.role}"),
              state=state))
c1, c2 = st.columns(2)
with c1:
    # Keyed by the user and their stored role, preset to it: the box never carries another user's
    # role, nor a role changed meanwhile.
    new_role = st.selectbox(tr("users.role"), auth.ROLES, index=auth.ROLES.index(user.role),
                            key=f"users_role_{user.username}_{user.role}", format_func=lambda r: ctx.t(f"role.{r}"))
    if st.button(tr("users.set_role"), key="users_set_role", disabled=new_role == user.role):
        run(auth.set_role, user.username, new_role)
    password_key = f"users_new_password_{user.username}"
    new_password = st.text_input(tr("users.new_password"), type="password", key=password_key)
    if st.button(tr("users.reset"), key="users_reset"):
        run(auth.set_password, user.username, new_password, clear={password_key: ""})
with c2:
    if user.disabled:
        if st.button(tr("users.enable"), key="users_enable"):
            run(auth.set_disabled, user.username, False)
    elif st.button(tr("users.disable"), key="users_disable"):
        run(auth.set_disabled, user.username, True)
    if st.button(tr("users.unlock"), key="users_unlock", disabled=not (user.is_locked() or user.failed_attempts)):
        run(auth.unlock, user.username)
