"""OneID on data the product was not shaped on: seven channel exports from an independent generator
(tests/channelgen.py: mini-program, official account, Douyin leads, Tmall orders with gifts, POS,
CRM, service tickets), loaded with the automatic mapping and resolved with a model trained on them,
as a steward would. Floors on pair-closure precision and recall overall, and on recall per channel
pair (docs/benchmarks.md has the figures at 20,000 people)."""
from __future__ import annotations

import csv

import channelgen
import pytest

from governance import pipeline
from governance.oneid import resolve
from governance.sources import ingest
from helpers import pair_closure

PEOPLE, SEED = 2000, 11


def _resolved(directory, profile: str = "harsh"):
    from governance.store.storage import open_database

    paths = channelgen.generate(PEOPLE, SEED, directory / "files", profile)
    db = open_database(directory / "store.duckdb")
    batch_of = {}
    for path in paths:
        channel = channelgen.CHANNELS[channelgen.CHANNEL_OF_FILE[path.name]][2]
        batch_of[path.name] = ingest.ingest_file(db, path, actor="t", channel=channel).batch_id
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t")  # no saved model: it trains one on these records
    with db.cursor() as cur:
        oneid_of = {(b, r): o for b, r, o in cur.execute("SELECT batch_id, row_number, oneid FROM crosswalk").fetchall()}
        tmall = channelgen.CHANNELS["tmall"][0]
        mapped = dict(cur.execute("SELECT e.field, e.header FROM mapping_entries e JOIN batches b USING (source) "
                                  "WHERE b.file_name = ? AND e.field IN ('mobile', 'landline')", [tmall]).fetchall())
    db.close()
    with (directory / "files" / "truth.csv").open(encoding="utf-8") as f:
        truth = {(r["file"], int(r["row_number"])): r["person_id"] for r in csv.DictReader(f)}
    cluster_of = {k: oneid_of.get((batch_of[k[0]], k[1])) for k in truth}
    channel_of = {k: channelgen.CHANNEL_OF_FILE[k[0]] for k in truth}
    return cluster_of, truth, channel_of, mapped


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    return _resolved(tmp_path_factory.mktemp("channels"))


def test_every_row_gets_a_oneid_and_the_receivers_mobile_is_mapped(resolved):
    cluster_of, truth, _, mapped = resolved
    assert None not in cluster_of.values()  # every row of every file is in the crosswalk
    assert "手机" in mapped["mobile"] and "手机" not in mapped.get("landline", "")  # not the landline column beside it


def test_precision_and_recall_without_review(resolved):
    cluster_of, truth, _, _ = resolved
    precision, recall, _f1, _, _ = pair_closure(cluster_of, truth)
    assert precision >= 0.91 and recall >= 0.56, (precision, recall)
    # gift orders are the buyer's in the truth; counted as their receiver's, precision is higher still


def test_a_milder_draw_holds_precision_098(tmp_path):
    """Fewer common names, households, placeholder phones and gifts (channelgen's 'mild' profile): where
    the data allow it, precision holds the OneID issue's 0.98 (0.9925 here, 0.990 at 20,000 people)."""
    cluster_of, truth, _, _ = _resolved(tmp_path, "mild")
    precision, recall, _f1, _, _ = pair_closure(cluster_of, truth)
    assert precision >= 0.98 and recall >= 0.57, (precision, recall)


@pytest.mark.parametrize("pair, floor", [
    ("mini/oa", 0.70),        # union_id
    ("pos/crm", 0.80),        # mobile and name
    ("douyin/pos", 0.65),     # masked mobiles, names, birth dates
    ("tmall/pos", 0.70),      # the receiver's mobile
    ("tmall/crm", 0.75),
    ("crm/ticket", 0.65),     # salutations against full names on one phone
    ("douyin/douyin", 0.85),
])
def test_recall_per_channel_pair(resolved, pair, floor):
    cluster_of, truth, channel_of, _ = resolved
    counts = channelgen.by_channel_pair(cluster_of, truth, channel_of)[pair]
    assert counts["true"] >= 20 and counts["linked"] / counts["true"] >= floor, counts
