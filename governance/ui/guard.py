"""The permission guard every page calls first.

It works even when Streamlit runs a `pages/` script without app.py (the first request
of a fresh server, streamlit-notes §1): with no live server-side session it stops.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from governance import auth
from governance.auth import User
from governance.i18n import t
from governance.storage import Database
from governance.ui.session import database, lang, tr

SESSION_KEY = "steward_session"


@dataclass(frozen=True)
class PageContext:
    db: Database
    user: User
    lang: str

    def can(self, permission: str) -> bool:
        return auth.can(self.user.role, permission)

    def t(self, key: str, **values: object) -> str:
        """Translate in this page's language (safe inside format_func callbacks)."""
        return t(key, self.lang, **values)


def current_user(db: Database) -> User | None:
    with db.cursor() as cur:
        return auth.session_user(cur, st.session_state.get(SESSION_KEY))


def require(permission: str) -> PageContext:
    """Stop the page unless a signed-in, enabled user holds `permission`."""
    db = database()
    user = current_user(db)
    if user is None:
        st.warning(tr("guard.sign_in"))
        st.markdown(f"[{tr('guard.go_home')}](/)")
        st.stop()
    if not auth.can(user.role, permission):
        st.error(tr("guard.denied"))
        st.stop()
    return PageContext(db, user, lang())
