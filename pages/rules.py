"""Rules (steward/admin): add, edit and disable quality rules; every change is a new, audited version.
Parameters are entered per rule type (a pattern, allowed values, a range, …), not as JSON."""
import streamlit as st

from governance.i18n import column_choice, value_label
from governance.quality import rules
from governance.store.schema import FIELD_NAMES
from governance.ui.actions import run_step
from governance.ui.guard import require
from governance.ui.quality import check_range, params_text, rule_params
from governance.ui.session import tr
from governance.ui.widgets import table

ctx = require("rules.edit")
st.title(tr("page.rules"))

with ctx.db.cursor() as cur:
    current = rules.current_rules(cur)
    rule_list = rules.rules_frame(cur)
st.subheader(tr("rules.list"))
shown_rules = rules.localized_names(rule_list, ctx.lang)
if "params" in shown_rules.columns:
    shown_rules = shown_rules.assign(params=shown_rules["params"].map(lambda p: params_text(p, ctx.lang)))
table(shown_rules, labels={"name": tr("rules.col_name")})
for rule in current:
    if (reason := rules.problem(rule)) is not None:  # stored by an earlier release; never run
        st.warning(tr("rules.skipped", rule=rule.rule_id, reason=reason))

st.subheader(tr("rules.edit"))
by_id = {r.rule_id: r for r in current}
names = dict(zip(rule_list["rule_id"], rules.localized_names(rule_list, ctx.lang)["name"])) if not rule_list.empty else {}
picked = st.selectbox(tr("rules.pick"), ["", *by_id], key="rules_pick",
                      format_func=lambda r: ctx.t("rules.picked", name=names.get(r, r), rule=r) if r else ctx.t("rules.new_rule"))
base = by_id.get(picked) or rules.Rule("", "", "not_null", [])
# The type sits outside the form: its parameter fields (a pattern, allowed values, a range, …) follow it.
rule_type = st.selectbox(tr("rules.type"), rules.RULE_TYPES, index=rules.RULE_TYPES.index(base.rule_type),
                         key=f"rule_type_{picked}", format_func=lambda v: value_label("rule_type", v, ctx.lang))
with st.form(f"rule_form_{picked}"):
    c1, c2 = st.columns(2)
    rule_id = c1.text_input(tr("rules.id"), value=base.rule_id, disabled=bool(picked))
    name = c2.text_input(tr("rules.name"), value=base.name)
    fields = st.multiselect(tr("rules.fields"), FIELD_NAMES, default=base.fields, placeholder=tr("common.choose_many"),
                            format_func=lambda f: column_choice(f, ctx.lang))
    params = rule_params(rule_type, base.params if rule_type == base.rule_type else {}, key=f"rule_params_{picked}_{rule_type}")
    c1, c2, c3 = st.columns(3)
    severity = c1.selectbox(tr("rules.severity"), rules.SEVERITIES, index=rules.SEVERITIES.index(base.severity),
                            format_func=lambda v: value_label("severity", v, ctx.lang))
    dimension = c2.selectbox(tr("rules.dimension"), rules.DIMENSIONS, index=rules.DIMENSIONS.index(base.dimension),
                             format_func=lambda v: value_label("dimension", v, ctx.lang))
    mostly = c3.number_input(tr("rules.mostly"), min_value=0.0, max_value=1.0, value=float(base.mostly), step=0.01)
    enabled = st.checkbox(tr("rules.enabled"), value=base.enabled)
    comment = st.text_input(tr("rules.comment"))
    if st.form_submit_button(tr("rules.save")):
        if rule_type == "range" and (problem := check_range(params)) is not None:
            st.error(tr(problem))
            st.stop()
        rule = rules.Rule(picked or rule_id.strip(), name.strip() or rule_id, rule_type, fields, params, severity,
                          mostly, dimension, enabled)
        run_step(rules.save_rule, ctx.db, ctx.user.username, rule, comment or None,
                 success=lambda version: tr("rules.saved", rule=rule.rule_id, version=version))

if picked:
    with ctx.db.cursor() as cur:
        st.caption(tr("rules.history"))
        versions = rules.history(cur, picked)
        if "params" in versions.columns:
            versions = versions.assign(params=versions["params"].map(lambda p: params_text(p, ctx.lang)))
        table(versions, labels={"name": tr("rules.col_name")})
