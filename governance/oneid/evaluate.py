"""Accuracy of a resolution against known ground truth (generated data): pairwise precision and
recall on the clusters' transitive closure, and recall on the *recoverable* true pairs — those
whose two records share a valid identifier, or the same name and birth date."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from governance.oneid.links import REC_ID
from governance.standardize.engine import VALID_SQL
from governance.store.storage import one, scalar

_SHARED = " OR ".join([f"(a.{f} IS NOT NULL AND a.{f} = b.{f} AND a.{f}_status IN {VALID_SQL} "
                       f"AND b.{f}_status IN {VALID_SQL})"
                       for f in ("mobile", "id_card", "email", "wechat_union_id", "douyin_id", "member_card")]
                      + ["(a.wechat_open_id = b.wechat_open_id AND a.wechat_app_id = b.wechat_app_id)",
                         "(a.name_pinyin IS NOT NULL AND least(a.name_pinyin, coalesce(a.name_pinyin_rev, a.name_pinyin)) = "
                         "least(b.name_pinyin, coalesce(b.name_pinyin_rev, b.name_pinyin)) "
                         "AND coalesce(a.id_birth_date, TRY_CAST(a.birth_date AS DATE)) = "
                         "coalesce(b.id_birth_date, TRY_CAST(b.birth_date AS DATE)))"])


@dataclass
class Accuracy:
    precision: float
    recall: float
    recall_recoverable: float
    predicted_pairs: int
    true_pairs: int
    recoverable_pairs: int


def evaluate(cur: duckdb.DuckDBPyConnection, truth: list[tuple[str, int, str]]) -> Accuracy:
    """`truth`: (source, row_number, customer_id) for every record."""
    truth_rows = pa.table({"source": [t[0] for t in truth], "row_number": [t[1] for t in truth],  # noqa: F841
                      "customer": [t[2] for t in truth]})
    cur.execute("CREATE OR REPLACE TEMP TABLE _truth AS SELECT c.rec_id, c.oneid, t.customer FROM crosswalk c "
                "JOIN truth_rows t USING (source, row_number)")
    predicted, correct = one(cur,
        "SELECT count(*), count(*) FILTER (WHERE a.customer = b.customer) FROM _truth a JOIN _truth b "
        "ON a.oneid = b.oneid AND a.rec_id < b.rec_id")
    true_pairs = scalar(cur, "SELECT count(*) FROM _truth a JOIN _truth b ON a.customer = b.customer "
                             "AND a.rec_id < b.rec_id")
    recoverable, found = one(cur,
        f"WITH r AS (SELECT {REC_ID} AS rec_id, * FROM std_records) "
        f"SELECT count(*), count(*) FILTER (WHERE ta.oneid = tb.oneid) FROM _truth ta JOIN _truth tb "
        f"ON ta.customer = tb.customer AND ta.rec_id < tb.rec_id JOIN r a ON a.rec_id = ta.rec_id "
        f"JOIN r b ON b.rec_id = tb.rec_id WHERE {_SHARED}")
    cur.execute("DROP TABLE _truth")
    return Accuracy(correct / predicted if predicted else 1.0, correct / true_pairs if true_pairs else 1.0,
                    found / recoverable if recoverable else 1.0, predicted, true_pairs, recoverable)
