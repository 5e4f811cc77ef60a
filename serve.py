"""Serve Steward: the pages of app.py, plus the route that issues the HttpOnly sign-in cookie.

    streamlit run serve.py      (what `make run` does)

`streamlit run app.py` also serves the pages, but without the cookie route a reload asks to sign in again.
"""
import streamlit as st

from governance.ui import cookies

app = st.App("app.py", routes=cookies.routes())
