"""`ingest` killed -9 part-way: running the same command again leaves the file loaded once and
standardized, with every row of the file, and a batch an interrupted load left stored but never
standardized is finished by loading its file again instead of being refused as a duplicate."""
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
