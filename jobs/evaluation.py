"""Offline evaluation of the job on held-out purchases: precision@10 and recall@10 of the personal lists
(trending for users ALS does not know) against a popularity baseline computed from the same training rows.

The split: for every user with at least two distinct purchased items, the item bought last is held out and
every row of that user about that item is removed from the training rows (its view, its cart add), so
nothing of the answer leaks into training.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

K = 10


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    users: int


def held_out_split(rows: Iterable[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], dict[str, set[str]]]:
    """(training rows, user -> held-out items)."""
    rows = list(rows)
    last: dict[str, tuple[Any, str]] = {}
    bought: dict[str, set[str]] = {}
    for row in rows:
        if row["eventType"] == "Purchased" and row["userId"] and row["itemId"]:
            bought.setdefault(row["userId"], set()).add(row["itemId"])
            if row["userId"] not in last or row["occurredAt"] > last[row["userId"]][0]:
                last[row["userId"]] = (row["occurredAt"], row["itemId"])
    held = {user: {item} for user, (_, item) in last.items() if len(bought[user]) >= 2}
    training = [row for row in rows if row["itemId"] not in held.get(row["userId"], ())]
    return training, held


def score(recommended: Mapping[str, list[str]], held: Mapping[str, set[str]], k: int = K) -> Scores:
    """Mean precision@k and recall@k over the users with held-out items."""
    precision = recall = 0.0
    for user, items in held.items():
        top = recommended.get(user, [])[:k]
        hits = len(set(top) & items)
        precision += hits / k
        recall += hits / len(items)
    users = max(len(held), 1)
    return Scores(precision=precision / users, recall=recall / users, users=len(held))


def popularity_lists(popular: list[str], training: Iterable[Mapping[str, Any]], users: Iterable[str],
                     k: int = K) -> dict[str, list[str]]:  # fmt: skip
    """The baseline per user: the most popular items the user has not bought yet (as serving would)."""
    bought: dict[str, set[str]] = {}
    for row in training:
        if row["eventType"] == "Purchased":
            bought.setdefault(row["userId"], set()).add(row["itemId"])
    return {user: [item for item in popular if item not in bought.get(user, set())][:k] for user in users}
