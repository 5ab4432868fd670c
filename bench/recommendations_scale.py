"""How the recommendations job grows with its input: the same job code on RECS_SCALE_SIZES synthetic events
(default 100,000 and 1,000,000), in one Spark session, each size's time reported with its ratio to the first.

    python -m bench.recommendations_scale     (RECS_SCALE_SIZES=100000,1000000 RECS_SCALE_REPEATS=1)

The full bench (bench/recommendations.py) runs the whole pipeline in a local cloud: listing the items, the lake
writer, compaction, the job and its load into DynamoDB, and the API. At 1,000,000 events its lake-writing
stage alone takes longer than the job on this machine, so this bench isolates the job: each size's events are
written straight to a Parquet lake on local disk with the lake's own schema and partitioning
(shop.recommendations.lake.SCHEMA, hour_partition), then timed:
- read + build: jobs.recommendations.build on the lake (clean, bought/viewed together, trending, ALS), every
  output materialised (counted);
- rows: the version's table rows (jobs.recommendations.table_rows), the work before the DynamoDB writes,
  counted; the writes themselves are in the full bench.
Sizes run smallest first in one session, after a warm-up on the smallest: the JVM's start is not in any row.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from infra.launcher import ROOT

SIZES_VARIABLE = "RECS_SCALE_SIZES"
DEFAULT_SIZES = (100_000, 1_000_000)


def _sizes() -> list[int]:
    raw = os.environ.get(SIZES_VARIABLE)
    sizes = sorted(int(size) for size in raw.split(",")) if raw else list(DEFAULT_SIZES)
    if not sizes or sizes[0] < 1_000 or sizes[-1] > 5_000_000:
        raise SystemExit(f"{SIZES_VARIABLE}: comma-separated event counts between 1,000 and 5,000,000")
    return sizes


def write_lake(directory: Path, events: int) -> tuple[int, int]:
    """The synthetic world of about `events` rows as the lake holds it; (rows, files)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from jobs import synthetic
    from shop.recommendations.lake import EVENTS_PREFIX, SCHEMA, hour_partition

    by_hour: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = 0
    for row in synthetic.generate(synthetic.scaled(events)):
        by_hour[hour_partition(row["occurredAt"])].append(row)
        rows += 1
    for partition, hour_rows in by_hour.items():
        folder = directory / EVENTS_PREFIX / partition
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(hour_rows, schema=SCHEMA), folder / "part-0.parquet")
    return rows, len(by_hour)


def time_job(spark: Any, lake: Path) -> dict[str, float | int]:
    from jobs import recommendations as job

    began = time.perf_counter()
    events = spark.read.option("mergeSchema", "true").parquet(str(lake / "events"))
    outputs = job.build(events)
    counts = {name: getattr(outputs, name).count()
              for name in ("bought_together", "viewed_together", "trending", "personal")}  # fmt: skip
    built = time.perf_counter()
    table_rows = job.table_rows(outputs, expires_at=0).count()
    finished = time.perf_counter()
    for name in counts:
        getattr(outputs, name).unpersist()
    return {"build_s": built - began, "rows_s": finished - built, "table_rows": table_rows, **counts}


def run(workdir: Path, _bench_repeats: int = 1) -> list[str]:
    """`make bench`'s repeats are not used: one run of the largest size takes tens of minutes here; set
    RECS_SCALE_REPEATS for the median of several."""
    repeats = int(os.environ.get("RECS_SCALE_REPEATS", "1"))
    sys.path.insert(0, str(ROOT / "layers" / "shop" / "python"))
    from jobs import recommendations as job

    sizes = _sizes()
    lakes: dict[int, tuple[Path, int, int, float]] = {}
    for size in sizes:
        began = time.perf_counter()
        rows, files = write_lake(workdir / f"lake-{size}", size)
        lakes[size] = (workdir / f"lake-{size}", rows, files, time.perf_counter() - began)
    spark = job.session("local[2]", app_name="bench-scale")
    try:
        time_job(spark, lakes[sizes[0]][0])  # warm-up: the JVM's JIT and Spark's first-query costs
        measured = {size: _median(time_job(spark, lakes[size][0]) for _ in range(repeats)) for size in sizes}
    finally:
        spark.stop()
    first = sizes[0]
    base_total = measured[first]["build_s"] + measured[first]["rows_s"]
    lines = [
        f"Command: `RECS_SCALE_SIZES={','.join(map(str, sizes))} python -m bench.recommendations_scale` "
        f"(bench/recommendations_scale.py); the job alone on a Parquet lake on local disk, Spark local[2] on the "
        f"same 2 shared cores, median of {repeats} run(s) per size after a warm-up.",
        "",
        "| events (rows) | lake files | users | build s | table rows s | total s | × first size's time | "
        "× its events | table rows |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    from jobs import synthetic

    for size in sizes:
        _, rows, files, _ = lakes[size]
        m = measured[size]
        total = m["build_s"] + m["rows_s"]
        lines.append(
            f"| {size:,} ({rows:,}) | {files:,} | {synthetic.scaled(size).users:,} | {m['build_s']:.1f} | "
            f"{m['rows_s']:.1f} | {total:.1f} | {total / base_total:.2f} | {rows / lakes[first][1]:.1f} | "
            f"{int(m['table_rows']):,} |"
        )
    print(json.dumps({str(size): measured[size] for size in sizes}), flush=True)
    return lines


def _median(runs: Iterable[dict[str, float | int]]) -> dict[str, float | int]:
    samples = list(runs)
    return sorted(samples, key=lambda sample: sample["build_s"] + sample["rows_s"])[len(samples) // 2]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        print("\n".join(run(Path(directory))))
