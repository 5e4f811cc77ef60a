"""Tags: the standard tag library (definitions, versions, four-eyes approval), the rule builder for
new tags and versions, each tag's values, tag health, source tag mappings and the category tree."""
import streamlit as st

from governance.ui import tags as sections
from governance.ui.actions import show_flash
from governance.ui.guard import require
from governance.ui.session import tr

ctx = require("tags.view")
st.title(tr("page.tags"))
with st.container():  # always drawn, so the tabs below keep their place (and the open tab) across reruns
    show_flash()  # what the last action did (it ran the page again)

names = ["library", "values", "health"]
if ctx.can("tags.edit"):
    names.insert(1, "edit")
if ctx.can("tags.source_map"):
    names.append("sources")
if ctx.can("tags.categories"):
    names.append("categories")
tabs = dict(zip(names, st.tabs([tr(f"tags.tab.{n}") for n in names])))

tag = None
with tabs["library"]:
    code = sections.library_list(ctx)
    if code:
        tag = sections.tag_detail(ctx, code)

if "edit" in tabs:
    with tabs["edit"]:
        base = sections.new_version_base(ctx, code)
        st.caption(tr("tags.edit_hint"))
        sections.editor(ctx, base)

with tabs["values"]:
    sections.compute_now(ctx)
    if tag is not None:
        sections.values(ctx, tag)
    else:
        st.info(tr("tags.values_pick"))

with tabs["health"]:
    sections.health_tab(ctx)

if "sources" in tabs:
    with tabs["sources"]:
        sections.source_tab(ctx)

if "categories" in tabs:
    with tabs["categories"]:
        sections.categories_tab(ctx)
