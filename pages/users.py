"""Users (admin): add users, reset passwords, assign roles, disable and unlock accounts."""
import streamlit as st

from governance.access import auth
from governance.ui.actions import run_step
from governance.ui.guard import require
from governance.ui.session import tr
from governance.ui.widgets import table

ctx = require("users.manage")
st.title(tr("page.users"))
actor = ctx.user.username


def run(action, *args) -> None:
    run_step(action, ctx.db, actor, *args, success=tr("users.done"))


with st.form("add_user", clear_on_submit=True):
    st.subheader(tr("users.add"))
    c1, c2 = st.columns(2)
    username = c1.text_input(tr("users.username"))
    display_name = c2.text_input(tr("users.display_name"))
    email = c1.text_input(tr("users.email"))
    role = c2.selectbox(tr("users.role"), auth.ROLES, index=1, format_func=lambda r: ctx.t(f"role.{r}"))
    password = st.text_input(tr("users.password"), type="password")
    if st.form_submit_button(tr("users.create")):
        run_step(auth.create_user, ctx.db, actor, username, password, role, display_name or None, email or None,
                 success=lambda created: tr("users.created", user=created.username))

with ctx.db.cursor() as cur:
    users = auth.list_users(cur)
st.subheader(tr("users.list"))
table(users)

st.subheader(tr("users.manage"))
target = st.selectbox(tr("users.pick"), users["username"].tolist(), key="users_pick")
c1, c2 = st.columns(2)
with c1:
    new_role = st.selectbox(tr("users.role"), auth.ROLES, key="users_role", format_func=lambda r: ctx.t(f"role.{r}"))
    if st.button(tr("users.set_role"), key="users_set_role"):
        run(auth.set_role, target, new_role)
    new_password = st.text_input(tr("users.new_password"), type="password", key="users_new_password")
    if st.button(tr("users.reset"), key="users_reset"):
        run(auth.set_password, target, new_password)
with c2:
    if st.button(tr("users.disable"), key="users_disable"):
        run(auth.set_disabled, target, True)
    if st.button(tr("users.enable"), key="users_enable"):
        run(auth.set_disabled, target, False)
    if st.button(tr("users.unlock"), key="users_unlock"):
        run(auth.unlock, target)
