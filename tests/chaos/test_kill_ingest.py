"""`ingest` killed -9 part-way: running the same command again leaves the file loaded once and
standardized, with every row of the file, and a batch an interrupted load left stored but never
standardized is finished by loading its file again instead of being refused as a duplicate. The
UTF-8 copy of a file in another encoding does not outlive a killed load."""
from __future__ import annotations

import pytest
from chaos_kit import query, run_cli, stop_at

from governance.sources import ingest
from governance.store.storage import open_database


def ingest_args(crm) -> tuple[str, ...]:
    return ("ingest", str(crm.path), "--source", crm.source, "--channel", "crm")


def batches(db) -> list[tuple]:
    """Per batch: rows it says it holds, raw rows stored, standardized rows, whether it is marked standardized."""
    found = []
    for batch_id, rows, table in query(db, "SELECT batch_id, row_count, table_name FROM batches ORDER BY batch_id"):
        (raw,), = query(db, f"SELECT count(*) FROM {table}")
        (std, marked), = query(db, "SELECT (SELECT count(*) FROM std_records WHERE batch_id = $b), "
                                   "(SELECT count(*) FROM std_batches WHERE batch_id = $b)", {"b": batch_id})
        found.append((rows, raw, std, marked))
    return found


@pytest.mark.parametrize("point", ["ingest.stored", "standardize.written"])
def test_the_same_command_after_a_kill_leaves_the_file_loaded_once_and_standardized(files, tmp_path, point):
    crm, db = files["crm"], tmp_path / "store.duckdb"
    stop_at(point, db, *ingest_args(crm))
    done = run_cli(db, *ingest_args(crm))
    assert done.returncode == 0, done.stderr
    assert batches(db) == [(crm.rows, crm.rows, crm.rows, 1)]


def test_loading_a_file_again_finishes_the_batch_an_interrupted_load_left_unstandardized(files, tmp_path):
    crm, db = files["crm"], tmp_path / "store.duckdb"
    store = open_database(db)  # an earlier release committed the batch, then was killed before standardizing
    ingest.ingest_file(store, crm.path, actor="t", source=crm.source, channel="crm")
    store.close()
    assert batches(db) == [(crm.rows, crm.rows, 0, 0)]

    done = run_cli(db, *ingest_args(crm))
    assert done.returncode == 0, done.stderr
    assert '"resumed": true' in done.stdout
    assert batches(db) == [(crm.rows, crm.rows, crm.rows, 1)]
    again = run_cli(db, *ingest_args(crm))  # finished now: loading it again is a duplicate
    assert again.returncode == 2 and "already loaded" in again.stderr
    assert len(batches(db)) == 1


def test_a_killed_load_leaves_no_copy_of_the_file_behind(files, tmp_path):
    """A GB18030 file is read through a private UTF-8 copy: killed while it exists, the copy is
    removed by the next load, which loads the file once."""
    crm, db, scratch = files["crm"], tmp_path / "store.duckdb", tmp_path / "scratch"
    scratch.mkdir()
    gbk = tmp_path / "crm_gb18030.csv"
    gbk.write_bytes(crm.path.read_text(encoding="utf-8-sig").encode("gb18030"))
    args, env = ("ingest", str(gbk), "--source", crm.source, "--channel", "crm"), {"TMPDIR": str(scratch)}
    stop_at("ingest.transcoded", db, *args, env=env)
    [copy] = scratch.iterdir()
    assert (copy.stat().st_mode & 0o777) == 0o600 and copy.read_text(encoding="utf-8") == crm.path.read_text(
        encoding="utf-8-sig").replace("\r\n", "\n")
    done = run_cli(db, *args, env=env)
    assert done.returncode == 0, done.stderr
    assert list(scratch.iterdir()) == []
    assert batches(db) == [(crm.rows, crm.rows, crm.rows, 1)]
