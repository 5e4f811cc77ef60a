"""Constraint-aware clustering: a union-find that adds links strongest first and refuses any
link that would put two records a steward or a never-link rule kept apart into one cluster.

Refused links are returned as cuts; the clusters on both sides are flagged for review. Adding
links in order of strength means a conflict is always resolved by dropping the weakest links.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field


@dataclass(order=True)
class Link:
    strength: float                  # higher first: rules > approvals > model probability
    left: int = field(compare=False)
    right: int = field(compare=False)
    placed_by: str = field(compare=False)  # rule id, 'review', or 'model'


@dataclass
class Clustering:
    cluster_of: dict[int, int]       # record -> cluster root (a member record id)
    placed_by: dict[int, str]        # record -> the link that first placed it in its cluster
    cuts: list[tuple[Link, str]]     # refused links and why ('cannot_link' | 'names_one_phone' | 'two_names' | 'birth_years' | 'id_card' | 'id_sex')
    flagged: set[int]                # cluster roots to review

    def members(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for rid, root in self.cluster_of.items():
            out.setdefault(root, []).append(rid)
        return out


def cluster(records: list[int], links: list[Link], cannot_link: Iterable[tuple] = (),
            exclusive: dict[int, tuple] | None = None, whole_groups: Collection[str] = ()) -> Clustering:
    """Cluster `records` with `links` under constraints.

    cannot_link: pairs that must end up apart (steward rejections, splits), each (a, b) or
    (a, b, why): a refused link's reason, 'cannot_link' by default.
    exclusive: per record a tuple of attributes (e.g. (valid ID number, ID sex)); a cluster may
    hold at most one distinct non-null value in each position.
    whole_groups: rules whose links (a star around one record, `left`) claim that the whole group is
    one person: once one of them is refused, the claim is void and the group's other links go too.
    """
    cannot_link = list(cannot_link)
    withdrawn: set[tuple[str, int]] = set()  # (rule, star centre) of the void claims
    voiding: list[tuple[Link, str]] = []     # the refused links that voided them
    while True:
        result = _union_find(records, [link for link in links if (link.placed_by, link.left) not in withdrawn],
                             cannot_link, exclusive or {})
        void = [(link, why) for link, why in result.cuts if link.placed_by in whole_groups]
        if not void:
            break
        withdrawn.update((link.placed_by, link.left) for link, _ in void)
        voiding += void
    for link, why in voiding:  # still a steward's to look at
        result.cuts.append((link, why))
        result.flagged.update((result.cluster_of[link.left], result.cluster_of[link.right]))
    return result


def _union_find(records: list[int], links: list[Link], cannot_link: Iterable[tuple],
                exclusive: dict[int, tuple]) -> Clustering:
    parent = {r: r for r in records}
    size = dict.fromkeys(records, 1)
    width = max((len(v) for v in exclusive.values()), default=0)
    # Only records that carry constraints get state: most records have none.
    values: dict[int, list[set]] = {r: [({v} if v is not None else set()) for v in attrs]
                                    for r, attrs in exclusive.items() if r in parent}
    apart: dict[int, dict[int, str]] = {}  # record -> {record kept apart from it: why}
    for a, b, *why in cannot_link:
        if a in parent and b in parent and a != b:
            apart.setdefault(a, {})[b] = apart.setdefault(b, {})[a] = why[0] if why else "cannot_link"
    placed_by: dict[int, str] = {}
    cuts: list[tuple[Link, str]] = []
    flagged: set[int] = set()

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def conflict(a: int, b: int) -> str | None:
        for root, other in ((a, b), (b, a)):
            why = next((why for p, why in apart.get(root, {}).items() if find(p) == other), None)
            if why:
                return why
        va, vb = values.get(a), values.get(b)
        if va and vb:
            for i in range(width):
                if len(va[i] | vb[i]) > 1:
                    return ("id_card", "id_sex")[i] if i < 2 else f"exclusive_{i}"
        return None

    for link in sorted(links, key=lambda link: link.strength, reverse=True):
        if link.left not in parent or link.right not in parent:
            continue
        a, b = find(link.left), find(link.right)
        if a == b:
            continue
        reason = conflict(a, b)
        if reason:
            cuts.append((link, reason))
            flagged.update((a, b))
            continue
        if size[a] < size[b]:
            a, b = b, a
        parent[b] = a
        size[a] += size[b]
        if b in apart:
            apart.setdefault(a, {}).update(apart.pop(b))
        if b in values:
            if a in values:
                for i in range(width):
                    values[a][i] |= values[b][i]
            else:
                values[a] = values[b]
            del values[b]
        placed_by.setdefault(link.left, link.placed_by)
        placed_by.setdefault(link.right, link.placed_by)
        if b in flagged:
            flagged.add(a)
    cluster_of = {r: find(r) for r in records}
    return Clustering(cluster_of, placed_by, cuts, {find(r) for r in flagged})


LARGE_CLUSTER = 20  # members; bigger clusters are flagged for a steward's look


def weak_spots(clustering: Clustering, links: list[Link]) -> list[tuple[int, str, Link | None]]:
    """(cluster root, reason, link) for clusters a steward should look at: 'large' ones, and those
    held together by a 'weak_bridge' — a model link whose removal splits the cluster into two
    parts of two or more records each."""
    out: list[tuple[int, str, Link | None]] = []
    members = clustering.members()
    by_cluster: dict[int, list[Link]] = {}
    for link in links:
        root = clustering.cluster_of.get(link.left)
        if root is not None and root == clustering.cluster_of.get(link.right) and link.left != link.right:
            by_cluster.setdefault(root, []).append(link)
    for root, group in members.items():
        if len(group) >= LARGE_CLUSTER:
            out.append((root, "large", None))
        if len(group) < 4:
            continue
        for link, sizes in _bridges(group, by_cluster.get(root, [])):
            if link.placed_by.startswith("model") and min(sizes) >= 2:
                out.append((root, "weak_bridge", link))
    return out


def _bridges(nodes: list[int], links: list[Link]) -> list[tuple[Link, tuple[int, int]]]:
    """Bridges of a connected graph (iterative Tarjan), each with the sizes of the two sides."""
    adjacency: dict[int, list[tuple[int, int]]] = {n: [] for n in nodes}
    for i, link in enumerate(links):
        adjacency[link.left].append((link.right, i))
        adjacency[link.right].append((link.left, i))
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    size: dict[int, int] = {}
    found: list[tuple[Link, tuple[int, int]]] = []
    start = nodes[0]
    order[start] = low[start] = 0
    stack = [(start, -1, iter(adjacency[start]))]
    counter = 1
    while stack:
        node, via, edges = stack[-1]
        advanced = False
        for nxt, edge in edges:
            if edge == via:
                continue
            if nxt not in order:
                order[nxt] = low[nxt] = counter
                counter += 1
                stack.append((nxt, edge, iter(adjacency[nxt])))
                advanced = True
                break
            low[node] = min(low[node], order[nxt])
        if advanced:
            continue
        stack.pop()
        size[node] = size.get(node, 0) + 1
        if stack:
            parent = stack[-1][0]
            low[parent] = min(low[parent], low[node])
            size[parent] = size.get(parent, 0) + size[node]
            if low[node] > order[parent]:
                found.append((links[via], (size[node], len(nodes) - size[node])))
    return found
