"""A whole resolve with the pairs scored on Spark: the same OneIDs, links and scored pairs as DuckDB,
in a full run and in an incremental one after a new batch."""
from __future__ import annotations

import functools

import pytest

from governance import pipeline
from governance.oneid import spark as engine
from governance.store.storage import open_database
from helpers import SAVED_MODEL, load_generated

pytestmark = pytest.mark.spark


def _state(db) -> tuple[list, list, list]:
    with db.cursor() as cur:
        return (cur.execute("SELECT rec_id, oneid FROM crosswalk ORDER BY rec_id").fetchall(),
                cur.execute("SELECT rec_l, rec_r, placed_by FROM oneid_links ORDER BY ALL").fetchall(),
                cur.execute("SELECT rec_l, rec_r, band, match_weight FROM match_pairs ORDER BY rec_l, rec_r").fetchall())


def _same(duck: tuple, spark: tuple) -> None:
    assert spark[0] == duck[0] and spark[1] == duck[1]  # OneIDs and links
    assert [p[:3] for p in spark[2]] == [p[:3] for p in duck[2]]
    assert max(abs(a[3] - b[3]) for a, b in zip(duck[2], spark[2])) < 1e-9


def test_a_resolve_on_spark_gives_duckdbs_oneids_in_full_and_incrementally(tmp_path, spark_options):
    on_spark = functools.partial(engine.score, options=spark_options)
    stores = {name: open_database(tmp_path / f"{name}.duckdb") for name in ("duckdb", "spark")}
    for name, db in stores.items():
        load_generated(db, tmp_path / name / "first", 80, seed=7, resolve=False)
        result = pipeline.resolve(db, "t", model_json=SAVED_MODEL, engine=on_spark if name == "spark" else None).oneid
        assert result.mode == "full" and result.model_pairs > 20
    _same(_state(stores["duckdb"]), _state(stores["spark"]))
    for name, db in stores.items():
        load_generated(db, tmp_path / name / "batch", 20, seed=8, resolve=False)
        result = pipeline.resolve(db, "t", engine=on_spark if name == "spark" else None).oneid
        assert result.mode == "incremental" and result.area > 0
    _same(_state(stores["duckdb"]), _state(stores["spark"]))
