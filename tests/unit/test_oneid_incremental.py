"""Incremental resolution: a resolve after a new batch works only on what the batch touches, and gives
what a full resolve gives. Checked on the independent seven-channel generator (tests/channelgen.py)
fed in three batches, with steward decisions between them: after every batch the incremental store
and a store resolved in full hold the same OneIDs, links, scored pairs, history and flags."""
from __future__ import annotations

import json
import time

import channelgen
import pytest

from governance import pipeline
from governance.oneid import model, review
from governance.oneid import resolve as oneid_resolve
from governance.oneid.links import (
    REC_ID,
    enabled_rules,
    household_mobiles_sql,
    set_rule_enabled,
    shipping_contacts_sql,
)
from governance.privacy import erasure
from governance.sources import ingest
from governance.store.storage import open_database, scalar
from helpers import SAVED_MODEL, load_generated

PEOPLE, SEED = 1200, 5


def _load(db, paths) -> None:
    for path in paths:
        ingest.ingest_file(db, path, actor="t", channel=channelgen.CHANNELS[channelgen.CHANNEL_OF_FILE[path.name]][2])


def _state(db) -> dict:
    """Everything a run leaves behind that an incremental run must leave the same."""
    with db.cursor() as cur:
        last = "(SELECT max(run_id) FROM oneid_runs)"
        return {
            "crosswalk": sorted(cur.execute("SELECT rec_id, oneid, placed_by FROM crosswalk").fetchall()),
            "links": sorted(cur.execute("SELECT rec_l, rec_r, strength, placed_by FROM oneid_links").fetchall()),
            "pairs": sorted(cur.execute("SELECT rec_l, rec_r, round(match_probability, 12), band, weights, held "
                                        "FROM match_pairs").fetchall()),
            "history": sorted(cur.execute(f"SELECT oneid, event, related, records FROM oneid_history "
                                          f"WHERE run_id = {last}").fetchall()),
            "flags": sorted(cur.execute(f"SELECT oneid, reason, rec_l, rec_r FROM cluster_flags WHERE run_id = {last}"
                                        ).fetchall(), key=str),
            "shipping": sorted(cur.execute("SELECT rec_id FROM oneid_shipping").fetchall()),
        }


def _decide_some(db, n: int) -> None:
    """Approve two of every three of the n most probable undecided queued pairs, reject the third."""
    with db.cursor() as cur:
        pairs = cur.execute("SELECT rec_l, rec_r FROM match_pairs p WHERE band = 'review' AND NOT EXISTS "
                            "(SELECT 1 FROM review_decisions d WHERE least(d.rec_l, d.rec_r) = p.rec_l "
                            "AND greatest(d.rec_l, d.rec_r) = p.rec_r) ORDER BY match_probability DESC, rec_l, rec_r "
                            "LIMIT ?", [n]).fetchall()
    for i, (a, b) in enumerate(pairs):
        review.decide(db, "t", a, b, "approve" if i % 3 else "reject")


def _afresh(db) -> None:
    """A full run that works out every pair's outcome again (none carried from the last run)."""
    pipeline.standardize(db, "t")
    with db.cursor() as cur:
        model_json = review.latest_model(cur)["model_json"]
    with db.transaction():
        oneid_resolve.resolve(db, "t", model_json=model_json, afresh=True)


def _agrees_with_afresh(got: dict, fresh: dict) -> None:
    """A store's state (`_state`) against a run that carried no outcome (`_afresh`): the same OneIDs,
    links and scored pairs, but for pairs scored below the review band before, which only a fresh
    run lets their term-frequency drift lift into the queue (where they move no OneID)."""
    for part in ("crosswalk", "links", "shipping"):
        assert got[part] == fresh[part], part
    kept = {p[:2] for p in got["pairs"]}
    assert [p for p in fresh["pairs"] if p[:2] in kept] == got["pairs"]
    assert {p[3] for p in fresh["pairs"] if p[:2] not in kept} <= {"review"}


def _rules_off(db) -> None:
    with db.cursor() as cur:
        rules = enabled_rules(cur)
    for rule in rules:
        set_rule_enabled(db, "t", rule.rule_id, False)


def _outcome(db, pair: tuple[int, int]) -> tuple | None:
    """A scored pair's band and whether the auto-link guards hold it back."""
    with db.cursor() as cur:
        return cur.execute("SELECT band, held FROM match_pairs WHERE rec_l = ? AND rec_r = ?", list(pair)).fetchone()


