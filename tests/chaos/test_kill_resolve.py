"""`resolve` killed -9 at any point: every OneID in the crosswalk keeps its golden record (the run
lands whole or not at all), and running it again gives what an uninterrupted run gives."""
from __future__ import annotations

import pytest
from chaos_kit import MODEL, copy_store, query, run_cli, stop_at

RESOLVE = ("resolve", "--model", str(MODEL))


def oneid_state(db) -> dict:
    """Runs, golden builds, the crosswalk (record -> OneID) and the golden records, read afresh."""
    runs, builds = query(db, "SELECT (SELECT count(*) FROM oneid_runs), (SELECT count(*) FROM golden_builds)")[0]
    return {"runs": runs, "builds": builds,
            "crosswalk": set(query(db, "SELECT rec_id, oneid FROM crosswalk")),
            "golden": query(db, "SELECT * FROM golden_records ORDER BY oneid")}


def golden_gaps(db) -> tuple[int, int]:
    """(OneIDs of the crosswalk without a golden record, golden records of no OneID in the crosswalk)."""
    return query(db, "SELECT (SELECT count(DISTINCT oneid) FROM crosswalk WHERE oneid NOT IN "
                     "(SELECT oneid FROM golden_wide)), (SELECT count(*) FROM golden_wide WHERE oneid NOT IN "
                     "(SELECT oneid FROM crosswalk))")[0]


@pytest.fixture(scope="module")
def before(resolved_store) -> dict:
    return oneid_state(resolved_store)


@pytest.fixture(scope="module")
def after(resolved_store, tmp_path_factory) -> dict:
    """What an uninterrupted resolve leaves."""
    db = copy_store(resolved_store, tmp_path_factory.mktemp("reference"))
    done = run_cli(db, *RESOLVE)
    assert done.returncode == 0, done.stderr
    return oneid_state(db)


def test_the_starting_store_holds_the_invariant_and_a_resolve_has_work(resolved_store, before, after):
    assert golden_gaps(resolved_store) == (0, 0)
    assert (before["runs"], after["runs"]) == (1, 2)
    assert len(after["crosswalk"]) > len(before["crosswalk"])  # the Douyin records get OneIDs


@pytest.mark.parametrize("point, lands", [
    ("resolve.scored", False),             # Splink has scored; nothing written yet
    ("resolve.crosswalk_written", False),  # the new crosswalk is written, its golden records not yet
    ("golden.rebuilt", False),             # the golden records are rebuilt, not yet committed
    ("resolve.committed", True),           # committed: it stays (from the write-ahead log, unless checkpointed)
])
def test_a_killed_resolve_lands_whole_or_not_at_all(resolved_store, before, after, tmp_path, point, lands):
    db = copy_store(resolved_store, tmp_path)
    stop_at(point, db, *RESOLVE)
    assert golden_gaps(db) == (0, 0)
    assert oneid_state(db) == (after if lands else before)
    assert run_cli(db, "audit", "verify").returncode == 0  # an anchor kept outside the store must not run ahead of it

    done = run_cli(db, *RESOLVE)  # the next run completes as if nothing had happened
    assert done.returncode == 0, done.stderr
    assert golden_gaps(db) == (0, 0)
    state = oneid_state(db)
    assert (state["crosswalk"], state["golden"]) == (after["crosswalk"], after["golden"])
