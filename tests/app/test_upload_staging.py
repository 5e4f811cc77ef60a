"""A file given to the Upload page is staged on disk only while its upload is in play: it holds
personal data outside the store, so it goes once loaded, when the uploader is cleared or given
another file, at sign-out, and after a few hours in any case."""
from __future__ import annotations

import os
import tempfile
import time

import pytest

from governance.ui import uploads
from helpers import app_test

UPLOAD = "pages/upload.py"
CSV = "姓名,手机号\n张伟,13800138000\n".encode()


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The temp root the page stages into, empty at the start."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _staged(root) -> list[str]:
    return sorted(p.name for p in root.glob(uploads.PREFIX + "*/*"))


def _give(at, name: str, content: bytes = CSV):
    at.file_uploader(key="upload_file").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception


def _upload_page(app_db):
    at = app_test(app_db, "steward", "zh").run()
    at.switch_page(UPLOAD).run()
    at.radio(key="upload_mode").set_value("new").run()
    at.text_input(key="upload_new_source").input("门店")
    return at


def test_a_staged_file_lives_only_while_its_upload_is_in_play(app_db, private_tmp):
    at = _upload_page(app_db)
    _give(at, "first.csv")
    assert _staged(private_tmp) == ["upload.csv"]
    [first] = private_tmp.glob(uploads.PREFIX + "*")
    assert oct(first.stat().st_mode & 0o777) == "0o700"

    _give(at, "second.csv")  # another file: the first one goes
    assert _staged(private_tmp) == ["upload.csv"] and not first.exists()
    _give(at, "third.pdf")  # a type the page refuses: nothing staged, the earlier file gone
    assert _staged(private_tmp) == []
    _give(at, "fourth.csv")
    assert _staged(private_tmp) == ["upload.csv"]

    at.file_uploader(key="upload_file").set_value(None).run()
    assert not at.exception, at.exception
    assert _staged(private_tmp) == []


def test_a_loaded_file_and_a_signed_out_session_leave_nothing_staged(app_db, private_tmp):
    at = _upload_page(app_db)
    _give(at, "members.csv")
    at.button(key="upload_confirm").click().run()
    assert not at.exception, at.exception
    with app_db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM batches").fetchone() == (1,)
    assert _staged(private_tmp) == []

    at = _upload_page(app_db)
    _give(at, "again.csv", CSV + "李娜,13900139000\n".encode())
    assert _staged(private_tmp) == ["upload.csv"]
    at.button(key="logout_button").click().run()
    assert not at.exception, at.exception
    assert _staged(private_tmp) == []


def test_stale_staged_folders_of_abandoned_sessions_are_removed(private_tmp):
    now = time.time()
    old, fresh = (private_tmp / f"{uploads.PREFIX}{n}" for n in ("old", "fresh"))
    other = private_tmp / "someone-else-old"
    for folder, age in ((old, uploads.STALE_AFTER + 60), (fresh, uploads.STALE_AFTER - 60), (other, 10**6)):
        folder.mkdir()
        (folder / "upload.csv").write_bytes(CSV)
        os.utime(folder, (now - age, now - age))
    assert uploads.remove_stale(now) == 1
    assert not old.exists() and fresh.exists() and other.exists()
