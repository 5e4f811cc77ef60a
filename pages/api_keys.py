"""API keys (admin): create keys of the read API (each shown once), list them, revoke one at once."""
import streamlit as st

from governance.ui import api_keys as sections
from governance.ui.actions import show_flash
from governance.ui.guard import require
from governance.ui.session import tr

ctx = require("apikeys.manage")
st.title(tr("page.api_keys"))
st.caption(tr("apikeys.intro"))
show_flash()  # what the last revocation did (it ran the page again)
sections.create_form(ctx)
active = sections.key_list(ctx)
sections.revoke_form(ctx, active)
