"""End to end on generated multi-channel data with ground truth: standardize, rules, the saved
Splink model, constrained clustering. Precision first; recall on the recoverable pairs."""
from __future__ import annotations

import pytest

from governance import synth
from governance.oneid import resolve as oneid
from governance.oneid import review
from governance.oneid.evaluate import evaluate
from governance.oneid.links import split_rec_id
from helpers import SAVED_MODEL as MODEL
from helpers import load_generated


@pytest.fixture(scope="module")
def workspace():
    return synth.generate_workspace(1500, seed=11)


@pytest.fixture
def resolved(db, tmp_path, workspace):
    load_generated(db, tmp_path / "demo", 1500, seed=11, resolve=False)
    result = oneid.resolve(db, "t", model_json=MODEL)
    return db, result


def test_hard_cases_are_present(workspace):
    """The data keeps what real exports have: nickname-only followers, masked mobiles, pinyin
    names and shared household phones."""
    text = b"".join(f.data for f in workspace.files if f.encoding != "xlsx").decode("utf-8", "ignore")
    assert "微信用户" in text and "****" in text
    crm = next(f for f in workspace.files if f.channel == "crm").data.decode("utf-8")
    assert any(name.istitle() for name in ("Zhang Wei", *crm.split(",")) if " " in name and name.isascii())
    mobiles = {}
    for c in workspace.customers:
        mobiles.setdefault(c["mobile"], set()).add(c["customer_id"])
    assert any(len(ids) > 1 for ids in mobiles.values())


def test_precision_and_recall_without_review(resolved, workspace):
    db, result = resolved
    with db.cursor() as cur:
        accuracy = evaluate(cur, workspace.truth)
    assert result.model_pairs > 0 and result.auto_links > 0
    assert accuracy.precision >= 0.99, accuracy
    assert accuracy.recall_recoverable >= 0.97, accuracy


def test_reviewing_the_queue_only_raises_f1(resolved, workspace):
    db, result = resolved
    truth = {(s, r): c for s, r, c in workspace.truth}
    with db.cursor() as cur:
        before = evaluate(cur, workspace.truth)
        source_of = dict(cur.execute("SELECT batch_id, source FROM batches").fetchall())
        queue = cur.execute("SELECT rec_l, rec_r FROM match_pairs WHERE band = 'review'").fetchall()
    assert queue, "the review band should hold some pairs"

    def customer(rid: int) -> str:
        batch, row = split_rec_id(rid)
        return truth[(source_of[batch], row)]

    for left, right in queue:  # a steward who knows the truth
        review.decide(db, "steward", left, right, "approve" if customer(left) == customer(right) else "reject")
    oneid.resolve(db, "t", model_json=MODEL)
    with db.cursor() as cur:
        after = evaluate(cur, workspace.truth)
        assert oneid.review_queue_size(cur) == 0

    def f1(a):
        return 2 * a.precision * a.recall / (a.precision + a.recall)

    assert f1(after) >= f1(before) and after.precision >= before.precision - 1e-9
