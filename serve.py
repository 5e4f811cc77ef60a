"""Serve Steward: the pages of app.py, the route that issues the HttpOnly sign-in cookie, and the read
API under /api/v1 (governance/api), all from one process that owns the store.

    streamlit run serve.py      (what `make run` does)

`streamlit run app.py` also serves the pages, but without the cookie route a reload asks to sign in again.
"""
import streamlit as st

from governance.api import routes as api
from governance.ui import cookies

app = st.App("app.py", routes=[*cookies.routes(), *api.routes(keep_indexes=True)])
