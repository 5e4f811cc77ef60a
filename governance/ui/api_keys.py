"""The API keys page (admins): create a key of the read API (shown once), list the keys, revoke one."""
from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from governance.api import keys
from governance.privacy.consent import PURPOSES
from governance.ui.actions import confirmed_step, run_step
from governance.ui.guard import PageContext
from governance.ui.widgets import table

COLUMNS = ("name", "prefix", "role", "scopes", "purpose", "key_status", "rate_per_minute", "expires_at", "last_used_at",
           "created_by", "created_at", "revoked_by", "revoked_at")


def create_form(ctx: PageContext) -> None:
    """The form that creates a key; the new key shows once, under it, in a block with a copy button."""
    st.subheader(ctx.t("apikeys.create"))
    with st.form("apikeys_add", clear_on_submit=False):
        c1, c2 = st.columns(2)
        name = c1.text_input(ctx.t("apikeys.name"), help=ctx.t("apikeys.name_help"), key="apikeys_name")
        role = c2.selectbox(ctx.t("apikeys.role"), keys.ROLES, index=keys.ROLES.index("analyst"), key="apikeys_role",
                            format_func=lambda r: ctx.t(f"role.{r}"))
        purpose = st.selectbox(ctx.t("apikeys.purpose"), PURPOSES, index=PURPOSES.index(keys.DEFAULT_PURPOSE),
                               key="apikeys_purpose", help=ctx.t("apikeys.purpose_help"),
                               format_func=lambda p: ctx.t(f"consent.purpose_{p}"))
        scopes = st.multiselect(ctx.t("apikeys.scopes"), keys.SCOPES, default=["tags:read"], key="apikeys_scopes",
                                format_func=lambda s: ctx.t(f"apikeys.scope.{s}"))
        c1, c2, c3 = st.columns(3)
        no_expiry = c1.checkbox(ctx.t("apikeys.no_expiry"), value=True, key="apikeys_no_expiry")
        expires = c2.date_input(ctx.t("apikeys.expires"), value=date.today() + timedelta(days=365),
                                min_value=date.today() + timedelta(days=1), key="apikeys_expires")
        rate = c3.number_input(ctx.t("apikeys.rate"), min_value=1, max_value=keys.MAX_RATE, value=keys.DEFAULT_RATE,
                               step=10, key="apikeys_rate")
        submitted = st.form_submit_button(ctx.t("apikeys.submit"), type="primary")
    if not submitted:
        return
    if not name.strip():
        st.error(ctx.t("apikeys.name_needed"))
        return
    if not scopes:
        st.error(ctx.t("apikeys.scope_needed"))
        return
    created = run_step(keys.add, ctx.db, ctx.user.username, name, role, list(scopes),
                       None if no_expiry else expires, int(rate), purpose)
    if created is not None:  # shown here, this once: the store keeps only its hash
        st.success(ctx.t("apikeys.created", name=name.strip().lower()))
        st.code(created, language=None)


def key_list(ctx: PageContext) -> list[str]:
    """The keys (never the keys themselves) with their status; returns the names of the active ones."""
    st.subheader(ctx.t("apikeys.list"))
    with ctx.db.cursor() as cur:
        frame = keys.list_keys(cur)
    if frame.empty:
        st.info(ctx.t("apikeys.none"))
        return []
    active = frame.loc[frame["status"] == "active", "name"].tolist()
    frame = frame.rename(columns={"status": "key_status"})
    frame["key_status"] = frame["key_status"].map(lambda s: ctx.t(f"apikeys.status.{s}"))
    frame["purpose"] = frame["purpose"].map(lambda p: ctx.t(f"consent.purpose_{p}"))
    frame["scopes"] = frame["scopes"].map(lambda s: "、".join(ctx.t(f"apikeys.scope.{x}") for x in s.split(",") if x)
                                          if ctx.lang == "zh" else s)
    table(frame[list(COLUMNS)], labels={c: ctx.t(f"apikeys.col.{c}") for c in COLUMNS})
    return active


def revoke_form(ctx: PageContext, active: list[str]) -> None:
    """Revoke one active key, once the admin confirms."""
    st.subheader(ctx.t("apikeys.revoke"))
    if not active:
        st.caption(ctx.t("apikeys.no_active"))
        return
    name = st.selectbox(ctx.t("apikeys.pick"), active, key="apikeys_pick")
    confirmed_step(ctx.t("apikeys.revoke_button"), keys.revoke, ctx.db, ctx.user.username, name,
                   key="apikeys_revoke", confirm=ctx.t("apikeys.revoke_confirm"),
                   success=ctx.t("apikeys.revoked", name=name), rerun=True, flash=True)
