"""Small stores the crash tests start from: built once per session, copied per test."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from governance import pipeline, synth
from governance.access import auth
from governance.store.storage import open_database
from helpers import PASSWORDS, SAVED_MODEL

CUSTOMERS = 300  # about 130 records per resolve: each kill test stays around two seconds


@dataclass(frozen=True)
class SourceFile:
    source: str
    channel: str
    path: Path
    rows: int  # data rows, from the generator's ground truth


@pytest.fixture(scope="session")
def files(tmp_path_factory) -> dict[str, SourceFile]:
    """Generated channel files by channel: crm, pos, douyin, …"""
    workspace = synth.generate_workspace(CUSTOMERS, seed=7)
    paths = synth.write_workspace(workspace, tmp_path_factory.mktemp("files"))
    rows = Counter(source for source, _, _ in workspace.truth)
    return {spec.channel: SourceFile(spec.source, spec.channel, path, rows[spec.source])
            for spec, path in zip(workspace.files, paths)}


@pytest.fixture(scope="session")
def resolved_store(tmp_path_factory, files) -> Path:
    """CRM and POS loaded and resolved with the saved model (golden records built), a steward who may
    export unmasked, and the Douyin batch loaded since, so that the next resolve has work to do."""
    path = tmp_path_factory.mktemp("resolved") / "store.duckdb"
    db = open_database(path)
    try:
        for channel in ("crm", "pos"):
            pipeline.load_file(db, "t", files[channel].path, source=files[channel].source, channel=channel)
        pipeline.resolve(db, "t", model_json=SAVED_MODEL)
        auth.create_user(db, "t", "steward", PASSWORDS["steward"], "steward")
        pipeline.load_file(db, "t", files["douyin"].path, source=files["douyin"].source, channel="douyin")
    finally:
        db.close()
    return path
