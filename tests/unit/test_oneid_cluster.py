"""Constraint-aware clustering."""
from governance.oneid.cluster import Link, cluster


def groups(result) -> list[list[int]]:
    return sorted(sorted(m) for m in result.members().values())


def test_links_join_records_transitively():
    result = cluster([1, 2, 3, 4], [Link(1.0, 1, 2, "r"), Link(1.0, 2, 3, "r")])
    assert groups(result) == [[1, 2, 3], [4]] and not result.cuts


def test_chain_with_a_rejected_end_pair_splits_at_the_weakest_link():
    """A–B–C with A≠C rejected by a steward must split, cutting the weaker link."""
    links = [Link(0.99, 1, 2, "model"), Link(0.90, 2, 3, "model")]
    result = cluster([1, 2, 3], links, cannot_link=[(1, 3)])
    assert groups(result) == [[1, 2], [3]]
    [(cut, reason)] = result.cuts
    assert (cut.left, cut.right, reason) == (2, 3, "cannot_link")
    assert result.flagged == {result.cluster_of[1], result.cluster_of[3]}


def test_rules_beat_model_links_when_they_conflict():
    links = [Link(0.7, 1, 3, "model"), Link(10.0, 1, 2, "same_id_card")]
    result = cluster([1, 2, 3], links, exclusive={1: ("A", "1"), 2: ("A", "1"), 3: ("B", "1")})
    assert groups(result) == [[1, 2], [3]]
    assert result.cuts[0][1] == "id_card"


def test_different_id_sex_never_links():
    result = cluster([1, 2], [Link(5.0, 1, 2, "mobile_and_name")], exclusive={1: (None, "1"), 2: (None, "2")})
    assert groups(result) == [[1], [2]] and result.cuts[0][1] == "id_sex"


def test_constraints_follow_merged_clusters():
    links = [Link(3.0, 1, 2, "r"), Link(2.0, 3, 4, "r"), Link(1.0, 2, 3, "model")]
    result = cluster([1, 2, 3, 4], links, cannot_link=[(1, 4)])
    assert groups(result) == [[1, 2], [3, 4]]


def test_a_refused_link_of_a_whole_group_withdraws_the_group():
    """1 is the centre of a group (one phone) that claims 1, 2 and 3 are one person; 3 is also
    4's by a card, and 4 and 2 are two people: the claim is void, and 1 joins neither side."""
    links = [Link(74.0, 3, 4, "same_card"), Link(66.0, 1, 2, "one_phone"), Link(66.0, 1, 3, "one_phone")]
    plain = cluster([1, 2, 3, 4], links, cannot_link=[(2, 4, "two_names")])
    assert groups(plain) == [[1, 2], [3, 4]]
    result = cluster([1, 2, 3, 4], links, cannot_link=[(2, 4, "two_names")], whole_groups={"one_phone"})
    assert groups(result) == [[1], [2], [3, 4]]
    [(cut, reason)] = result.cuts
    assert (cut.left, cut.right, reason) == (1, 3, "two_names")
    assert result.flagged == {result.cluster_of[1], result.cluster_of[3]}


def test_placed_by_records_the_first_link():
    result = cluster([1, 2, 3], [Link(9.0, 1, 2, "same_id_card"), Link(0.9, 2, 3, "model")])
    assert result.placed_by == {1: "same_id_card", 2: "same_id_card", 3: "model"}


def test_weak_bridges_and_large_clusters_are_flagged():
    from governance.oneid.cluster import LARGE_CLUSTER, weak_spots
    # two tight pairs joined by one model link: a weak bridge
    links = [Link(90.0, 1, 2, "same_id_card"), Link(90.0, 3, 4, "same_union_id"), Link(0.995, 2, 3, "model:0.995")]
    result = cluster([1, 2, 3, 4], links)
    [(root, reason, bridge)] = weak_spots(result, links)
    assert reason == "weak_bridge" and (bridge.left, bridge.right) == (2, 3)
    # a triangle has no bridge
    links = [Link(0.995, 1, 2, "model"), Link(0.995, 2, 3, "model"), Link(0.995, 1, 3, "model"), Link(9.0, 3, 4, "rule")]
    assert weak_spots(cluster([1, 2, 3, 4], links), links) == []
    n = LARGE_CLUSTER
    star = [Link(90.0, 0, i, "same_id_card") for i in range(1, n)]
    assert [r for _, r, _ in weak_spots(cluster(list(range(n)), star), star)] == ["large"]


def test_vectorized_components_match_a_union_find():
    import random

    import numpy as np

    from governance.oneid.graph import components
    # a long chain (many propagation rounds), a star and random edges
    rng = random.Random(3)
    edges = [(i, i + 1) for i in range(100, 160)] + [(500, j) for j in range(501, 520)]
    edges += [(rng.randrange(1000, 1400), rng.randrange(1000, 1400)) for _ in range(300)]
    nodes, comp = components(np.array([a for a, _ in edges]), np.array([b for _, b in edges]))
    expected = cluster(sorted({n for e in edges for n in e}), [Link(1.0, a, b, "r") for a, b in edges])
    smallest = {root: min(m) for root, m in expected.members().items()}
    assert dict(zip(nodes.tolist(), comp.tolist())) == {r: smallest[root] for r, root in expected.cluster_of.items()}
