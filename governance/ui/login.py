"""Sign-in: streamlit-authenticator renders the form, our users table checks the password, and
the server issues an HttpOnly session cookie (`cookies`).

We hook the library's login step so that every password attempt goes through `auth.authenticate`
(lockout, audit, one answer for every failure). The library's own cookie, which scripts in the
page can read, is never set nor honoured. A session is live only while its server-side row is, so
signing out, a password reset or a disabled account revokes the cookie for good, even a copy.
"""
from __future__ import annotations

from datetime import timedelta

import streamlit as st
import streamlit_authenticator as stauth

from governance.access import auth
from governance.store.storage import Database
from governance.store.util import utcnow
from governance.ui import cookies, uploads
from governance.ui.guard import SESSION_KEY
from governance.ui.session import secrets, settings, tr

_AUTH_KEYS = ("name", "username", "authentication_status", "email", "roles")
_PENDING_GRANT = "_steward_cookie_grant"  # set the cookie in the run after a password sign-in
_CLEAR_COOKIE = "_steward_clear_cookie"  # drop a cookie whose session has ended


def _build(db: Database, outcome: dict) -> stauth.Authenticate:
    with db.cursor() as cur:
        credentials = auth.authenticator_credentials(cur)
    authenticator = stauth.Authenticate(  # cookie_expiry_days=0: the library writes no cookie
        credentials, cookie_name="steward_auth", cookie_key=secrets()["cookie_key"], cookie_expiry_days=0,
        auto_hash=False, login_sleep_time=0)
    library_login = authenticator.authentication_controller.login

    def guarded_login(username=None, password=None, *args, token=None, **kwargs):
        if token is not None:  # a script-readable cookie (an earlier release's): never honoured
            return None
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
            if grant := st.session_state.pop(_PENDING_GRANT, None):
                st.sidebar.html(cookies.pixel_html(f"{cookies.GRANT_PATH}?g={grant}"))
            return user
        _forget(authenticator)  # revoked elsewhere (disabled, password reset, signed out)
        st.session_state[_CLEAR_COOKIE] = True
        st.info(tr("login.session_ended"))
    elif (user := _resume(db)) is not None:
        return user
    if st.session_state.pop(_CLEAR_COOKIE, None):
        st.sidebar.html(cookies.pixel_html(cookies.CLEAR_PATH))
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
    if outcome.get("via") == "password":
        hours = settings().cookie_expiry_hours
        token, session_id = cookies.new_token()
        auth.open_session(db, st.session_state["username"], session_id, utcnow() + timedelta(hours=hours))
        st.session_state[SESSION_KEY] = session_id
        st.session_state[_PENDING_GRANT] = cookies.new_grant(token, hours * 3600)
        st.rerun()  # start over signed in, without the form; that run sets the cookie
    _forget(authenticator)
    return None


def _resume(db: Database) -> auth.User | None:
    """The user of the session cookie this browser sent, if that session is live (a reload, a new tab)."""
    token = st.context.cookies.get(cookies.COOKIE_NAME)
    if not isinstance(token, str) or not token:  # (no request behind a test run's context)
        return None
    session_id = cookies.session_id_of(token)
    user = auth.resume_session(db, session_id)
    if user is None:
        st.session_state[_CLEAR_COOKIE] = True
        return None
    st.session_state[SESSION_KEY] = session_id
    st.session_state.update(authentication_status=True, username=user.username, name=user.display_name,
                            roles=[user.role], email=None)
    return user


def sign_out(db: Database, user: auth.User, authenticator: stauth.Authenticate) -> None:
    """Revoke the server-side session, drop the cookie and the session keys."""
    session_id = st.session_state.get(SESSION_KEY)
    if session_id:
        auth.close_session(db, session_id, user.username)
    uploads.discard()
    _forget(authenticator)
    st.session_state[_CLEAR_COOKIE] = True
