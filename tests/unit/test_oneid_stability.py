"""Never churn: a new batch changes no existing customer's OneID unless a new record joins it."""
from __future__ import annotations

import pytest

from governance import pipeline, synth
from governance.oneid import resolve as oneid
from governance.sources import ingest
from helpers import SAVED_MODEL, load_generated


def crosswalk(db) -> dict[int, str]:
    with db.cursor() as cur:
        return dict(cur.execute("SELECT rec_id, oneid FROM crosswalk").fetchall())


def scores(db) -> dict[tuple[int, int], float]:
    with db.cursor() as cur:
        return {(a, b): p for a, b, p in cur.execute("SELECT rec_l, rec_r, match_probability FROM match_pairs").fetchall()}


def load_unrelated(db, directory, customers: int, seed: int) -> None:
    """Other generated people (another seed: their own mobiles, resident IDs and accounts) under
    sources of their own, so no membership card collides either."""
    workspace = synth.generate_workspace(customers, seed=seed)
    for spec, path in zip(workspace.files, synth.write_workspace(workspace, directory)):
        ingest.ingest_file(db, path, actor="t", source=f"{spec.source}_later", channel=spec.channel)
    pipeline.standardize(db, "t")


def assert_no_churn(before: dict[int, str], after: dict[int, str]) -> None:
    members: dict[str, set[int]] = {}
    for rid, oid in after.items():
        members.setdefault(oid, set()).add(rid)
    new = set(after) - set(before)
    untouched = [rid for rid in before if not members[after[rid]] & new]   # its customer gained no new record
    moved = [rid for rid in untouched if after[rid] != before[rid]]
    assert not moved, f"{len(moved)} existing records changed OneID without a new record joining them"
    old_groups: dict[str, set[int]] = {}
    for rid, oid in before.items():
        old_groups.setdefault(oid, set()).add(rid)
    for oid, group in members.items():      # a customer without a new record is exactly the customer it was
        if not group & new:
            assert old_groups.get(oid) == group


@pytest.mark.parametrize("use_model", [True, False], ids=["saved_model", "rules_only"])
def test_an_unrelated_batch_moves_no_existing_oneid(db, tmp_path, use_model):
    """With a saved model, u and m are fixed but the name's term-frequency adjustment is computed
    from all the data: unrelated records move the scores of existing pairs. Here they move at least
    one pair across the auto-accept threshold, which merged two existing customers before resolve
    kept the scores of pairs whose evidence did not change."""
    load_generated(db, tmp_path / "first", 300, seed=7, resolve=False)  # seeds where the hazard shows
    options: dict = {"model_json": SAVED_MODEL} if use_model else {"use_model": False}
    oneid.resolve(db, "t", **options)
    before, scored = crosswalk(db), scores(db)

    load_unrelated(db, tmp_path / "later", 300, seed=779)
    prediction = oneid.predict(db, oneid.REVIEW_LOW, SAVED_MODEL) if use_model else None
    if prediction is not None:   # the hazard is there: a fresh scoring moves an existing pair across the threshold
        fresh = {(a, b): p for a, b, p in zip(*(prediction.pairs.column(c).to_pylist()
                                                 for c in ("rec_l", "rec_r", "match_probability")))}
        crossed = [k for k, p in scored.items() if k in fresh and (p >= oneid.AUTO_ACCEPT) != (fresh[k] >= oneid.AUTO_ACCEPT)]
        assert crossed
    result = oneid.resolve(db, "t", use_model=use_model, model_json=SAVED_MODEL if use_model else None,
                           prediction=prediction)
    after = crosswalk(db)
    assert len(after) > 1.8 * len(before) and result.new > 0
    assert_no_churn(before, after)
    assert (result.merged, result.split, result.retired) == (0, 0, 0)   # the new people matched nobody
    if use_model:
        now = scores(db)
        assert all(now[k] == p for k, p in scored.items() if k in now)  # unchanged pairs keep their score

    oneid.resolve(db, "t", **options)                                   # and keep it in later runs
    assert crosswalk(db) == after
