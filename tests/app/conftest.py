"""AppTest resets Streamlit's `pages/` detection before every run, so each run behaves like
the first request of a fresh server: with a `pages/` folder it runs the requested page script
alone, without app.py (streamlit-notes §1). A real server does that only until the first
session has run app.py. Tests run "warm" (as a real server after its first request) unless
they ask for the `cold_server` fixture, which keeps the fresh-server behaviour."""
from __future__ import annotations

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.pages_manager import PagesManager


@pytest.fixture
def cold_server():
    """Every run behaves like the first request to a freshly started server."""
    return True


@pytest.fixture(autouse=True)
def warm_server(request, monkeypatch):
    if "cold_server" in request.fixturenames:
        return
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False  # what st.navigation leaves behind in a real server

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def downloads(monkeypatch) -> dict[str, tuple[str | None, object]]:
    """The deferred downloads the pages offer: widget key -> (file name, callable giving the data)."""
    offered: dict[str, tuple[str | None, object]] = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self, data, mimetype, coordinates, file_name=None, element_id="", **kw):
        offered[element_id.rsplit("-", 1)[-1]] = (file_name, data)
        return original(self, data, mimetype, coordinates, file_name=file_name, element_id=element_id, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return offered
