"""The sign-in cookie: HttpOnly (no script can read it), SameSite=Strict, Secure over HTTPS.

Page scripts talk to the browser over a websocket and cannot set an HttpOnly cookie, so the server
issues it. After a password sign-in the script registers a one-time grant (`new_grant`) and puts a
1×1 image on the page whose address is the grant route (`serve.py` serves `routes()` beside the
pages); the browser's request for it receives the cookie. A later session (a reload, a new tab)
reads the cookie server-side from `st.context.cookies`.

The cookie holds a random token; the store keeps only its SHA-256 as the session id, so a copy of
the store cannot be replayed as a cookie.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

COOKIE_NAME = "steward_session"
GRANT_PATH = "/session/cookie"
CLEAR_PATH = "/session/clear"
GRANT_SECONDS = 60  # a grant not fetched by then is void
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

_grants: dict[str, tuple[str, int, float]] = {}  # sha256(grant) -> (token, max_age, deadline)
_lock = threading.Lock()


def new_token() -> tuple[str, str]:
    """A fresh cookie token and the session id the store keeps for it."""
    token = secrets.token_urlsafe(32)
    return token, session_id_of(token)


def session_id_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_grant(token: str, max_age_seconds: int) -> str:
    """A one-time grant: the route exchanges it for the cookie carrying `token`."""
    grant = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _lock:
        for key in [k for k, (_, _, deadline) in _grants.items() if deadline < now]:
            del _grants[key]
        _grants[session_id_of(grant)] = (token, max_age_seconds, now + GRANT_SECONDS)
    return grant


def take_grant(grant: str) -> tuple[str, int] | None:
    """The token and lifetime of a live grant, which is used up; None for anything else."""
    with _lock:
        found = _grants.pop(session_id_of(grant), None)
    if found is None or found[2] < time.monotonic():
        return None
    return found[0], found[1]


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _pixel() -> Response:
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


async def grant_cookie(request: Request) -> Response:
    response = _pixel()
    taken = take_grant(request.query_params.get("g", ""))
    if taken is not None:
        token, max_age = taken
        response.set_cookie(COOKIE_NAME, token, max_age=max_age, path="/", httponly=True, samesite="strict",
                            secure=_secure(request))
    return response


async def clear_cookie(request: Request) -> Response:
    response = _pixel()
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response


def routes() -> list[Route]:
    return [Route(GRANT_PATH, grant_cookie), Route(CLEAR_PATH, clear_cookie)]


def pixel_html(path: str) -> str:
    """An invisible image whose request to `path` (same origin) sets or clears the cookie."""
    return f'<img src="{path}" alt="" width="1" height="1" style="position:absolute;opacity:0">'
