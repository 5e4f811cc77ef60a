"""Audiences: build a rule (nested AND / OR / NOT over tags, golden attributes, purchases and saved
audiences), see the live count and who the mandatory exclusions leave out, a masked sample and
breakdowns; saved audiences with versions, membership history, snapshots and overlap; activation files
and pushes for stewards and admins."""
import streamlit as st

from governance.ui import audiences as sections
from governance.ui.actions import show_flash
from governance.ui.guard import require
from governance.ui.session import tr

ctx = require("audiences.view")
st.title(tr("page.audiences"))
with st.container():  # always drawn, so the tabs below keep their place (and the open tab) across reruns
    show_flash()  # what the last action did (it ran the page again)
    sections.opened_note(ctx)

names = ["build", "saved"]
if ctx.can("audiences.export"):
    names.append("activate")
tabs = dict(zip(names, st.tabs([tr(f"audiences.tab.{n}") for n in names])))

with tabs["build"]:
    draft = sections.build(ctx)
    if draft is not None and sections.live_count(ctx, draft) is not None:
        sections.explore(ctx, draft)
    if ctx.can("audiences.edit"):  # always drawn, so a name typed in it outlives an incomplete rule
        sections.save_form(ctx, draft)

with tabs["saved"]:
    audience = sections.saved_list(ctx)
    if audience is not None:
        sections.saved_detail(ctx, audience)
    sections.overlap(ctx)

if "activate" in tabs:
    with tabs["activate"]:
        sections.activate(ctx)