def test_batch_by_batch_equals_full_resolves(tmp_path, monkeypatch):
    monkeypatch.setattr(oneid_resolve, "INCREMENTAL_SHARE", 1.0)  # the small batches here are a large share
    paths = {channelgen.CHANNEL_OF_FILE[p.name]: p for p in channelgen.generate(PEOPLE, SEED, tmp_path / "files")}
    batches = [[p for c, p in paths.items() if c not in ("tmall", "ticket")], [paths["tmall"]], [paths["ticket"]]]
    stores = [open_database(tmp_path / f"{name}.duckdb") for name in ("step", "full", "afresh")]
    step, full, afresh = stores
    for db in stores:
        _load(db, batches[0])
        first = pipeline.resolve(db, "t", model_json=SAVED_MODEL).oneid
        assert first.mode == "full" and first.full_because == "first"
    for batch in batches[1:]:
        for db in stores:
            _decide_some(db, 24)
            _load(db, batch)
        incremental = pipeline.resolve(step, "t").oneid
        assert incremental.mode == "incremental" and 0 < incremental.area < incremental.records
        complete = pipeline.resolve(full, "t", full=True).oneid
        assert complete.mode == "full" and incremental.clusters == complete.clusters  # counted from the area alone
        got, want = _state(step), _state(full)
        for part in want:
            assert got[part] == want[part], part
        _afresh(afresh)  # and a run that carries no outcome: what changed was all found
        _agrees_with_afresh(got, _state(afresh))
        with step.cursor() as cur:  # the orders taken, found from the accounts that changed, are all of them
            assert got["shipping"] == sorted(cur.execute(f"SELECT rid FROM ({shipping_contacts_sql(cur)})").fetchall())
    assert len(want["links"]) > 500 and want["shipping"] and want["history"]  # the data exercised what it should


@pytest.fixture
def resolved(db, tmp_path):
    load_generated(db, tmp_path / "d", 60, seed=3)
    pipeline.resolve(db, "t", model_json=SAVED_MODEL, full=True)  # the first run that keeps its links
    return db


def test_nothing_changed_changes_nothing(resolved):
    before = _state(resolved)
    result = pipeline.resolve(resolved, "t").oneid
    assert (result.mode, result.area, result.new, result.merged, result.split, result.retired) == ("incremental", 0, 0, 0, 0, 0)
    after = _state(resolved)
    assert {k: v for k, v in after.items() if k != "history"} == {k: v for k, v in before.items() if k != "history"}
    assert after["history"] == []


def test_an_incremental_run_counts_the_oneids_a_record_erased_since_took_with_it(resolved):
    with resolved.transaction() as cur:
        before = scalar(cur, "SELECT count(DISTINCT oneid) FROM crosswalk")
        alone = cur.execute("SELECT batch_id, row_number FROM crosswalk WHERE oneid IN (SELECT oneid FROM crosswalk "
                            "GROUP BY oneid HAVING count(*) = 1) ORDER BY rec_id LIMIT 1").fetchall()
        erasure.erase(cur, alone)
    result = pipeline.resolve(resolved, "t").oneid
    with resolved.cursor() as cur:
        assert result.mode == "incremental" and result.clusters == before - 1 == scalar(
            cur, "SELECT count(DISTINCT oneid) FROM crosswalk")


def test_a_full_run_when_an_incremental_one_could_differ(resolved, tmp_path, monkeypatch):
    def reason(**kwargs) -> str | None:
        return pipeline.resolve(resolved, "t", **kwargs).oneid.full_because

    assert reason() is None
    assert reason(full=True) == "asked"
    assert reason(auto_accept=0.95) == "thresholds"
    assert reason(auto_accept=0.95) is None  # the new thresholds are now the last run's
    set_rule_enabled(resolved, "t", "mobile_one_person", False)
    assert reason() == "rules"
    set_rule_enabled(resolved, "t", "mobile_one_person", True)
    assert reason() == "rules"  # on again: not the rules the last run applied
    assert reason() is None
    with resolved.transaction() as cur:  # the last run came before an upgrade added a rule
        cur.execute("UPDATE oneid_runs SET rules = replace(rules, 'masked_mobile_surname_sex,', '') "
                    "WHERE run_id = (SELECT max(run_id) FROM oneid_runs)")
    assert reason() == "rules"
    with resolved.transaction() as cur:  # pairs scored before their auto-link guards were recorded (migration 23)
        cur.execute("UPDATE match_pairs SET held = NULL WHERE rec_l % 2 = 0")
    assert reason() == "unmarked"
    with resolved.cursor() as cur:
        assert scalar(cur, "SELECT count(*) FROM match_pairs WHERE held IS NULL") == 0
    assert reason() is None
    monkeypatch.setattr(oneid_resolve, "INCREMENTAL_SHARE", 0.0)
    load_generated(resolved, tmp_path / "more", 30, seed=4, resolve=False)
    assert reason() == "many"
    monkeypatch.setattr(oneid_resolve, "INCREMENTAL_SHARE", 0.2)
    with resolved.transaction() as cur:  # records leave the store (an erasure): their links must go too
        cur.execute("DELETE FROM std_records WHERE row_number = 1")
    assert reason() == "removed"
    pipeline.standardize(resolved, "t", batch_ids=[1])  # its old values may hold links a new run must undo
    assert reason() == "restandardized"
    with resolved.cursor() as cur:
        assert scalar(cur, f"SELECT count(*) FROM crosswalk WHERE rec_id NOT IN (SELECT {REC_ID} FROM std_records)") == 0
        assert scalar(cur, f"SELECT count(*) FROM oneid_links WHERE rec_r NOT IN (SELECT {REC_ID} FROM std_records)") == 0
    assert reason(retrain=True) == "model"


