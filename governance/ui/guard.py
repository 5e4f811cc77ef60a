"""The permission guard every page calls first.

It works even when Streamlit runs a `pages/` script without app.py (the first request
of a fresh server, streamlit-notes §1): with no live server-side session it stops.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property

import pandas as pd
import streamlit as st

from governance.access import audit, auth, masking
from governance.access.auth import User
from governance.access.events import Event
from governance.i18n import t
from governance.store.storage import Database
from governance.ui.session import database, lang, secrets, tr

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

    @cached_property
    def masking_policy(self) -> masking.Policy:
        """The stored masking policy with the HMAC key, loaded once per run."""
        with self.db.cursor() as cur:
            return masking.load_policy(cur, secrets()["hmac_key"])

    def mask(self, frame: pd.DataFrame, fields_by_column: dict[str, str | None],
             keep: Collection[str] = frozenset()) -> pd.DataFrame:
        """`frame` masked by the signed-in role's policy (columns in `keep` untouched)."""
        return masking.mask_frame(frame, fields_by_column, keep, role=self.user.role, policy=self.masking_policy)

    def mask_value(self, field: str | None, value: object) -> object:
        return masking.mask_value(field, value, role=self.user.role, policy=self.masking_policy)

    def mask_rows(self, frame: pd.DataFrame, field_column: str = "field", value_columns: Collection[str] = ("value",),
                  skip: Collection[str] = frozenset()) -> pd.DataFrame:
        """A long frame (each row names its field) with its values masked by the signed-in role's policy."""
        return masking.mask_by_row(frame, field_column, value_columns, skip, role=self.user.role,
                                   policy=self.masking_policy)

    def reveal(self, key: str, object_type: str, object_id: object, detail: dict | None = None) -> str | None:
        """A reveal switch for roles holding `pii.unmasked`. Returns the stated reason once one is given
        (else None); each new view revealed (object and detail) is audited as `pii.reveal` with it."""
        if not self.can("pii.unmasked"):
            return None
        seen = st.session_state.setdefault("_revealed", {})
        if not st.toggle(tr("reveal.toggle"), key=key):
            seen.pop(key, None)
            return None
        reason = st.text_input(tr("reveal.reason"), key=f"{key}_reason").strip()
        if not reason:
            st.info(tr("reveal.reason_needed"))
            return None
        detail = {**(detail or {}), "reason": reason}
        signature = repr((object_type, str(object_id), sorted(detail.items())))
        if seen.get(key) != signature:
            audit.log(self.db, self.user.username, Event.PII_REVEAL, object_type, object_id, detail)
            seen[key] = signature
        return reason


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
