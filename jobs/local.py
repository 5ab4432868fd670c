"""The recommendations pipeline against the running local cloud (`make run`), or any stack's outputs.

    python -m jobs.local recs [--days N]          the job in Spark local mode -> a new serving version (make recs)
    python -m jobs.local compact                  compact every lake hour with more than one object
    python -m jobs.local replay-day YYYY-MM-DD    rebuild a day's Parquet from the lake's archive

The cloud's state file (.local/cloud.json, or SHOP_CLOUD_STATE) says where its S3 and DynamoDB are and names
the lake bucket and the Recommendations table. The job reads the lake through a local copy of its events/
objects (Spark's s3a connector is not in pyspark's jars, and nothing is fetched at run time); on EMR
Serverless it reads s3:// directly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "shop" / "python"))  # shop.recommendations.lake (the lake's code)


def cloud_state() -> dict[str, Any]:
    from infra.cloud import STATE_FILE

    state_file = Path(os.environ.get("SHOP_CLOUD_STATE", STATE_FILE))
    if not state_file.exists():
        raise SystemExit("the local cloud is not running: start it with `make run`")
    return dict(json.loads(state_file.read_text()))


def lake(outputs: Mapping[str, str], environment: Mapping[str, str]) -> Any:
    from infra.core.clients import sdk_client
    from shop.recommendations.lake import Lake

    return Lake(sdk_client("s3", environment), outputs["BehaviourLakeBucketName"])


def download(outputs: Mapping[str, str], environment: Mapping[str, str], target: Path) -> int:
    """Copy the lake's Parquet objects (events/...) under `target`, keeping their dt=/hour= paths."""
    from infra.core.clients import sdk_client

    s3, bucket = sdk_client("s3", environment), outputs["BehaviourLakeBucketName"]
    copied = 0
    for key in lake(outputs, environment).keys("events/"):
        if key.endswith(".parquet"):
            path = target / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            copied += 1
    return copied


def dynamodb_options(environment: Mapping[str, str]) -> dict[str, Any]:
    """boto3's options for the stack's DynamoDB, as the SDK would read them from `environment`."""
    options = {"region_name": environment.get("AWS_REGION"),
               "endpoint_url": environment.get("AWS_ENDPOINT_URL_DYNAMODB") or environment.get("AWS_ENDPOINT_URL"),
               "aws_access_key_id": environment.get("AWS_ACCESS_KEY_ID"),
               "aws_secret_access_key": environment.get("AWS_SECRET_ACCESS_KEY")}  # fmt: skip
    return {name: value for name, value in options.items() if value}


def recs(outputs: Mapping[str, str], environment: Mapping[str, str], *, days: int | None = None,
         master: str = "local[2]", spark: Any = None) -> dict[str, Any]:  # fmt: skip
    """Run the job over the whole lake and load its version (the pointer moves when it is complete); in
    `spark` when given (the tests' one session), else in a local session of its own."""
    from jobs import recommendations as job

    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lake-") as directory:
        objects = download(outputs, environment, Path(directory))
        if not objects:
            raise SystemExit("the lake holds no events yet (behaviour reaches it within its batching window)")
        session = spark or job.session(master)
        try:
            result = job.run(session, input_path=str(Path(directory) / "events"), days=days,
                             table=outputs["RecommendationsTableName"],
                             client_options=dynamodb_options(environment))  # fmt: skip
        finally:
            if spark is None:
                session.stop()
    return {**result, "objects": objects, "seconds": round(time.monotonic() - began, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.local", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("recs", help="run the recommendations job and switch serving to its version")
    run.add_argument("--days", type=int, default=None)
    run.add_argument("--master", default="local[2]")
    commands.add_parser("compact", help="compact every lake hour with more than one object")
    replay = commands.add_parser("replay-day", help="rebuild a day's Parquet from the lake's archive")
    replay.add_argument("day", help="YYYY-MM-DD (UTC)")
    args = parser.parse_args(argv)
    state = cloud_state()
    outputs, environment = state["outputs"], state["environment"]
    if args.command == "recs":
        print(json.dumps(recs(outputs, environment, days=args.days, master=args.master)))
    elif args.command == "compact":
        print(json.dumps(lake(outputs, environment).compact_all()))
    else:
        report = lake(outputs, environment).replay_day(args.day)
        print(json.dumps({"day": args.day, "envelopes": report.envelopes, "rows": report.rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
