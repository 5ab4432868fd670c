"""The recommendations job (PySpark): the behaviour lake in, a new version of the Recommendations table out.

    spark-submit jobs/recommendations.py --input s3://<lake>/events/ --table <Recommendations> [--days 90]
    python -m jobs.local                  the same against the running local cloud (`make recs`)

What it computes from the lake's rows (docs/recommendations.md says why each):
- bought together / viewed together: item-to-item co-occurrence in the same user's purchases (the same
  user's views on the same day), scored by Dunning's log-likelihood ratio with a minimum support, keeping
  only pairs seen together more often than chance (lift > 1): raw counts would pair everything with the
  best sellers;
- trending per category: behaviour weighted by kind (purchase > cart > wishlist > view) and decayed
  exponentially with age (half-life TRENDING_HALF_LIFE_HOURS) from the newest event of the input, so a
  rerun of the same input gives the same scores;
- per-user affinity: implicit-feedback ALS (pyspark.ml), confidence from the same weights.

Output is versioned: the version id is a digest of the input's distinct event ids and of the job's
parameters, so a rerun of the same input writes the same version (and the same rows); the job writes every
row of the version, then its manifest, then moves the pointer row to it in one PutItem, so serving switches
from one complete version to the next, never to a half-written one.

This file is self-contained (pyspark, boto3) because EMR Serverless runs it as the entry point.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

# Parameters (part of the version id: a change of one is a new version of the same input).
WEIGHTS = {"ItemViewed": 1.0, "Wishlisted": 2.0, "AddedToCart": 3.0, "Purchased": 5.0}
MIN_SUPPORT = 2  # users who did both, at least: one coincidence is not a pattern
MAX_BASKET = 100  # a user's most recent distinct items that pair up (bounds the quadratic self-join)
TOP_RELATED = 20
TOP_TRENDING = 50
TOP_PERSONAL = 50
TRENDING_HALF_LIFE_HOURS = 72.0
ALS_PARAMS = {"rank": 16, "maxIter": 10, "regParam": 0.05, "alpha": 10.0, "seed": 42}
VERSION_TTL_DAYS = 30  # a version's rows outlive the next runs by this long, then DynamoDB's TTL drops them
PARAMETERS = {"weights": WEIGHTS, "minSupport": MIN_SUPPORT, "maxBasket": MAX_BASKET, "topRelated": TOP_RELATED,
              "topTrending": TOP_TRENDING, "topPersonal": TOP_PERSONAL, "halfLife": TRENDING_HALF_LIFE_HOURS,
              "als": ALS_PARAMS}  # fmt: skip
ALL_CATEGORIES = "*"
VISITOR_IDENTIFIED = "VisitorIdentified"  # shop.events: an anonymous visitor signed in to an account


# ---------------------------------------------------------------- the significance score
def xlogx(x: float) -> float:
    return 0.0 if x <= 0 else x * math.log(x)


def entropy(*counts: float) -> float:
    """Unnormalised Shannon entropy of counts, as in Dunning's (and Mahout's) log-likelihood ratio."""
    return xlogx(sum(counts)) - sum(xlogx(count) for count in counts)


def llr(k11: float, k12: float, k21: float, k22: float) -> float:
    """Dunning's log-likelihood ratio of a 2x2 contingency table: k11 users did A and B, k12 A not B, k21
    B not A, k22 neither. Large when A and B co-occur more (or less) than chance; 0 when independent."""
    row, column = entropy(k11 + k12, k21 + k22), entropy(k11 + k21, k12 + k22)
    matrix = entropy(k11, k12, k21, k22)
    return 0.0 if row + column < matrix else 2.0 * (row + column - matrix)


def _xlogx(column: Column) -> Column:
    return F.when(column > 0, column * F.log(column)).otherwise(F.lit(0.0))


def _entropy(*columns: Column) -> Column:
    total = columns[0]
    for column in columns[1:]:
        total = total + column
    result = _xlogx(columns[0])
    for column in columns[1:]:
        result = result + _xlogx(column)
    return _xlogx(total) - result


def llr_column(k11: Column, k12: Column, k21: Column, k22: Column) -> Column:
    """`llr` as a Spark expression (the same formula, so the unit tests compare the two)."""
    row, column = _entropy(k11 + k12, k21 + k22), _entropy(k11 + k21, k12 + k22)
    matrix = _entropy(k11, k12, k21, k22)
    return F.when(row + column < matrix, F.lit(0.0)).otherwise(2.0 * (row + column - matrix))


# ---------------------------------------------------------------- the algorithms
def _first(frame: DataFrame) -> Any:
    """The one row of an aggregate (an aggregate without grouping always has one)."""
    row = frame.first()
    assert row is not None
    return row


def clean(events: DataFrame, *, days: int | None = None) -> DataFrame:
    """The input as the algorithms read it: one row per event id, a visitor's rows under the account it
    signed in to (VisitorIdentified), and only the last `days` before the newest event. Rows without a
    user or an item stay (a search's own row has no item); each algorithm keeps the ones it reads."""
    if "visitorId" not in events.columns:  # a lake written before the column was added
        events = events.withColumn("visitorId", F.lit(None).cast("string"))
    rows = (events.where(F.col("eventId").isNotNull())
            .dropDuplicates(["eventId"])
            .select("eventId", "eventType", "occurredAt", "userId", "itemId", "category", "visitorId"))  # fmt: skip
    rows = as_accounts(rows)
    if days is not None:
        newest = _first(rows.agg(F.max("occurredAt")))[0]
        if newest is not None:
            rows = rows.where(F.col("occurredAt") >= F.lit(newest - timedelta(days=days)))
    return rows


def as_accounts(rows: DataFrame) -> DataFrame:
    """Rows whose user is a visitor id that later signed in, under that account instead (the visitor's last
    VisitorIdentified names it), before and after the sign-in alike. The VisitorIdentified rows stay (no
    algorithm reads a row without an item) so that a new sign-in makes a new version."""
    signed_in = F.col("eventType") == VISITOR_IDENTIFIED
    latest = Window.partitionBy("visitorId").orderBy(F.col("occurredAt").desc(), F.col("eventId").desc())
    links = (rows.where(signed_in & F.col("visitorId").isNotNull() & F.col("userId").isNotNull())
             .withColumn("rank", F.row_number().over(latest)).where(F.col("rank") == 1)
             .select(F.col("visitorId").alias("linkedVisitor"), F.col("userId").alias("account")))  # fmt: skip
    linked = rows.join(F.broadcast(links), F.col("userId") == F.col("linkedVisitor"), "left")
    return linked.withColumn("userId", F.coalesce(F.col("account"), F.col("userId"))).drop(
        "linkedVisitor", "account", "visitorId")


def co_occurrence(baskets: DataFrame, *, top: int = TOP_RELATED, min_support: int = MIN_SUPPORT) -> DataFrame:
    """Item pairs that share baskets (columns basket, itemId, occurredAt) more than chance: (itemId, otherId, score),
    score = log-likelihood ratio, the `top` per item, support >= `min_support`, lift > 1."""
    distinct = baskets.groupBy("basket", "itemId").agg(F.max("occurredAt").alias("last"))
    recent = Window.partitionBy("basket").orderBy(F.col("last").desc(), F.col("itemId"))
    capped = distinct.withColumn("rank", F.row_number().over(recent)).where(F.col("rank") <= MAX_BASKET).drop("rank")
    total = capped.select("basket").distinct().count()
    item_counts = capped.groupBy("itemId").agg(F.count("*").alias("nA"))
    left, right = capped.alias("l"), capped.alias("r")
    pairs = (left.join(right, (F.col("l.basket") == F.col("r.basket")) & (F.col("l.itemId") != F.col("r.itemId")))
             .groupBy(F.col("l.itemId").alias("itemId"), F.col("r.itemId").alias("otherId"))
             .agg(F.count("*").alias("k11"))
             .where(F.col("k11") >= min_support))  # fmt: skip
    a = item_counts.withColumnRenamed("itemId", "aId")
    b = item_counts.withColumnRenamed("itemId", "bId").withColumnRenamed("nA", "nB")
    scored = (pairs.join(a, pairs.itemId == a.aId).join(b, pairs.otherId == b.bId)
              .withColumn("k12", F.col("nA") - F.col("k11"))
              .withColumn("k21", F.col("nB") - F.col("k11"))
              .withColumn("k22", F.lit(total) - F.col("nA") - F.col("nB") + F.col("k11"))
              .where(F.col("k11") * F.lit(total) > F.col("nA") * F.col("nB"))  # lift > 1: together more than chance
              .withColumn("score", llr_column(*(F.col(k).cast("double") for k in ("k11", "k12", "k21", "k22")))))
    best = Window.partitionBy("itemId").orderBy(F.col("score").desc(), F.col("otherId"))
    return (scored.withColumn("rank", F.row_number().over(best)).where(F.col("rank") <= top)
            .select("itemId", "otherId", "score", "rank"))  # fmt: skip


def bought_together(events: DataFrame) -> DataFrame:
    purchases = events.where(F.col("eventType") == "Purchased").where(F.col("userId").isNotNull())
    return co_occurrence(purchases.select(F.col("userId").alias("basket"), "itemId", "occurredAt"))


def viewed_together(events: DataFrame) -> DataFrame:
    """Views by the same user on the same day (a browsing session, roughly)."""
    views = events.where(F.col("eventType") == "ItemViewed").where(F.col("userId").isNotNull())
    basket = F.concat_ws("#", F.col("userId"), F.date_format(F.col("occurredAt"), "yyyy-MM-dd"))
    return co_occurrence(views.select(basket.alias("basket"), "itemId", "occurredAt"))


def _weight() -> Column:
    weight = F.lit(0.0)
    for event_type, value in WEIGHTS.items():
        weight = F.when(F.col("eventType") == event_type, F.lit(value)).otherwise(weight)
    return weight


def item_categories(events: DataFrame) -> DataFrame:
    """Each item's category as its latest event with one says (views carry it; purchases do not)."""
    latest = Window.partitionBy("itemId").orderBy(F.col("occurredAt").desc(), F.col("eventId").desc())
    return (events.where(F.col("category").isNotNull() & F.col("itemId").isNotNull())
            .withColumn("rank", F.row_number().over(latest)).where(F.col("rank") == 1)
            .select("itemId", "category"))  # fmt: skip


def trending(events: DataFrame, *, top: int = TOP_TRENDING) -> DataFrame:
    """(category, itemId, score, rank): behaviour weighted by kind and decayed with age from the newest event
    (half-life TRENDING_HALF_LIFE_HOURS); category ALL_CATEGORIES ranks every item."""
    newest = _first(events.agg(F.max("occurredAt")))[0]
    age_hours = (F.lit(newest).cast("long") - F.col("occurredAt").cast("long")) / 3600.0
    decayed = _weight() * F.exp(-math.log(2) * age_hours / TRENDING_HALF_LIFE_HOURS)
    scores = (events.where(F.col("itemId").isNotNull()).withColumn("w", decayed)
              .groupBy("itemId").agg(F.sum("w").alias("score")))  # fmt: skip
    with_category = scores.join(item_categories(events), "itemId", "left")
    per_category = with_category.where(F.col("category").isNotNull())
    overall = with_category.withColumn("category", F.lit(ALL_CATEGORIES))
    both = per_category.unionByName(overall)
    best = Window.partitionBy("category").orderBy(F.col("score").desc(), F.col("itemId"))
    return both.withColumn("rank", F.row_number().over(best)).where(F.col("rank") <= top).select(
        "category", "itemId", "score", "rank")


def affinities(events: DataFrame) -> DataFrame:
    """(userId, itemId, strength): each user's weighted behaviour per item, the implicit feedback."""
    return (events.where(F.col("userId").isNotNull() & F.col("itemId").isNotNull())
            .withColumn("w", _weight()).groupBy("userId", "itemId").agg(F.sum("w").alias("strength")))  # fmt: skip


def personal(events: DataFrame, *, top: int = TOP_PERSONAL) -> DataFrame:
    """(userId, itemId, score, rank): implicit ALS's top items per user, without what the user bought."""
    from pyspark.ml.feature import StringIndexer
    from pyspark.ml.recommendation import ALS

    ratings = affinities(events)
    if ratings.limit(1).count() == 0:
        return ratings.select("userId", "itemId", F.lit(0.0).alias("score"), F.lit(0).alias("rank")).limit(0)
    users = StringIndexer(inputCol="userId", outputCol="user", stringOrderType="alphabetAsc").fit(ratings)
    items = StringIndexer(inputCol="itemId", outputCol="item", stringOrderType="alphabetAsc").fit(ratings)
    indexed = items.transform(users.transform(ratings))
    spark = events.sparkSession
    blocks = spark.sparkContext.defaultParallelism  # one block per core: ALS's default of 10 is for clusters
    als = ALS(userCol="user", itemCol="item", ratingCol="strength", implicitPrefs=True, nonnegative=True,
              coldStartStrategy="drop", numUserBlocks=blocks, numItemBlocks=blocks,
              **ALS_PARAMS)  # type: ignore[arg-type]  # fmt: skip
    model = als.fit(indexed)
    item_ids = items.labels
    user_ids = users.labels
    recommended = model.recommendForAllUsers(top + 20).select(
        "user", F.explode("recommendations").alias("r")).select("user", "r.item", "r.rating")
    item_names = spark.createDataFrame(list(enumerate(item_ids)), "item INT, itemId STRING")
    user_names = spark.createDataFrame(list(enumerate(user_ids)), "user INT, userId STRING")
    bought = events.where(F.col("eventType") == "Purchased").select("userId", "itemId").distinct()
    named = (recommended.join(item_names, "item").join(user_names, "user")
             .join(bought, ["userId", "itemId"], "left_anti"))  # fmt: skip
    best = Window.partitionBy("userId").orderBy(F.col("rating").desc(), F.col("itemId"))
    return (named.withColumn("rank", F.row_number().over(best)).where(F.col("rank") <= top)
            .select("userId", "itemId", F.col("rating").cast("double").alias("score"), "rank"))  # fmt: skip


def popular(events: DataFrame, *, top: int = 10) -> list[str]:
    """The baseline: the most purchased items (then the most interacted with), for every user alike."""
    counts = (events.where(F.col("itemId").isNotNull())
              .groupBy("itemId").agg(F.sum(F.when(F.col("eventType") == "Purchased", 1).otherwise(0)).alias("p"),
                                     F.count("*").alias("n"))
              .orderBy(F.col("p").desc(), F.col("n").desc(), F.col("itemId")).limit(top))  # fmt: skip
    return [row.itemId for row in counts.collect()]


def version_of(events: DataFrame) -> str:
    """A digest of the input's distinct event ids and the job's parameters: the same input (whatever its
    files, their order or duplicates) and parameters give the same version."""
    row = _first(events.agg(F.count("*").alias("n"),
                     F.sum(F.xxhash64("eventId").cast("decimal(38,0)")).alias("h"),
                     F.max("occurredAt").alias("newest")))  # fmt: skip
    text = json.dumps({"n": row["n"], "h": str(row["h"]), "newest": str(row["newest"]), "p": PARAMETERS},
                      sort_keys=True)  # fmt: skip
    return "v" + hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass
class Outputs:
    version: str
    bought_together: DataFrame
    viewed_together: DataFrame
    trending: DataFrame
    personal: DataFrame


def build(events: DataFrame, *, days: int | None = None) -> Outputs:
    rows = clean(events, days=days).cache()
    return Outputs(version=version_of(rows), bought_together=bought_together(rows).cache(),
                   viewed_together=viewed_together(rows).cache(), trending=trending(rows).cache(),
                   personal=personal(rows).cache())  # fmt: skip


# ---------------------------------------------------------------- loading a version and switching to it
def table_rows(outputs: Outputs, expires_at: int) -> DataFrame:
    """Every row of the version as (pk, sk, attribute name, JSON list), one per (key, attribute)."""
    version = outputs.version

    def lists(frame: DataFrame, key: Column, value: str, attribute: str, sk: str) -> DataFrame:
        entry = F.array(F.col(value), F.round(F.col("score"), 6).cast("string"))
        grouped = frame.groupBy(key.alias("pk")).agg(F.sort_array(F.collect_list(F.struct("rank", entry.alias("e"))))
                                                     .alias("l"))  # fmt: skip
        return grouped.select("pk", F.lit(sk).alias("sk"), F.lit(attribute).alias("attribute"),
                              F.to_json(F.col("l.e")).alias("value"))  # fmt: skip

    item_key = F.concat(F.lit(f"{version}#item#"), F.col("itemId"))
    frames = [
        lists(outputs.bought_together, item_key, "otherId", "boughtTogether", "RELATED"),
        lists(outputs.viewed_together, item_key, "otherId", "viewedTogether", "RELATED"),
        lists(outputs.trending, F.concat(F.lit(f"{version}#trending#"), F.col("category")), "itemId", "items",
              "TRENDING"),
        lists(outputs.personal, F.concat(F.lit(f"{version}#user#"), F.col("userId")), "itemId", "items", "HOME"),
    ]
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    return union.withColumn("expiresAt", F.lit(expires_at))


def _dynamodb(client_options: dict[str, Any]) -> Any:
    import boto3

    return boto3.client("dynamodb", **client_options)


def _write_partition(table: str, client_options: dict[str, Any], rows: Iterable[Any]) -> Iterator[int]:
    """Write one partition's rows (merged per key: RELATED has two lists) with BatchWriteItem, retrying what
    DynamoDB leaves unprocessed."""
    client = _dynamodb(client_options)
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        item = merged.setdefault((row.pk, row.sk), {"pk": {"S": row.pk}, "sk": {"S": row.sk},
                                                    "expiresAt": {"N": str(row.expiresAt)}})  # fmt: skip
        item[row.attribute] = {"S": _as_pairs(row.value)}
    written = 0
    items = list(merged.values())
    for start in range(0, len(items), 25):
        requests = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        for attempt in range(8):
            unprocessed = client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            if not unprocessed:
                break
            requests = unprocessed
            time.sleep(min(2**attempt * 0.05, 2.0))
        else:
            raise RuntimeError("DynamoDB left items unprocessed after retries")
        written += len(items[start : start + 25])
    yield written


def _as_pairs(value: str) -> str:
    """[["id", "0.123"], ...] -> [["id", 0.123], ...]: the score as a number in the stored JSON."""
    return json.dumps([[item, float(score)] for item, score in json.loads(value)], separators=(",", ":"))


def load(outputs: Outputs, *, table: str, client_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the version's rows, then its manifest, then move the pointer to it (one PutItem: the switch).
    `client_options` are boto3's (region_name, endpoint_url, keys), handed to every worker: a worker does
    not see the driver's environment when the session started before it was set (tests, make recs)."""
    client_options = client_options or {"region_name": os.environ.get("AWS_REGION")}
    expires_at = int((datetime.now(UTC) + timedelta(days=VERSION_TTL_DAYS)).timestamp())
    rows = table_rows(outputs, expires_at).repartition(8, "pk")
    written = sum(rows.rdd.mapPartitions(lambda part: _write_partition(table, client_options, part)).collect())
    client = _dynamodb(client_options)
    manifest = {"pk": {"S": outputs.version}, "sk": {"S": "MANIFEST"}, "rows": {"N": str(written)},
                "parameters": {"S": json.dumps(PARAMETERS, sort_keys=True)},
                "expiresAt": {"N": str(expires_at)}}  # fmt: skip
    client.put_item(TableName=table, Item=manifest)
    client.put_item(TableName=table, Item={"pk": {"S": "POINTER"}, "sk": {"S": "CURRENT"},
                                           "version": {"S": outputs.version},
                                           "switchedAt": {"S": datetime.now(UTC).isoformat()}})  # fmt: skip
    return {"version": outputs.version, "rows": written}


def session(master: str | None = None, app_name: str = "recommendations") -> SparkSession:
    """The Spark session: local mode with few shuffle partitions when `master` is given (make recs, tests);
    on EMR Serverless the application's own settings. Nothing is fetched at run time (no spark.jars.packages:
    Parquet and ALS ship with Spark)."""
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = (builder.master(master).config("spark.sql.shuffle.partitions", "4")
                   .config("spark.default.parallelism", "4").config("spark.ui.enabled", "false")
                   .config("spark.sql.session.timeZone", "UTC").config("spark.driver.memory", "2g")
                   .config("spark.ui.showConsoleProgress", "false"))  # fmt: skip
    return builder.getOrCreate()


def run(spark: SparkSession, *, input_path: str, table: str, days: int | None = None,
        client_options: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    events = spark.read.option("mergeSchema", "true").parquet(input_path)
    return load(build(events, days=days), table=table, client_options=client_options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True, help="the lake's events/ prefix (s3://... or a directory)")
    parser.add_argument("--table", required=True, help="the Recommendations table")
    parser.add_argument("--region", default=None)
    parser.add_argument("--days", type=int, default=None, help="only the last N days before the newest event")
    parser.add_argument("--master", default=None, help="local[*] to run without a cluster")
    args = parser.parse_args(argv)
    spark = session(args.master)
    try:
        options = {"region_name": args.region or os.environ.get("AWS_REGION")}
        print(json.dumps(run(spark, input_path=args.input, table=args.table, days=args.days, client_options=options)))
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
