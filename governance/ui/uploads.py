"""Uploaded files staged on disk for the Upload page. A staged file holds personal data outside the
store, so it lives only as long as its upload: in a private folder of its own, dropped when the load
is done, when the uploader is cleared or given another file, at sign-out, and at the latest after
`STALE_AFTER` (an abandoned session's; a live one stages its file again when it needs it)."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import streamlit as st

from governance.store.tabular import remove_old_folders

PREFIX = "steward-upload-"
STALE_AFTER = 6 * 3600  # seconds
_STAGED = "_staged_uploads"


def stage(uploaded) -> Path:
    """Write an UploadedFile to a private temp folder once per upload; return its path. Any other
    file this session had staged is dropped."""
    staged = st.session_state.setdefault(_STAGED, {})
    for file_id in [f for f in staged if f != uploaded.file_id]:
        _remove(staged.pop(file_id))
    path = staged.get(uploaded.file_id)
    if path is None or not Path(path).exists():
        remove_stale()
        directory = Path(tempfile.mkdtemp(prefix=PREFIX))
        path = directory / ("upload" + Path(uploaded.name).suffix.lower())
        with open(path, "wb") as fh:
            for chunk in iter(lambda: uploaded.read(4 * 1024 * 1024), b""):
                fh.write(chunk)
        uploaded.seek(0)
        staged[uploaded.file_id] = str(path)
    return Path(path)


def discard() -> None:
    """Drop every file this session has staged."""
    for path in st.session_state.pop(_STAGED, {}).values():
        _remove(path)


def remove_stale(now: float | None = None) -> int:
    """Remove this user's staged folders older than STALE_AFTER, of any session; return how many."""
    cutoff = (time.time() if now is None else now) - STALE_AFTER
    return remove_old_folders(Path(tempfile.gettempdir()).glob(PREFIX + "*"), cutoff)


def _remove(path: str) -> None:
    shutil.rmtree(Path(path).parent, ignore_errors=True)
