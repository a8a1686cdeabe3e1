"""Search relevance on a labelled query set (tests/data/relevance.yml): the scores must not drop."""

from __future__ import annotations

import math

import pytest
import yaml

from tests.helpers.playbook import PROJECT_ROOT

LABELS = yaml.safe_load((PROJECT_ROOT / "tests/data/relevance.yml").read_text())


def recall_at(k: int, ranked: list[str], relevant: set[str]) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant)


def ndcg_at(k: int, ranked: list[str], relevant: set[str]) -> float:
    gain = sum(1 / math.log2(rank + 2) for rank, image_id in enumerate(ranked[:k]) if image_id in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(k, len(relevant))))
    return gain / ideal


def test_the_metrics_score_a_perfect_and_an_empty_ranking():
    assert recall_at(5, ["a", "b"], {"a", "b"}) == ndcg_at(10, ["a", "b"], {"a", "b"}) == 1.0
    assert ndcg_at(10, ["x", "a"], {"a"}) == pytest.approx(1 / math.log2(3))
    assert recall_at(5, [], {"a"}) == ndcg_at(10, [], {"a"}) == 0.0


def test_the_labelled_queries_score_at_least_the_recorded_floors(demo_index):
    scores = {"recall_at_5": [], "ndcg_at_10": []}
    misses = []
    for query, expected in LABELS["queries"].items():
        ranked = demo_index[0].search(query, limit=10).ids
        relevant = set(expected)
        scores["recall_at_5"].append(recall_at(5, ranked, relevant))
        scores["ndcg_at_10"].append(ndcg_at(10, ranked, relevant))
        if recall_at(5, ranked, relevant) < 1:
            misses.append(f"{query!r}: {ranked[:5]}")
    means = {name: round(sum(values) / len(values), 4) for name, values in scores.items()}
    print(f"relevance over {len(LABELS['queries'])} queries: {means}; short of the labels: {misses}")
    for name, floor in LABELS["floors"].items():
        assert means[name] >= floor, f"{name} dropped to {means[name]} (floor {floor}); short of the labels: {misses}"
