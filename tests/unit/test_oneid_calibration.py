"""Thresholds learned from steward decisions: precision per band, the recommendation, the preview
of applying it and the audited apply (governance/oneid/calibration.py)."""
from __future__ import annotations

import itertools
import json
import math

import pytest

from governance import pipeline
from governance.oneid import calibration, review
from governance.store.errors import GovernanceError
from helpers import load_generated

_ids = itertools.count(1)


def _plant(cur, probability: float, approved: int, rejected: int = 0, decided: bool = True,
           held: bool | None = False) -> list[tuple[int, int]]:
    """`approved + rejected` scored pairs at `probability`, each record its own OneID, and (when
    `decided`) a steward decision on each: the first `approved` approved, the rest rejected.
    `held`: the auto-link guards hold the pairs back (None: scored before that was recorded)."""
    pairs = []
    for i in range(approved + rejected):
        rec_l, rec_r = next(_ids), next(_ids)
        band = "auto" if probability >= 0.99 and not held else "review"
        cur.execute("INSERT INTO match_pairs VALUES (1, ?, ?, ?, 0.0, ?, NULL, ?)", [rec_l, rec_r, probability, band, held])
        for rec in (rec_l, rec_r):
            cur.execute("INSERT INTO crosswalk VALUES (?, 1, ?, 'crm', ?, 'single', 1)", [rec, rec, f"O{rec}"])
        if decided:
            decision = "approve" if i < approved else "reject"
            cur.execute("INSERT INTO review_decisions VALUES (nextval('decision_seq'), ?, ?, ?, 'alice', now(), NULL, "
                        "NULL, NULL)", [rec_r, rec_l, decision])  # either order is the same pair
        pairs.append((rec_l, rec_r))
    return pairs


@pytest.fixture
def planted(db):
    """Today's thresholds 0.99 / 0.60; labelled bands of width 0.05 (precision in brackets):
    0.95 (1.0), 0.90 (1.0), 0.85 (0.95), 0.65 (0.67), 0.60 (0.2)."""
    with db.transaction() as cur:
        cur.execute("INSERT INTO oneid_models VALUES (1, '{}', 0.99, 0.6)")
        _plant(cur, 0.96, 60)
        _plant(cur, 0.91, 60)
        _plant(cur, 0.86, 57, 3)
        _plant(cur, 0.66, 40, 20)
        _plant(cur, 0.61, 12, 48)
    return db


def test_precision_by_band_counts_active_labels(planted):
    with planted.transaction() as cur:
        (l1, r1), (l2, r2) = _plant(cur, 1.0, 1) + _plant(cur, 0.95, 1)
        cur.execute("UPDATE review_decisions SET undone_at = now() WHERE least(rec_l, rec_r) = ?", [l1])  # undone
        cur.execute("INSERT INTO review_decisions VALUES (nextval('decision_seq'), ?, ?, 'reject', 'bob', now(), NULL, "
                    "NULL, NULL)", [l2, r2])  # decided again: the latest decision counts
    with planted.cursor() as cur:
        bands = calibration.precision_by_band(cur, 0.05).set_index("low")
    assert len(bands) == 20 and bands["high"].iloc[-1] == 1.0
    top = bands.loc[0.95]  # 0.95 and 1.0 fall in the last band; the undone decision is no label
    assert (top["labels"], top["approved"], top["rejected"]) == (61, 60, 1) and top["measured"]
    assert bands.loc[0.85, "precision"] == pytest.approx(0.95)
    assert bands.loc[0.6, "precision"] == pytest.approx(0.2)
    assert bands.loc[0.3, "labels"] == 0 and math.isnan(bands.loc[0.3, "precision"]) and not bands.loc[0.3, "measured"]
    with planted.cursor() as cur:
        fine = calibration.precision_by_band(cur, 0.01)
        with pytest.raises(GovernanceError):
            calibration.precision_by_band(cur, 0.03)
    assert len(fine) == 100 and fine["labels"].sum() == bands["labels"].sum()


def test_recommend_lowers_auto_accept_through_measured_bands_and_raises_review_low(planted):
    with planted.cursor() as cur:
        rec = calibration.recommend(cur)
    assert rec.ready and rec.changes
    assert (rec.auto_accept, rec.review_low) == (0.9, 0.65)  # 0.85 misses 0.99; 0.60 is below the 0.5 floor
    assert (rec.current_auto_accept, rec.current_review_low) == (0.99, 0.6)
    assert rec.labels == 300 and rec.measured_bands == 5
    with planted.cursor() as cur:
        looser = calibration.recommend(cur, target=0.95, floor=0.1)
    assert (looser.auto_accept, looser.review_low) == (0.85, 0.6)


