"""The review queue: ranking, side-by-side, why, concurrent decisions, undo, bulk and thresholds."""
from __future__ import annotations

import threading

import pytest

from governance.oneid import resolve as oneid
from governance.oneid import review
from helpers import SAVED_MODEL as MODEL
from helpers import load_generated


@pytest.fixture
def queued(db, tmp_path):
    load_generated(db, tmp_path / "d", 900, seed=5)
    with db.cursor() as cur:
        assert review.queue_size(cur) > 3
    return db


def test_queue_ranks_oneid_fusions_first_and_filters(queued):
    with queued.cursor() as cur:
        page = review.queue(cur, limit=500)
        some_source = page["source_l"].iloc[0]
        filtered = review.queue(cur, source=some_source, limit=500)
        band = review.queue(cur, low=0.9, high=1.0, limit=500)
    fuses = page["fuses_oneids"].tolist()
    assert fuses == sorted(fuses, reverse=True)
    fusions = [tuple(sorted(p)) for p in page[page["fuses_oneids"]][["oneid_l", "oneid_r"]].values]
    distinct = len(set(fusions))  # one pair of each two OneIDs first: a decision on it settles their fusion
    assert distinct < len(fusions) and len(set(fusions[:distinct])) == distinct
    assert ((filtered["source_l"] == some_source) | (filtered["source_r"] == some_source)).all()
    assert (band["match_probability"] >= 0.9).all()


def test_a_decided_fusion_sends_the_other_pairs_of_its_two_oneids_back(queued):
    def fusions(page) -> list[tuple[str, str]]:
        return [tuple(sorted(p)) for p in page[page["fuses_oneids"]][["oneid_l", "oneid_r"]].values]

    with queued.cursor() as cur:
        page = review.queue(cur, limit=500)
    repeated = next(k for k in fusions(page) if fusions(page).count(k) > 1)
    first = page[[tuple(sorted(p)) == repeated for p in page[["oneid_l", "oneid_r"]].values]].iloc[0]
    review.decide(queued, "t", int(first["rec_l"]), int(first["rec_r"]), "approve")
    with queued.cursor() as cur:
        after = fusions(review.queue(cur, limit=500))
    # every other two OneIDs' first pair comes before the undecided pairs of the two just settled
    assert repeated in after and after.index(repeated) == len(set(after)) - 1


def test_side_by_side_and_why(queued):
    with queued.cursor() as cur:
        pair = review.queue(cur, limit=1).iloc[0]
        frame = review.side_by_side(cur, int(pair.rec_l), int(pair.rec_r))
        total, parts = review.weights(cur, int(pair.rec_l), int(pair.rec_r))
    assert frame["field"].iloc[0] == "source" and {"left", "right", "differs"} <= set(frame.columns)
    assert parts and abs(total - sum(parts.values())) < 30  # the prior makes up the rest
    zh = review.explain(parts, float(pair.match_probability), "zh")
    en = review.explain(parts, float(pair.match_probability), "en")
    assert zh.startswith("匹配概率") and en.startswith("Match probability")