def test_the_kept_keys_are_erased_with_their_records(resolved):
    from governance.privacy import erasure

    with resolved.cursor() as cur:
        assert scalar(cur, "SELECT count(*) FROM oneid_keys") == scalar(cur, "SELECT count(*) FROM std_records")
        assert "oneid_keys" in [table for _schema, table, _links in erasure.linked_tables(cur)]


@pytest.mark.parametrize("rule", ["l.mobile = r.mobile OR (SELECT count(*) FROM users) > 0",
                                  "l.mobile = r.mobile; DROP TABLE crosswalk", "users.password_hash = r.mobile"])
def test_a_saved_model_whose_blocking_rule_is_not_a_condition_is_refused_in_one_line(resolved, rule):
    import json

    from governance.store.errors import GovernanceError

    bad = json.loads(SAVED_MODEL)
    bad["blocking_rules_to_generate_predictions"][0] = {"blocking_rule": rule, "sql_dialect": "duckdb"}
    with pytest.raises(GovernanceError, match="not a condition on two records"):
        pipeline.resolve(resolved, "t", model_json=json.dumps(bad))


def test_a_model_scores_on_its_trained_linker_as_its_saved_form_does(resolved):
    """A full run that trains scores on the trained linker; incremental runs score with the saved
    model. Both must give the same pairs and weights."""
    records = model._input(resolved)
    trained, pairs = model.train_and_score(records, 0.6, u_max_pairs=1e5)
    again = model.score_duckdb(records, json.loads(json.dumps(trained)), 0.6)

    def scored(table):
        return sorted(zip(table["rec_l"].to_pylist(), table["rec_r"].to_pylist(), table["match_weight"].to_pylist()))

    first, second = scored(pairs), scored(again)
    assert len(first) > 10 and [p[:2] for p in first] == [p[:2] for p in second]
    assert max(abs(a[2] - b[2]) for a, b in zip(first, second)) < 1e-9


@pytest.mark.parametrize("rules", ["on", "off"])
def test_an_erasure_that_frees_a_household_phone_rescores_its_pairs_as_a_full_run_does(tmp_path, rules):
    """A pair matching on a phone alone is held back while the phone carries other names. Erasing the
    records that carried them frees the phone: an incremental run then links the pair as a full one
    does, with the match rules on (a phone's rule group changes too) or off (the model alone)."""
    paths = channelgen.generate(PEOPLE, SEED, tmp_path / "files")
    step, fresh = open_database(tmp_path / "step.duckdb"), open_database(tmp_path / "fresh.duckdb")
    for db in (step, fresh):
        _load(db, paths)
        if rules == "off":
            _rules_off(db)
        pipeline.resolve(db, "t", model_json=SAVED_MODEL, full=True)
    with step.cursor() as cur:
        rec = REC_ID.replace("batch_id", "{t}.batch_id").replace("row_number", "{t}.row_number")
        pair = cur.execute(
            f"SELECT p.rec_l, p.rec_r FROM match_pairs p JOIN std_records l ON {rec.format(t='l')} = p.rec_l "
            f"JOIN std_records r ON {rec.format(t='r')} = p.rec_r WHERE p.held AND l.mobile = r.mobile "
            f"AND (l.name IS NULL OR r.name IS NULL) AND p.match_probability >= ? AND l.mobile IN "
            f"({household_mobiles_sql()}) ORDER BY p.rec_l, p.rec_r LIMIT 1", [oneid_resolve.AUTO_ACCEPT]).fetchone()
        others = cur.execute(f"SELECT batch_id, row_number FROM std_records WHERE mobile = (SELECT mobile FROM "
                             f"std_records WHERE {REC_ID} = ?) AND {REC_ID} NOT IN (?, ?)", [pair[0], *pair]).fetchall()
    for db in (step, fresh):
        with db.transaction() as cur:
            erasure.erase(cur, others)
    assert pipeline.resolve(step, "t").oneid.mode == "incremental"
    _afresh(fresh)
    _agrees_with_afresh(_state(step), _state(fresh))
    assert _outcome(step, pair) == _outcome(fresh, pair) == ("auto", False)  # the freed pair links now