def test_labels_of_pairs_held_back_count_apart_from_the_bands_precision(planted):
    """A pair the auto-link guards hold back goes to a steward at any threshold: its label says
    nothing about where the threshold should be (a band full of them would read far below the
    pairs a lower threshold links). It still counts where review-low drops pairs from the queue."""
    with planted.transaction() as cur:
        _plant(cur, 0.86, 0, 40, held=True)  # would bring [0.85, 0.90) to 57 of 100
        _plant(cur, 0.86, 5, held=None)  # scored before held was recorded: counted as before
        _plant(cur, 0.71, 10, 50, held=True)  # only held labels: their band is queued, mostly not a match
    with planted.cursor() as cur:
        bands = calibration.precision_by_band(cur).set_index("low")
        rec = calibration.recommend(cur, target=0.95, floor=0.3)
    band = bands.loc[0.85]
    assert (band["labels"], band["approved"], band["held"], band["held_approved"]) == (65, 62, 40, 0)
    assert band["precision"] == pytest.approx(62 / 65) and bands.loc[0.7, "labels"] == 0
    assert (bands.loc[0.7, "held"], bands.loc[0.7, "held_approved"]) == (60, 10)
    assert rec.labels == 305 and rec.held == 100
    assert rec.auto_accept == 0.85  # 62 / 65 holds 0.95; counting the held ones (62 / 105) would not
    assert rec.review_low == 0.65  # 0.60 is below the floor; 0.65 holds it (0.67), so 0.70 stays queued


def test_review_low_rises_past_a_band_of_held_back_pairs_that_are_rarely_a_match(db):
    with db.transaction() as cur:
        cur.execute("INSERT INTO oneid_models VALUES (1, '{}', 0.99, 0.6)")
        _plant(cur, 0.96, 60)
        _plant(cur, 0.61, 5)
        _plant(cur, 0.62, 3, 52, held=True)  # raising review-low drops these from the queue too
    with db.cursor() as cur:
        rec = calibration.recommend(cur)
    assert (rec.auto_accept, rec.review_low) == (0.95, 0.65)


def test_recommend_never_lowers_through_a_band_without_enough_labels(db):
    with db.transaction() as cur:
        cur.execute("INSERT INTO oneid_models VALUES (1, '{}', 0.99, 0.6)")
        _plant(cur, 0.91, 60)
        _plant(cur, 0.96, 10)  # [0.95, 1.0) is not measured: no evidence to lower through it
    with db.cursor() as cur:
        rec = calibration.recommend(cur)
    assert rec.ready and (rec.auto_accept, rec.review_low) == (0.99, 0.6) and not rec.changes


def test_recommend_raises_auto_accept_past_a_measured_band_that_misses_the_target(db):
    with db.transaction() as cur:
        cur.execute("INSERT INTO oneid_models VALUES (1, '{}', 0.98, 0.6)")
        _plant(cur, 0.985, 45, 5)
        _plant(cur, 0.995, 50)
    with db.cursor() as cur:
        rec = calibration.recommend(cur, width=0.01)
    assert rec.auto_accept == 0.99 and rec.review_low == 0.6


def test_too_few_labels_recommend_nothing(db):
    with db.transaction() as cur:
        _plant(cur, 0.91, 30, 19)  # 49 labels: one short of a measured band
    with db.cursor() as cur:
        rec = calibration.recommend(cur)
        bands = calibration.precision_by_band(cur)
    assert not rec.ready and rec.auto_accept is None and rec.review_low is None and not rec.changes
    assert rec.labels == 49 and rec.measured_bands == 0 and not bands["measured"].any()
    assert (rec.current_auto_accept, rec.current_review_low) == (0.99, 0.6)  # no run yet: the defaults
    with db.cursor() as cur, pytest.raises(GovernanceError):
        calibration.recommend(cur, target=0.4, floor=0.5)
    with db.cursor() as cur, pytest.raises(GovernanceError, match="at least one label"):
        calibration.recommend(cur, min_labels=0)


def test_threshold_preview_counts_moves_and_merging_oneids(planted):
    with planted.transaction() as cur:
        a, b, c, d, e = (next(_ids) for _ in range(5))
        for rec in (a, b, c, d, e):
            cur.execute("INSERT INTO crosswalk VALUES (?, 1, ?, 'crm', ?, 'single', 1)", [rec, rec, f"O{rec}"])
        for left, right in ((a, b), (b, c), (d, e)):  # undecided: they would link at 0.90
            cur.execute("INSERT INTO match_pairs VALUES (1, ?, ?, 0.92, 0.0, 'review', NULL, false)", [left, right])
        _plant(cur, 0.93, 4, decided=False, held=True)  # the guards hold them back: no threshold links them
        _plant(cur, 0.995, 2, decided=False)  # already auto
    with planted.cursor() as cur:
        preview = review.threshold_preview(cur, 0.9, 0.65)
        same = review.threshold_preview(cur, 0.99, 0.6)
    # the decided pairs of the planted bands link (or not) as decided, at any threshold
    assert preview["to_auto"] == 3 and preview["to_review"] == 0 and preview["dropped"] == 60
    assert preview["merging_oneids"] == 3  # {a, b, c} become one and {d, e} one: three OneIDs fold in
    assert preview["auto_pairs"] == 3 + 2 and preview["review_pairs"] == 4  # the queue: the held pairs
    assert (same["to_auto"], same["to_review"], same["dropped"], same["merging_oneids"]) == (0, 0, 0, 0)
    with planted.cursor() as cur:
        assert review.threshold_preview(cur, 0.999, 0.6)["to_review"] == 2


