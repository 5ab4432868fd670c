"""The recommendations job (jobs/recommendations.py) on synthetic behaviour with planted patterns: it must
recover them, and its lists must beat a popularity baseline on held-out purchases.

Spark: the test session's ONE SparkSession (the `spark` fixture of tests/conftest.py) and one build of the
job over about 10,000 rows, shared by the tests below.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pyarrow as pa
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import evaluation, synthetic
from jobs import recommendations as job
from shop.recommendations.lake import SCHEMA

WORLD = synthetic.World(users=300, categories=6, items_per_category=60, seed=11)


@pytest.fixture(scope="session")
def all_rows() -> list[dict[str, Any]]:
    return list(synthetic.generate(WORLD))


@pytest.fixture(scope="session")
def split(all_rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, set[str]]]:
    training, held = evaluation.held_out_split(all_rows)
    return [dict(row) for row in training], held


def frame(spark: SparkSession, rows: list[dict[str, Any]]) -> DataFrame:
    return spark.createDataFrame(pa.Table.from_pylist(rows, schema=SCHEMA))


@pytest.fixture(scope="session")
def outputs(spark: SparkSession, split: tuple[list[dict[str, Any]], dict[str, set[str]]]) -> job.Outputs:
    return job.build(frame(spark, split[0]))


def top(frame: DataFrame, key: str, value: str, n: int) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in frame.where(F.col("rank") <= n).orderBy(key, "rank").collect():
        found.setdefault(row[key], []).append(row[value])
    return found


# ---------------------------------------------------------------- the significance score, no Spark
def test_llr_is_zero_for_independent_items_and_grows_with_association() -> None:
    assert job.llr(10, 10, 10, 10) == pytest.approx(0.0, abs=1e-9)  # A says nothing about B
    assert job.llr(20, 0, 0, 20) > job.llr(15, 5, 5, 15) > job.llr(11, 9, 9, 11) > 0


def test_llr_matches_dunnings_formula_on_a_known_table() -> None:
    # 2 * sum(k * ln(k / expected)) over the four cells: the G-test, which the entropy form computes.
    cells, total = (5, 10, 15, 970), 1000
    rows, cols = (15, 985), (20, 980)
    expected = (rows[0] * cols[0] / total, rows[0] * cols[1] / total, rows[1] * cols[0] / total,
                rows[1] * cols[1] / total)  # fmt: skip
    g = 2 * sum(k * math.log(k / e) for k, e in zip(cells, expected, strict=True))
    assert job.llr(*cells) == pytest.approx(g)


def test_the_spark_expression_computes_the_same_score(spark: SparkSession) -> None:
    tables = [(5, 10, 15, 970), (20, 0, 0, 20), (10, 10, 10, 10), (3, 1, 0, 7)]
    frame = spark.createDataFrame([tuple(float(k) for k in t) for t in tables],
                                  "k11 DOUBLE, k12 DOUBLE, k21 DOUBLE, k22 DOUBLE")
    scores = [row.s for row in frame.select(job.llr_column(*(F.col(c) for c in frame.columns)).alias("s")).collect()]
    assert scores == pytest.approx([job.llr(*t) for t in tables])


# ---------------------------------------------------------------- planted patterns
def test_bought_together_recovers_the_planted_pairs(outputs: job.Outputs) -> None:
    related = top(outputs.bought_together, "itemId", "otherId", 1)
    for category in range(WORLD.categories):
        for k in range(synthetic.PAIRS):
            first, second = synthetic.bought_pair(WORLD, category, k)
            assert related.get(first) == [second], (first, related.get(first))


def test_viewed_together_recovers_the_planted_pairs(outputs: job.Outputs) -> None:
    related = top(outputs.viewed_together, "itemId", "otherId", 1)
    for category in range(WORLD.categories):
        for k in range(synthetic.PAIRS):
            first, second = synthetic.viewed_pair(WORLD, category, k)
            assert related.get(first) == [second] and related.get(second) == [first]


def test_co_occurrence_needs_more_than_chance_not_only_counts(spark: SparkSession) -> None:
    # "best" is in every basket: it co-occurs with "a" and "b" most often but no more than chance, so it pairs
    # with neither; "a" and "b" share 6 baskets of 24 where chance would make it 2.5.
    baskets = [(f"u{n}", item, None) for n in range(20) for item in (["best", "a", "b"] if n < 6 else ["best"])]
    baskets += [(f"v{n}", item, None) for n in range(4) for item in ("best", "a")]
    frame = spark.createDataFrame(baskets, "basket STRING, itemId STRING, occurredAt TIMESTAMP")
    pairs = {(row.itemId, row.otherId) for row in job.co_occurrence(frame).collect()}
    assert ("a", "b") in pairs and ("b", "a") in pairs
    assert not {pair for pair in pairs if "best" in pair}


def test_trending_finds_the_planted_category_this_week(outputs: job.Outputs) -> None:
    overall = top(outputs.trending, "category", "itemId", 10)[job.ALL_CATEGORIES]
    assert all(WORLD.category_of(item) == synthetic.TRENDING_CATEGORY for item in overall)
    per_category = top(outputs.trending, "category", "itemId", 5)
    assert set(per_category) == {WORLD.category(c) for c in range(WORLD.categories)} | {job.ALL_CATEGORIES}


def test_time_decay_prefers_recent_behaviour(spark: SparkSession) -> None:
    rows = [{"eventId": f"old{n}", "eventType": "ItemViewed", "occurredAt": synthetic.NOW.replace(day=1),
             "userId": f"u{n}", "itemId": "old", "category": "c"} for n in range(6)]  # fmt: skip
    rows += [{"eventId": f"new{n}", "eventType": "ItemViewed", "occurredAt": synthetic.NOW, "userId": f"u{n}",
              "itemId": "new", "category": "c"} for n in range(3)]  # fmt: skip
    full = [{**{name: None for name in SCHEMA.names}, "schemaVersion": 1, **row} for row in rows]
    ranked = top(job.trending(frame(spark, full)), "category", "itemId", 2)
    assert ranked["c"] == ["new", "old"]  # twice the views four weeks ago count less than half as many today


# ---------------------------------------------------------------- against the baseline
def test_personal_lists_beat_popularity_on_held_out_purchases(
    spark: SparkSession, outputs: job.Outputs, split: tuple[list[dict[str, Any]], dict[str, set[str]]]
) -> None:
    training, held = split
    personal = top(outputs.personal, "userId", "itemId", evaluation.K)
    baseline = evaluation.popularity_lists(job.popular(frame(spark, training), top=50), training, held)
    ours, theirs = evaluation.score(personal, held), evaluation.score(baseline, held)
    print(f"precision@10 {ours.precision:.4f} vs {theirs.precision:.4f}, "
          f"recall@10 {ours.recall:.4f} vs {theirs.recall:.4f} over {ours.users} users")  # fmt: skip
    assert ours.users > 100
    assert ours.precision > theirs.precision and ours.recall > theirs.recall


def test_personal_lists_leave_out_what_the_user_bought(outputs: job.Outputs, split: Any) -> None:
    training, _ = split
    bought = {(row["userId"], row["itemId"]) for row in training if row["eventType"] == "Purchased"}
    listed = {(row.userId, row.itemId) for row in outputs.personal.collect()}
    assert listed and not listed & bought


# ---------------------------------------------------------------- versions
def test_the_same_input_makes_the_same_version_whatever_its_order_or_duplicates(
    spark: SparkSession, split: tuple[list[dict[str, Any]], dict[str, set[str]]], outputs: job.Outputs
) -> None:
    shuffled = list(split[0])
    random.Random(3).shuffle(shuffled)  # noqa: S311 - a reproducible order, not a secret
    redelivered = shuffled + shuffled[:500]
    assert job.version_of(job.clean(frame(spark, redelivered))) == outputs.version
    assert job.version_of(job.clean(frame(spark, shuffled[1:]))) != outputs.version


def test_a_visitors_behaviour_is_the_accounts_once_it_signs_in(spark: SparkSession) -> None:
    moment = synthetic.NOW

    def row(event_id: str, event_type: str, user: str, item: str | None = None, **extra: Any) -> dict[str, Any]:
        return {"eventId": event_id, "eventType": event_type, "occurredAt": moment, "userId": user,
                "itemId": item, "category": "mugs" if item else None, **extra}  # fmt: skip

    before = [row("e1", "ItemViewed", "visitor_v", "A"), row("e2", "AddedToCart", "visitor_v", "B"),
              row("e3", "ItemViewed", "visitor_w", "A"), row("e4", "Purchased", "user_u", "C")]  # fmt: skip
    link = row("e5", "VisitorIdentified", "user_u", visitorId="visitor_v")
    cleaned = job.clean(frame(spark, [*before, link]))
    users = {r.eventId: r.userId for r in cleaned.collect()}
    assert users == {"e1": "user_u", "e2": "user_u", "e3": "visitor_w", "e4": "user_u", "e5": "user_u"}
    affinity = {(r.userId, r.itemId) for r in job.affinities(cleaned).collect()}
    assert affinity == {("user_u", "A"), ("user_u", "B"), ("user_u", "C"), ("visitor_w", "A")}
    assert job.version_of(cleaned) != job.version_of(job.clean(frame(spark, before)))  # a sign-in is new input
