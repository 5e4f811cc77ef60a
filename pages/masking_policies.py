"""Masking policies: the rule of each sensitivity class × role (admin only; every change audited)."""
import streamlit as st

from governance.access import masking
from governance.access.auth import ROLES
from governance.ui.actions import run_step
from governance.ui.guard import require
from governance.ui.session import tr
from governance.ui.widgets import table

ctx = require("masking.manage")
st.title(tr("page.masking_policies"))
st.caption(tr("masking.intro"))

st.subheader(tr("masking.edit"))
c1, c2 = st.columns(2)
cls = c1.selectbox(tr("masking.class"), masking.CLASSES, key="masking_class",
                   format_func=lambda c: ctx.t(f"masking.class.{c}"))
role = c2.selectbox(tr("masking.role"), ROLES, key="masking_role", format_func=lambda r: ctx.t(f"role.{r}"))
current = ctx.masking_policy.rule(cls, role)
method = st.radio(tr("masking.method"), masking.METHODS, index=masking.METHODS.index(current.method), horizontal=True,
                  key=f"masking_method_{cls}_{role}", format_func=lambda m: ctx.t(f"masking.method.{m}"))
keep_start = keep_end = None
if method == "partial" and cls in masking.KEEP_STYLE:
    default = masking.DEFAULT_RULES[cls]
    c1, c2 = st.columns(2)
    keep_start = c1.number_input(tr("masking.keep_start"), 0, 32, current.keep_start if current.keep_start is not None
                                 else default.keep_start, key=f"masking_start_{cls}_{role}")
    keep_end = c2.number_input(tr("masking.keep_end"), 0, 32, current.keep_end if current.keep_end is not None
                               else default.keep_end, key=f"masking_end_{cls}_{role}")
elif method == "partial":
    st.caption(tr("masking.keep_note"))
rule = masking.Rule(method, keep_start, keep_end)
st.caption(tr("masking.example", example=masking.example(cls, rule, ctx.masking_policy.key)))
if st.button(tr("masking.save"), type="primary", key="masking_save"):
    changed = run_step(masking.set_rule, ctx.db, ctx.user.username, cls, role, method, keep_start, keep_end)
    if changed is not None:
        (st.success if changed else st.info)(tr("masking.saved" if changed else "masking.unchanged"))

st.subheader(tr("masking.current"))
with ctx.db.cursor() as cur:
    policy = masking.policy_frame(cur)
policy["sensitivity_class"] = policy["sensitivity_class"].map(lambda c: ctx.t(f"masking.class.{c}"))
policy["role"] = policy["role"].map(lambda r: ctx.t(f"role.{r}"))
policy["method"] = policy["method"].map(lambda m: ctx.t(f"masking.method.{m}"))
table(policy)