def test_first_decision_wins_under_concurrency(queued):
    with queued.cursor() as cur:
        pair = review.queue(cur, limit=1).iloc[0]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def steward(name: str, decision: str) -> None:
        barrier.wait()
        try:
            review.decide(queued, name, int(pair.rec_l), int(pair.rec_r), decision)
            outcomes.append("won")
        except review.AlreadyDecided as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=steward, args=("alice", "approve")),
               threading.Thread(target=steward, args=("bob", "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[-1] == "won" and "already decided" in sorted(outcomes)[0]
    with queued.cursor() as cur:
        decisions = cur.execute("SELECT count(*) FROM review_decisions").fetchone()[0]
        audited = cur.execute("SELECT count(*) FROM audit_log WHERE action LIKE 'review.%'").fetchone()[0]
    assert decisions == 1 and audited == 1


def test_undo_reopens_the_pair(queued):
    with queued.cursor() as cur:
        pair = review.queue(cur, limit=1).iloc[0]
        before = review.queue_size(cur)
    decision_id = review.decide(queued, "alice", int(pair.rec_l), int(pair.rec_r), "reject")
    with queued.cursor() as cur:
        assert review.queue_size(cur) == before - 1
    review.undo(queued, "alice", decision_id)
    with queued.cursor() as cur:
        assert review.queue_size(cur) == before and review.current_decision(cur, int(pair.rec_l), int(pair.rec_r)) is None


def test_bulk_preview_then_decide(queued):
    with queued.cursor() as cur:
        preview = review.bulk_preview(cur, 0.95, 1.0)
        before = review.queue_size(cur)
    assert review.bulk_decide(queued, "alice", 0.95, 1.0, "approve") == preview["pairs"]
    with queued.cursor() as cur:
        assert review.queue_size(cur) == before - preview["pairs"]
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'review.bulk_approve'").fetchone()[0] == 1


def test_threshold_preview_and_accuracy_from_reviews(queued):
    with queued.cursor() as cur:
        strict = review.threshold_preview(cur, 0.999, 0.6)
        loose = review.threshold_preview(cur, 0.9, 0.6)
        pairs = review.queue(cur, limit=4)
    assert loose["auto_pairs"] >= strict["auto_pairs"] and loose["review_pairs"] <= strict["review_pairs"]
    for i, row in enumerate(pairs.itertuples()):
        review.decide(queued, "alice", int(row.rec_l), int(row.rec_r), "approve" if i % 2 else "reject")
    with queued.cursor() as cur:
        acc = review.accuracy_from_reviews(cur, 0.6)
        held = dict(((int(r.rec_l), int(r.rec_r)), r.held) for r in cur.execute(
            "SELECT rec_l, rec_r, held FROM match_pairs").df().itertuples())
    linked = [i % 2 for i, row in enumerate(pairs.itertuples()) if not held[(int(row.rec_l), int(row.rec_r))]]
    assert acc["labels"] == 4 and 0 < len(linked) < 4  # the queue holds pairs the guards hold back, and others
    assert acc["precision"] == sum(linked) / len(linked)


def test_split_out_of_a_oneid_binds_the_next_run(queued):
    with queued.cursor() as cur:
        oneid_value, rec = cur.execute("SELECT oneid, max(rec_id) FROM crosswalk GROUP BY oneid "
                                       "HAVING count(*) >= 3 ORDER BY oneid LIMIT 1").fetchone()
        size = cur.execute("SELECT count(*) FROM crosswalk WHERE oneid = ?", [oneid_value]).fetchone()[0]
    assert review.split_out(queued, "alice", oneid_value, rec) == size - 1
    oneid.resolve(queued, "t", model_json=MODEL)
    with queued.cursor() as cur:
        moved = cur.execute("SELECT oneid FROM crosswalk WHERE rec_id = ?", [rec]).fetchone()[0]
        kept = cur.execute("SELECT count(*) FROM crosswalk WHERE oneid = ?", [oneid_value]).fetchone()[0]
    assert moved != oneid_value and kept == size - 1


def test_training_uses_approved_pairs_as_labels(queued, monkeypatch):
    from splink.internals.linker_components.training import LinkerTraining
    with queued.cursor() as cur:
        pairs = review.queue(cur, limit=25)
    for row in pairs.itertuples():
        review.decide(queued, "alice", int(row.rec_l), int(row.rec_r), "approve")
    calls = []
    original = LinkerTraining.estimate_m_from_pairwise_labels

    def spy(self, labels):
        calls.append(labels.as_pandas_dataframe())
        return original(self, labels)

    monkeypatch.setattr(LinkerTraining, "estimate_m_from_pairwise_labels", spy)
    result = oneid.resolve(queued, "t")  # trains a model: m from the 25 labels after EM
    assert len(calls) == 1 and len(calls[0]) == 25 and result.model_pairs > 0


def test_a_new_batch_is_matched_incrementally_without_requeueing_decided_pairs(db, tmp_path):
    """Incremental: decide the whole queue, then ingest one more channel file. Its records are
    scored against the existing ones, existing customers keep their OneIDs, and no decided pair
    comes back to the queue or is flagged again."""
    from governance import pipeline, synth
    from governance.oneid.links import split_rec_id
    from governance.sources import ingest

    workspace = synth.generate_workspace(900, seed=5)
    paths = synth.write_workspace(workspace, tmp_path / "d")
    first, later = list(zip(workspace.files, paths))[:-1], list(zip(workspace.files, paths))[-1]
    for spec, path in first:
        ingest.ingest_file(db, path, actor="t", source=spec.source, channel=spec.channel)
    pipeline.standardize(db, "t")
    oneid.resolve(db, "t", model_json=MODEL)
    with db.cursor() as cur:
        pairs = [(int(r.rec_l), int(r.rec_r)) for r in review.queue(cur, limit=10_000).itertuples()]
    assert len(pairs) > 3
    truth = {(s, r): c for s, r, c in workspace.truth}
    with db.cursor() as cur:
        source_of = dict(cur.execute("SELECT batch_id, source FROM batches").fetchall())

    def customer(rid: int) -> str:
        return truth[(source_of[split_rec_id(rid)[0]], split_rec_id(rid)[1])]

    same = {pair: customer(pair[0]) == customer(pair[1]) for pair in pairs}
    for (left, right), yes in same.items():           # a steward who knows the truth
        review.decide(db, "alice", left, right, "approve" if yes else "reject")
    assert not all(same.values()) and any(same.values())
    oneid.resolve(db, "t", model_json=MODEL)          # the decisions take effect
    with db.cursor() as cur:
        before = dict(cur.execute("SELECT rec_id, oneid FROM crosswalk").fetchall())

    spec, path = later
    batch = ingest.ingest_file(db, path, actor="t", source=spec.source, channel=spec.channel).batch_id
    pipeline.standardize(db, "t", [batch])
    result = oneid.resolve(db, "t", model_json=MODEL)
    with db.cursor() as cur:
        queued = {(int(r.rec_l), int(r.rec_r)) for r in review.queue(cur, limit=10_000).itertuples()}
        after = dict(cur.execute("SELECT rec_id, oneid FROM crosswalk").fetchall())
        rescored = cur.execute("SELECT count(*) FROM match_pairs p JOIN review_decisions d "
                               "ON p.rec_l = least(d.rec_l, d.rec_r) AND p.rec_r = greatest(d.rec_l, d.rec_r)").fetchone()[0]
        new_against_old = cur.execute(
            "SELECT count(*) FROM match_pairs WHERE (rec_l // 4294967296 = ?) <> (rec_r // 4294967296 = ?)",
            [batch, batch]).fetchone()[0]
        decided_auto = cur.execute("SELECT count(*) FROM match_pairs p JOIN review_decisions d ON p.rec_l = "
                                   "least(d.rec_l, d.rec_r) AND p.rec_r = greatest(d.rec_l, d.rec_r) "
                                   "WHERE p.band = 'auto'").fetchone()[0]
        merged_away = {r[0] for r in cur.execute("SELECT oneid FROM oneid_history WHERE run_id = ? AND event = 'retire'",
                                                 [result.run_id]).fetchall()}
    assert new_against_old > 0                        # the new batch was matched against the existing records
    assert rescored > 0 and not queued & set(pairs)   # decided pairs are scored again but never re-queued
    assert result.queue == len(queued) and decided_auto == 0
    assert all(after[left] != after[right] for (left, right), yes in same.items() if not yes)   # rejections bind
    assert all(after[left] == after[right] for (left, right), yes in same.items() if yes)       # approvals too
    changed = {rid for rid, o in before.items() if after[rid] != o}
    assert all(before[rid] in merged_away for rid in changed)   # an existing OneID changes only by a merge
    assert len(changed) < 0.05 * len(before)


def test_queue_search_matches_either_record_on_standardized_values(queued):
    with queued.cursor() as cur:
        page = review.queue(cur, limit=500, with_names=True)
        row = next(r for r in page.itertuples() if r.name_r)
        pinyin, mobile = cur.execute("SELECT name_pinyin, mobile FROM std_records WHERE batch_id * 4294967296 + "
                                     "row_number = ?", [int(row.rec_r)]).fetchone()
        pair = (int(row.rec_l), int(row.rec_r))

        def found(text: str) -> set[tuple[int, int]]:
            hits = review.queue(cur, limit=500, search=text)
            assert review.queue_size(cur, search=text) == len(hits)
            return {(int(a), int(b)) for a, b in hits[["rec_l", "rec_r"]].values}

        assert pair in found(row.name_r) and pair in found(row.oneid_r.lower()) and pair in found(row.oneid_l)
        if pinyin:
            assert pair in found(pinyin.title())
        if mobile:
            assert pair in found(f"+86-{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}")
        assert found("' OR '1'='1") == set() and found("无此人") == set()
    assert [review.search_kind(t) for t in ("oid0000000001", "136 0909 9830", "张伟", "Zhang Wei")] == [
        "oneid", "mobile", "name", "name"]


def test_queue_with_names_adds_names_and_channels_only_when_asked(queued):
    with queued.cursor() as cur:
        plain, named = review.queue(cur, limit=5), review.queue(cur, limit=5, with_names=True)
    assert not {"name_l", "name_r", "channel_l", "channel_r"} & set(plain.columns)
    assert named[plain.columns].equals(plain)


def test_pair_labels_name_people_and_channels_and_stay_unique():
    import pandas as pd

    page = pd.DataFrame({"record_l": ["1:2", "1:3", "1:4"], "record_r": ["5:6", "5:7", "5:8"],
                         "name_l": ["张*", "张*", None], "name_r": ["张**", "张**", "李*"],
                         "channel_l": ["crm", "crm", "wechat_mp"], "channel_r": ["tmall", "tmall", "pos"],
                         "match_probability": [0.8712, 0.8749, 0.5]})
    assert review.pair_labels(page, "zh") == ["张* (CRM会员系统) ↔ 张** (天猫旗舰店) · 0.87 · 1:2 ↔ 5:6",
                                              "张* (CRM会员系统) ↔ 张** (天猫旗舰店) · 0.87 · 1:3 ↔ 5:7",
                                              "— (微信小程序) ↔ 李* (门店POS) · 0.50"]
    assert review.pair_labels(page.drop(columns=["name_l", "name_r"]))[0] == "1:2 ↔ 5:6 · 0.871"