def test_an_erasure_frees_a_household_phone_for_records_that_shared_only_the_phone(resolved, tmp_path):
    """The erased record shared nothing but the phone with the others on it (no OneID, no link), and
    no match rule groups by phone: the phone alone tells the next run which pairs to score again."""
    _rules_off(resolved)
    path = tmp_path / "phone.csv"
    path.write_text("姓名,手机号,昵称\n张伟,13911112222,\n李娜,13911112222,\n,13911112222,小伟\n", encoding="utf-8")
    batch = pipeline.load_file(resolved, "t", path, source="mini", channel="crm").ingested.batch_id
    pipeline.resolve(resolved, "t")
    zhang, li, unnamed = (batch * 4294967296 + n for n in (1, 2, 3))
    pair = (min(zhang, unnamed), max(zhang, unnamed))
    with resolved.cursor() as cur:
        assert scalar(cur, "SELECT count(*) FROM match_pairs WHERE rec_l = ? AND rec_r = ? AND match_probability >= ?",
                      [*pair, oneid_resolve.AUTO_ACCEPT]) == 1
        assert scalar(cur, "SELECT count(DISTINCT oneid) FROM crosswalk WHERE rec_id IN (?, ?, ?)", [zhang, li, unnamed]) == 3
    assert _outcome(resolved, pair) == ("review", True)  # 李娜 makes it a family phone
    with resolved.transaction() as cur:
        erasure.erase(cur, [(batch, 2)])
    assert pipeline.resolve(resolved, "t").oneid.mode == "incremental"
    assert _outcome(resolved, pair) == ("auto", False)
    with resolved.cursor() as cur:
        assert scalar(cur, "SELECT count(DISTINCT oneid) FROM crosswalk WHERE rec_id IN (?, ?)", pair) == 1
    incremental = _state(resolved)
    _afresh(resolved)
    _agrees_with_afresh(incremental, _state(resolved))


def test_a_new_name_on_a_phone_holds_back_the_pairs_the_phone_alone_linked(resolved, tmp_path):
    """An unnamed record linked to a named one by their phone alone; a new record brings another name
    to that phone, a household's now: the pair is held back, as a run that carries nothing decides."""
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("姓名,手机号,昵称\n张伟,13911113333,\n,13911113333,小伟\n", encoding="utf-8")
    second.write_text("姓名,手机号\n李娜,13911113333\n", encoding="utf-8")
    batch = pipeline.load_file(resolved, "t", first, source="mini", channel="crm").ingested.batch_id
    pipeline.resolve(resolved, "t")
    pair = (batch * 4294967296 + 1, batch * 4294967296 + 2)
    assert _outcome(resolved, pair) == ("auto", False)
    pipeline.load_file(resolved, "t", second, source="pos", channel="crm")
    assert pipeline.resolve(resolved, "t").oneid.mode == "incremental"
    incremental = _state(resolved)
    _afresh(resolved)
    _agrees_with_afresh(incremental, _state(resolved))
    assert _outcome(resolved, pair) == ("review", True)


def test_a_rule_failure_does_not_wait_for_the_scoring_beside_it(resolved, tmp_path, monkeypatch):
    """An incremental run scores the model in a second thread while its rules run here: a failure of
    the rules surfaces at once, not when the scoring ends, and the run leaves the store as it was."""
    with resolved.cursor() as cur:  # a customer seen again: the model has pairs to score
        name, mobile = cur.execute("SELECT name, mobile FROM std_records WHERE name_status = 'valid' "
                                   "AND mobile_status = 'valid' ORDER BY batch_id, row_number LIMIT 1").fetchone()
    new = tmp_path / "new.csv"
    new.write_text(f"姓名,手机号\n{name},{mobile}\n", encoding="utf-8")
    pipeline.load_file(resolved, "t", new, source="pos", channel="crm")
    before = _state(resolved)
    score = model.score_duckdb
    monkeypatch.setattr(model, "score_duckdb", lambda *args: (time.sleep(5), score(*args))[1])
    failed = []

    def fail(_cur, _sql):
        failed.append(time.perf_counter())
        raise RuntimeError("the rules failed")
    monkeypatch.setattr(oneid_resolve, "_rule_links", fail)
    with pytest.raises(RuntimeError, match="the rules failed"):
        pipeline.resolve(resolved, "t")
    assert failed and time.perf_counter() - failed[0] < 3
    assert _state(resolved) == before