def test_apply_thresholds_resolves_with_the_saved_model_and_is_audited(db, tmp_path):
    load_generated(db, tmp_path / "d", 300, seed=7)
    with db.cursor() as cur:
        before = review.latest_model(cur)
    resolved = pipeline.apply_thresholds(db, "alice", 0.95, 0.65, target=0.99)
    with db.cursor() as cur:
        after = review.latest_model(cur)
        action, actor, detail = cur.execute("SELECT action, actor, detail FROM audit_log WHERE action = "
                                            "'oneid.thresholds_apply'").fetchone()
    assert (after["auto_accept"], after["review_low"]) == (0.95, 0.65) and after["run_id"] == resolved.oneid.run_id
    assert after["model_json"] == before["model_json"]  # the saved model scores again, nothing is trained
    detail = json.loads(detail)
    assert actor == "alice" and detail["before"] == {"auto_accept": 0.99, "review_low": 0.6}
    assert detail["target"] == 0.99 and {"to_auto", "merging_oneids"} <= set(detail["preview"])
    with pytest.raises(GovernanceError):
        pipeline.apply_thresholds(db, "alice", 0.6, 0.9)  # refused: nothing is kept, not even the audit row
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'oneid.thresholds_apply'").fetchone()[0] == 1
        assert review.latest_model(cur)["run_id"] == after["run_id"]


def test_a_run_records_which_scored_pairs_the_guards_hold_back(db, tmp_path):
    """Every scored pair of a run says whether the auto-link guards hold it back; a held pair stays
    with the stewards however low the threshold goes, and every other undecided pair above it links."""
    load_generated(db, tmp_path / "d", 300, seed=7)
    pipeline.apply_thresholds(db, "alice", 0.6, 0.6)
    with db.cursor() as cur:
        unknown, held, held_above, auto_held, left_out = cur.execute(
            "SELECT count(*) FILTER (WHERE held IS NULL), count(*) FILTER (WHERE held), "
            "count(*) FILTER (WHERE held AND band = 'review'), count(*) FILTER (WHERE held AND band = 'auto'), "
            "count(*) FILTER (WHERE NOT held AND band = 'review') FROM match_pairs").fetchone()
        preview = review.threshold_preview(cur, 0.6, 0.6)
    assert unknown == 0 and held > 0 and held_above == held and auto_held == 0 and left_out == 0
    assert preview["to_auto"] == 0 and preview["review_pairs"] == held  # the queue is the held pairs


def test_the_pages_precision_estimate_counts_only_pairs_the_model_would_link(planted):
    with planted.transaction() as cur:
        _plant(cur, 0.95, 0, 10, held=True)  # rejected, but no threshold links them
    with planted.cursor() as cur:
        acc = review.accuracy_from_reviews(cur, 0.9)
    assert acc["labels"] == 310 and acc["precision"] == 1.0  # 120 approved at 0.90 and up, none rejected
    assert acc["recall"] == pytest.approx(120 / (120 + 57 + 40 + 12))


def test_an_unnamed_record_on_a_household_phone_is_held_back_from_every_named_one(db, tmp_path):
    from governance.oneid import resolve as oneid
    from helpers import SAVED_MODEL

    rows = ["source,姓名,手机号,昵称", "wechat,,13912345678,小太阳",  # WeChat authorized the phone, no name
            "crm,张伟,13912345678,", "crm,王芳,13912345678,",          # two full names: a family phone
            "wechat,,13700000009,阳光", "crm,陈静,13700000009,"]       # one name on the phone: no guard
    for source in ("wechat", "crm"):
        path = tmp_path / f"{source}.csv"
        path.write_text("\n".join(["姓名,手机号,昵称"] + [r.split(",", 1)[1] for r in rows[1:] if r.startswith(source)])
                        + "\n", encoding="utf-8")
        pipeline.load_file(db, "t", path, source=source, channel="crm" if source == "crm" else "wechat_mp")
    oneid.resolve(db, "t", model_json=SAVED_MODEL)
    with db.cursor() as cur:
        scored = {(n_l or "", n_r or ""): held for n_l, n_r, held in cur.execute(
            "SELECT l.name, r.name, p.held FROM match_pairs p JOIN std_records l ON l.batch_id = p.rec_l // 4294967296 "
            "AND l.row_number = p.rec_l % 4294967296 JOIN std_records r ON r.batch_id = p.rec_r // 4294967296 "
            "AND r.row_number = p.rec_r % 4294967296").fetchall()}
    unnamed_household = {k: v for k, v in scored.items() if "" in k and {"张伟", "王芳"} & set(k)}
    assert unnamed_household and all(unnamed_household.values())
    assert scored.get(("", "陈静"), scored.get(("陈静", ""))) is False
