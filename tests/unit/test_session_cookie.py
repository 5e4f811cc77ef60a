"""The sign-in cookie the server issues: HttpOnly, SameSite=Strict, Secure over HTTPS, only for a live
one-time grant; the store keeps a hash of its token, never the token."""
from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from governance.ui import cookies


def request(path: str, query: str = "", scheme: str = "http", headers: dict[str, str] | None = None) -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "query_string": query.encode(), "scheme": scheme,
                    "server": ("steward.local", 443 if scheme == "https" else 80),
                    "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]})


def set_cookie(path: str, query: str = "", **kwargs) -> str | None:
    handler = cookies.grant_cookie if path == cookies.GRANT_PATH else cookies.clear_cookie
    response = asyncio.run(handler(request(path, query, **kwargs)))
    assert response.media_type == "image/gif" and response.headers["cache-control"] == "no-store"
    return response.headers.get("set-cookie")


def test_a_grant_sets_an_httponly_strict_cookie_once():
    token, session_id = cookies.new_token()
    grant = cookies.new_grant(token, 3600)
    header = set_cookie(cookies.GRANT_PATH, f"g={grant}")
    assert header is not None and header.startswith(f"{cookies.COOKIE_NAME}={token};")
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"httponly", "max-age", "path", "samesite"} <= attributes and "secure" not in attributes
    assert "samesite=strict" in header.lower() and "max-age=3600" in header.lower()
    assert set_cookie(cookies.GRANT_PATH, f"g={grant}") is None  # used up
    assert session_id == cookies.session_id_of(token) and token not in session_id


@pytest.mark.parametrize("scheme, headers", [("https", {}), ("http", {"X-Forwarded-Proto": "https"})])
def test_the_cookie_is_secure_over_https(scheme, headers):
    grant = cookies.new_grant(cookies.new_token()[0], 60)
    assert "; secure" in set_cookie(cookies.GRANT_PATH, f"g={grant}", scheme=scheme, headers=headers).lower()


def test_an_unknown_or_expired_grant_sets_nothing(monkeypatch):
    assert set_cookie(cookies.GRANT_PATH, "g=made-up") is None
    assert set_cookie(cookies.GRANT_PATH) is None
    grant = cookies.new_grant(cookies.new_token()[0], 60)
    monkeypatch.setattr(cookies, "GRANT_SECONDS", -1)
    late = cookies.new_grant(cookies.new_token()[0], 60)
    assert set_cookie(cookies.GRANT_PATH, f"g={late}") is None
    assert set_cookie(cookies.GRANT_PATH, f"g={grant}") is not None  # the earlier one is still live


def test_the_clear_route_expires_the_cookie():
    header = set_cookie(cookies.CLEAR_PATH).lower()
    assert header.startswith(f"{cookies.COOKIE_NAME}=") and "max-age=0" in header and "httponly" in header
