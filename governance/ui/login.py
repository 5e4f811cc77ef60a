"""Sign-in with streamlit-authenticator, backed by our users table and server-side sessions.

The library renders the form and keeps the signed cookie. We hook its login step so that
(1) every password attempt goes through `auth.authenticate` (lockout, audit), and
(2) a cookie is honoured only while its server-side session is live, so signing out
revokes it for good, even if the cookie was copied.
"""
from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st
import streamlit_authenticator as stauth

from governance.access import auth
from governance.store.storage import Database
from governance.ui.guard import SESSION_KEY
from governance.ui.session import secrets, settings, tr

COOKIE_NAME = "steward_auth"
_AUTH_KEYS = ("name", "username", "authentication_status", "email", "roles")
_PENDING_COOKIE = "_steward_set_cookie"


def _expiry(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None)


def _build(db: Database, outcome: dict) -> stauth.Authenticate:
    with db.cursor() as cur:
        credentials = auth.authenticator_credentials(cur)
    authenticator = stauth.Authenticate(
        credentials, cookie_name=COOKIE_NAME, cookie_key=secrets()["cookie_key"],
        cookie_expiry_days=settings().cookie_expiry_hours / 24, auto_hash=False, login_sleep_time=0)
    library_login = authenticator.authentication_controller.login

    def guarded_login(username=None, password=None, *args, token=None, **kwargs):
        if token is not None:
            session_id = auth.session_id_for(token["username"], token["exp_date"])
            with db.cursor() as cur:
                user = auth.session_user(cur, session_id)
            if user is None or user.username != auth.normalize_username(token["username"]):
                authenticator.cookie_controller.delete_cookie()
                return None
            outcome.update(via="cookie", session_id=session_id, exp=token["exp_date"])
            return library_login(token=token)
        result = auth.authenticate(db, username or "", password or "")
        if not result.ok:
            st.session_state["authentication_status"] = False
            outcome["failure"] = result
            return False
        outcome["via"] = "password"
        return library_login(username, password, *args, **kwargs)

    authenticator.authentication_controller.login = guarded_login
    return authenticator


def _forget(authenticator: stauth.Authenticate) -> None:
    st.session_state.pop(SESSION_KEY, None)
    if st.session_state.get("authentication_status"):
        authenticator.logout(location="unrendered")
    for key in _AUTH_KEYS:
        st.session_state[key] = None


def sign_in(db: Database) -> tuple[auth.User | None, stauth.Authenticate]:
    """Render the sign-in form when needed; return the signed-in user (or None) and the
    authenticator, which must be built once per run."""
    outcome: dict = {}
    authenticator = _build(db, outcome)
    return _sign_in(db, authenticator, outcome), authenticator


def _sign_in(db: Database, authenticator: stauth.Authenticate, outcome: dict) -> auth.User | None:
    session_id = st.session_state.get(SESSION_KEY)
    if session_id:
        with db.cursor() as cur:
            user = auth.session_user(cur, session_id)
        if user is not None and st.session_state.get("authentication_status"):
            return user
        _forget(authenticator)  # revoked elsewhere (disabled, password reset, signed out)
        st.info(tr("login.session_ended"))
    if st.session_state.pop(_PENDING_COOKIE, None) and st.session_state.get("authentication_status"):
        # The run after a password sign-in: set the cookie now, in a run that is not cut short by
        # st.rerun(), and tie the server-side session to that very cookie.
        authenticator.cookie_controller.set_cookie()
        exp = authenticator.cookie_controller.cookie_model.exp_date
        return _open(db, st.session_state["username"], exp, "password")
    st.title(tr("app.title"))
    authenticator.login(location="main", key="steward_login", fields={
        "Form name": tr("login.form"), "Username": tr("login.username"),
        "Password": tr("login.password"), "Login": tr("login.submit")})
    failure = outcome.get("failure")
    if failure is not None:  # one answer for an unknown user, a wrong password and a locked account
        st.error(tr("login.failed"))
    if not st.session_state.get("authentication_status"):
        st.caption(tr("login.intro"))
        return None
    if outcome.get("via") == "cookie":
        return _open(db, st.session_state["username"], outcome["exp"], "cookie")
    if outcome.get("via") == "password":
        st.session_state[_PENDING_COOKIE] = True
        st.rerun()  # start over signed in, without the form
    _forget(authenticator)
    return None


def _open(db: Database, username: str, cookie_exp: float, via: str) -> auth.User | None:
    session_id = auth.session_id_for(username, cookie_exp)
    auth.open_session(db, username, session_id, _expiry(cookie_exp), via=via)
    st.session_state[SESSION_KEY] = session_id
    with db.cursor() as cur:
        return auth.session_user(cur, session_id)


def sign_out(db: Database, user: auth.User, authenticator: stauth.Authenticate) -> None:
    """Revoke the server-side session, drop the cookie and the session keys."""
    session_id = st.session_state.get(SESSION_KEY)
    if session_id:
        auth.close_session(db, session_id, user.username)
    _forget(authenticator)
