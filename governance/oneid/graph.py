"""Constraint-aware clustering at scale: the links stay in DuckDB.

The connected components of the link graph come from vectorized label propagation (numpy, a few
passes over the edge arrays). A component with
no constraint inside it (no cannot-link pair, at most one resident ID and one ID sex) is exactly
the cluster the union-find of cluster.py would build, so only the few components that hold a
constraint go through that union-find, in Python. Clusters are named by their smallest record id.

Works on temporary tables of one cursor: `_rec(rec_id, ...)` all records, `_links(rec_l, rec_r,
strength, placed_by)` between two different records of `_rec`, and `_cannot(rec_l, rec_r, reason)`;
writes `_clusters(rec_id, ..., cluster, placed_by)`.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from governance.oneid.cluster import LARGE_CLUSTER, Link, _bridges, cluster
from governance.store.storage import arrow_view, scalar


def temp_table(cur: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Copy an Arrow table into the temp table `name` of this cursor."""
    with arrow_view(cur, "_arrow_in", table):
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS FROM _arrow_in")


def components(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of the undirected edges (left[i], right[i]): (nodes, comp), each node
    with the smallest node id of its component. Vectorized min-label propagation with pointer
    jumping: a few passes over the edge arrays, whatever the number of nodes."""
    nodes, index = np.unique(np.concatenate([left, right]), return_inverse=True)
    a, b = index[: len(left)], index[len(left):]
    label = np.arange(len(nodes))
    while True:
        before = label.copy()
        low = np.minimum(label[a], label[b])
        np.minimum.at(label, a, low)
        np.minimum.at(label, b, low)
        while True:  # pointer jumping: every node takes its label's label
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
        if np.array_equal(label, before):
            return nodes, nodes[label]


@dataclass
class GraphClustering:
    cuts: list[tuple[Link, str, int]]            # refused link, why, cluster of its left record
    flagged: set[int]                            # clusters with a cut
    spots: list[tuple[int, str, Link | None]]    # (cluster, 'large' | 'weak_bridge', link)
    clusters: int


def cluster_records(cur: duckdb.DuckDBPyConnection, exclusive_sql: str, apart_sql: str | None = None,
                    whole_groups: Collection[str] = ()) -> GraphClustering:
    """Cluster `_rec` with `_links` under `_cannot`, the never-link attributes of `exclusive_sql`
    (rec_id, id_card, id_sex) and the pairs of `apart_sql` into `_clusters(rec_id, cluster,
    placed_by)`. `apart_sql` reads the components of the link graph from `_cc(node, comp)` and
    selects (rec_l, rec_r, reason): two records of one component that must stay apart.
    `whole_groups`: as cluster.cluster takes them."""
    edges = cur.execute("SELECT rec_l, rec_r, strength, placed_by FROM _links").fetchnumpy()
    left, right = edges["rec_l"].astype(np.int64), edges["rec_r"].astype(np.int64)
    nodes, comp = components(left, right)
    # Outside the hot components a record's strongest link is the one that placed it.
    strongest_first = np.argsort(-np.concatenate([edges["strength"], edges["strength"]]), kind="stable")
    _, first = np.unique(np.concatenate([left, right])[strongest_first], return_index=True)
    placed_by = np.asarray(edges["placed_by"], dtype=object)[strongest_first[first] % max(len(left), 1)]
    temp_table(cur, "_cc", pa.table({"node": pa.array(nodes, pa.int64()), "comp": pa.array(comp, pa.int64()),
                                     "placed_by": pa.array(placed_by, pa.string())}))
    if apart_sql:
        cur.execute(f"INSERT INTO _cannot BY NAME {apart_sql}")
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE _hot AS "
        "SELECT ca.comp FROM _cannot x JOIN _cc ca ON ca.node = x.rec_l JOIN _cc cb ON cb.node = x.rec_r "
        "WHERE ca.comp = cb.comp "
        f"UNION SELECT c.comp FROM _cc c JOIN ({exclusive_sql}) x ON x.rec_id = c.node GROUP BY c.comp "
        "HAVING min(x.id_card) <> max(x.id_card) OR min(x.id_sex) <> max(x.id_sex)")  # two distinct values
    cuts, flagged = _cluster_hot(cur, exclusive_sql, whole_groups)
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE _clusters AS SELECT r.*, coalesce(f.cluster, c.comp, r.rec_id) AS cluster, "
        "CASE WHEN f.rec_id IS NOT NULL THEN f.placed_by ELSE coalesce(c.placed_by, 'singleton') END AS placed_by "
        "FROM _rec r LEFT JOIN _cc c ON c.node = r.rec_id LEFT JOIN _fix f ON f.rec_id = r.rec_id")
    cur.execute("CREATE OR REPLACE TEMP TABLE _size AS SELECT cluster, count(*) AS n FROM _clusters GROUP BY cluster")
    spots = _weak_spots(cur)
    n = scalar(cur, "SELECT count(*) FROM _size")
    for table in ("_cc", "_hot", "_fix"):
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    return GraphClustering(cuts, flagged, spots, n)


def _cluster_hot(cur: duckdb.DuckDBPyConnection, exclusive_sql: str,
                 whole_groups: Collection[str]) -> tuple[list[tuple[Link, str, int]], set[int]]:
    """The union-find of cluster.py inside the components that hold a constraint; writes `_fix`."""
    cur.execute("CREATE OR REPLACE TEMP TABLE _fix (rec_id BIGINT, cluster BIGINT, placed_by VARCHAR)")
    nodes = [r[0] for r in cur.execute("SELECT node FROM _cc WHERE comp IN (SELECT comp FROM _hot)").fetchall()]
    if not nodes:
        return [], set()
    links = [Link(s, a, b, p) for s, a, b, p in cur.execute(
        "SELECT l.strength, l.rec_l, l.rec_r, l.placed_by FROM _links l JOIN _cc c ON c.node = l.rec_l "
        "WHERE c.comp IN (SELECT comp FROM _hot) ORDER BY l.strength DESC, l.rec_l, l.rec_r").fetchall()]
    cannot = cur.execute("SELECT x.rec_l, x.rec_r, x.reason FROM _cannot x JOIN _cc c ON c.node = x.rec_l "
                         "WHERE c.comp IN (SELECT comp FROM _hot)").fetchall()
    exclusive = {r: (card, sex) for r, card, sex in cur.execute(
        f"SELECT x.rec_id, x.id_card, x.id_sex FROM ({exclusive_sql}) x JOIN _cc c ON c.node = x.rec_id "
        "WHERE c.comp IN (SELECT comp FROM _hot)").fetchall()}
    result = cluster(nodes, links, cannot_link=cannot, exclusive=exclusive, whole_groups=whole_groups)
    name = {root: min(members) for root, members in result.members().items()}
    temp_table(cur, "_fix", pa.table({
        "rec_id": pa.array(nodes, pa.int64()), "cluster": pa.array([name[result.cluster_of[r]] for r in nodes], pa.int64()),
        "placed_by": pa.array([result.placed_by.get(r, "singleton") for r in nodes], pa.string())}))
    cuts = [(link, reason, name[result.cluster_of[link.left]]) for link, reason in result.cuts]
    return cuts, {name[root] for root in result.flagged}


def _weak_spots(cur: duckdb.DuckDBPyConnection) -> list[tuple[int, str, Link | None]]:
    """Large clusters, and model links that are bridges between two parts of two or more records
    (see cluster.weak_spots); only clusters of four or more with a model link are searched."""
    out: list[tuple[int, str, Link | None]] = [
        (c, "large", None) for (c,) in cur.execute(
            "SELECT cluster FROM _size WHERE n >= ? ORDER BY cluster", [LARGE_CLUSTER]).fetchall()]
    rows = cur.execute(
        "WITH big AS (SELECT rec_id, cluster FROM _clusters WHERE cluster IN (SELECT cluster FROM _size WHERE n >= 4)), "
        "inside AS (SELECT a.cluster, l.* FROM _links l JOIN big a ON a.rec_id = l.rec_l "
        "JOIN big b ON b.rec_id = l.rec_r WHERE a.cluster = b.cluster) "
        "SELECT cluster, strength, rec_l, rec_r, placed_by FROM inside WHERE cluster IN "
        "(SELECT cluster FROM inside WHERE placed_by LIKE 'model%') ORDER BY cluster, strength DESC, rec_l, rec_r").fetchall()
    by_cluster: dict[int, list[Link]] = {}
    for c, s, a, b, p in rows:
        by_cluster.setdefault(c, []).append(Link(s, a, b, p))
    for c, group in by_cluster.items():
        nodes = sorted({n for link in group for n in (link.left, link.right)})
        if len(nodes) < 4:
            continue
        out += [(c, "weak_bridge", link) for link, sizes in _bridges(nodes, group)
                if link.placed_by.startswith("model") and min(sizes) >= 2]
    return out
