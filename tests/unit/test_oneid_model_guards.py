"""The model never takes a match weight of a probability of 0 or 1, and a resolve that cannot run
fails with one GovernanceError."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance import pipeline
from governance.oneid import model
from governance.sources import ingest
from governance.store.errors import GovernanceError

# No ID number and no mobile: both rules that estimate the prior find no pair, and Splink 5 then
# sets probability_two_random_records_match to 0, whose match weight is log2(0): math domain error.
ROWS = ["张伟,1980-01-02", "张伟,1980-01-02", "王芳,1975-05-06", "李娜,1990-03-04", "李娜,1990-03-04", "陈静,1985-07-08"]
# The rules find 6 of the 10 pairs, exactly the assumed recall (0.6) of all of them: the prior comes
# out as 1, and its infinite weight reaches the SQL as nan (a Binder Error).
EVERY_PAIR = ["张伟,13912345678"] * 4 + ["王芳,13700001111"]


def load(db, path: Path, header: str, rows: list[str]):
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source="crm", channel="crm")
    return db


@pytest.fixture
def no_identifiers(db, tmp_path: Path):
    return load(db, tmp_path / "names.csv", "姓名,出生日期", ROWS)


@pytest.mark.parametrize("header, rows", [("姓名,出生日期", ROWS), ("姓名,手机", EVERY_PAIR)], ids=["prior 0", "prior 1"])
def test_resolve_keeps_a_usable_prior(db, tmp_path, header, rows):
    resolved = pipeline.resolve(load(db, tmp_path / "a.csv", header, rows), "t")
    assert resolved.oneid.records == len(rows)
    with db.cursor() as cur:
        saved = json.loads(cur.execute("SELECT model_json FROM oneid_models").fetchall()[-1][0])
    assert 0 < saved["probability_two_random_records_match"] < 1


def test_a_saved_model_with_a_prior_of_0_or_1_still_scores(no_identifiers):
    pipeline.standardize(no_identifiers, "t")
    trained = json.loads(model.predict(no_identifiers, 0.5).model_json)
    for prior in (0.0, 1.0):
        scored = model.predict(no_identifiers, 0.5, model_json=json.dumps(trained | {"probability_two_random_records_match": prior}))
        assert all(0 <= p <= 1 for p in scored.pairs.column("match_probability").to_pylist())


@pytest.mark.parametrize("threshold", [0.0, 1.5, -0.1])
def test_a_threshold_outside_the_review_band_is_a_governance_error(no_identifiers, threshold):
    with pytest.raises(GovernanceError, match="between 0 and 1"):
        pipeline.resolve(no_identifiers, "t", review_low=threshold)


def test_a_broken_model_file_is_a_governance_error(no_identifiers):
    with pytest.raises(GovernanceError, match="model"):
        pipeline.resolve(no_identifiers, "t", model_json="{not json")
    with pytest.raises(GovernanceError, match="model"):
        pipeline.resolve(no_identifiers, "t", model_json=json.dumps({"comparisons": "nonsense"}))
