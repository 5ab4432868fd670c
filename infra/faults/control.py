"""The cloud's side of fault injection: the current spec, what the cloud's own parts inject, and the counts.

One FaultControl per cloud. Setting a spec (at start from LOCAL_FAULTS or `--faults`, later over
`/_local/faults`) writes what the workers need as JSON to `spec.json` in the cloud's faults folder,
atomically; each worker re-reads it before an invocation when its stat changed (infra.faults.worker), so
a change reaches warm workers at their next invocation. The stream and SQS event sources ask `chance()`
in this process, and the function runtime asks `kill_next()`. Workers append one line per injected fault
to `counts.jsonl`; `counts()` reads only what was appended since it last looked, so nothing gets slower the
longer the cloud runs. Counts start from zero whenever a spec is set (lines of an older spec are told
apart by its generation number).

The workers also append one line per invocation with its DynamoDB calls per operation and table to
`calls.jsonl`; `calls()` sums them since `reset_calls()` (`GET` / `DELETE /_local/dynamodb-calls`). The
partition limits' token buckets live in `buckets.bin` (infra.faults.worker.PartitionBuckets), all full
again whenever a spec is set.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.faults.spec import PARTITION_LIMITS, FaultEntry, FaultSpec, FaultSpecError, Resources, parse
from infra.faults.worker import PartitionBuckets

log = logging.getLogger("infra.faults")

WORKER_MODULE = Path(__file__).resolve().with_name("worker.py")
FAULTS_PATH = "/_local/faults"  # served by the gateway
CALLS_PATH = "/_local/dynamodb-calls"  # served by the gateway: the functions' DynamoDB calls
SEED_VARIABLE = "LOCAL_FAULTS_SEED"  # a fixed seed makes the cloud's own draws (streams, SQS, kills) repeatable


def _new_records(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The JSON lines appended to `path` since `offset`, and the offset after them. Workers append these files
    while we read, so a last line without its newline is left for the next read."""
    try:
        with path.open("rb") as file:
            file.seek(offset)
            appended = file.read()
    except OSError:
        return [], offset
    complete = appended[: appended.rfind(b"\n") + 1]
    records = []
    for line in complete.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records, offset + len(complete)


class FaultControl:
    def __init__(self, directory: Path, resources: Resources | None = None, seed: int | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.spec_file = directory / "spec.json"
        self.counts_file = directory / "counts.jsonl"
        self.calls_file = directory / "calls.jsonl"
        self.buckets_file = directory / "buckets.bin"
        self._calls_offset = 0
        self._operations: Counter[str] = Counter()
        self._tables: Counter[str] = Counter()
        self._steps: Counter[str] = Counter()
        self._invocations: Counter[str] = Counter()
        self._kinds: Counter[str] = Counter()
        self.reset_calls()
        self.resources = resources
        if seed is None and os.environ.get(SEED_VARIABLE):
            seed = int(os.environ[SEED_VARIABLE])
        self.rng = random.Random(seed)  # noqa: S311 - a chance of a fault, not a secret
        self.spec = FaultSpec()
        self.generation = 0
        self._by_name: dict[str, list[FaultEntry]] = {}
        self._kills: dict[str, FaultEntry] = {}  # function -> its lambda.kill entry
        self._kills_left: dict[str, int] = {}  # function -> invocations still to kill (COUNT entries)
        self._outage_until = 0.0
        self._counts: Counter[str] = Counter()
        self._read_offset = 0
        self.apply(FaultSpec())  # a spec file left by a cloud that died is not this cloud's

    # ------------------------------------------------------------------ setting

    def set(self, text: str) -> FaultSpec:
        """Parse, check against the stack and apply; a bad spec raises FaultSpecError and changes nothing."""
        spec = parse(text, self.resources)
        self.apply(spec)
        return spec

    def clear(self) -> None:
        self.apply(FaultSpec())

    def apply(self, spec: FaultSpec) -> None:
        self.generation += 1
        self.spec = spec
        self._by_name = {}
        for entry in spec.entries:
            self._by_name.setdefault(entry.name, []).append(entry)
        self._kills = {entry.function: entry for entry in spec.named("lambda.kill")}
        self._kills_left = {entry.function: entry.count for entry in self._kills.values() if entry.count}
        outage = spec.named("dynamodb.outage")
        self._outage_until = time.time() + outage[0].seconds if outage else 0.0
        self._counts = Counter()
        self._read_offset = 0
        self.counts_file.write_bytes(b"")
        PartitionBuckets.reset(str(self.buckets_file))
        self._write_worker_state(outage[0] if outage else None)
        if spec:
            log.warning("fault injection on: %s", spec)
        elif self.generation > 1:
            log.info("fault injection off")

    def _write_worker_state(self, outage: FaultEntry | None) -> None:
        if not self.spec:
            self.spec_file.unlink(missing_ok=True)
            return
        rules = [
            {"key": entry.key, "kind": entry.name.split(".")[1], "rate": entry.rate,
             "tables": sorted(entry.resources), "operations": sorted(entry.operations)}
            for entry in self.spec.named("dynamodb.conflict", "dynamodb.throttle", "dynamodb.error")
        ]  # fmt: skip
        partitions = [
            {"key": entry.key, "kind": entry.name.rsplit("-", 1)[1], "perSecond": entry.per_second,
             "tables": sorted(entry.resources)}
            for entry in self.spec.named(*PARTITION_LIMITS)
        ]  # fmt: skip
        state: dict[str, Any] = {"generation": self.generation, "spec": str(self.spec), "dynamodb": rules,
                                 "provider": self.spec.provider, "partitions": partitions}  # fmt: skip
        if partitions and self.resources is not None:
            state["hashKeys"] = dict(self.resources.hash_keys)
        if outage is not None:
            state["outage"] = {"key": outage.key, "until": self._outage_until}
        temporary = self.spec_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state))
        os.replace(temporary, self.spec_file)  # a worker reads the old file or the new one, never half of one

    # ------------------------------------------------------------------ asked by the cloud's parts

    def chance(self, name: str, resource: str | None = None) -> bool:
        """Whether fault `name` (stream.duplicate, sqs.duplicate, sqs.reorder) happens now for this table or
        queue; counted when it does. Without such an entry: one dict lookup."""
        entries = self._by_name.get(name)
        if not entries:
            return False
        for entry in entries:
            if entry.resources and resource not in entry.resources:
                continue
            if self.rng.random() < entry.rate:
                self._counts[entry.key] += 1
                return True
        return False

    def kill_next(self, function: str) -> bool:
        """Whether this invocation of `function` (its logical id) is to lose its worker after the handler ran."""
        entry = self._kills.get(function)
        if entry is None:
            return False
        if entry.count:
            left = self._kills_left.get(function, 0)
            if left <= 0:
                return False
            self._kills_left[function] = left - 1
        elif self.rng.random() >= entry.rate:
            return False
        self._counts[entry.key] += 1
        return True

    def worker_config(self) -> dict[str, str]:
        """What worker_bootstrap.py needs to load infra/faults/worker.py and find the spec."""
        return {"module": str(WORKER_MODULE), "spec_file": str(self.spec_file), "counts_file": str(self.counts_file),
                "calls_file": str(self.calls_file), "buckets_file": str(self.buckets_file)}  # fmt: skip

    # ------------------------------------------------------------------ reporting

    def counts(self) -> dict[str, int]:
        """Faults injected since the spec was set, per entry key (the cloud's own and the workers')."""
        records, self._read_offset = _new_records(self.counts_file, self._read_offset)
        for record in records:
            if record.get("g") == self.generation:
                self._counts[str(record.get("e"))] += 1
        return {entry.key: self._counts.get(entry.key, 0) for entry in self.spec.entries
                if not entry.name.startswith("provider.")}  # fmt: skip

    def reset_calls(self) -> None:
        self.calls_file.write_bytes(b"")
        self._calls_offset = 0
        self._operations, self._tables, self._steps, self._invocations = Counter(), Counter(), Counter(), Counter()
        self._kinds = Counter()

    def calls(self) -> dict[str, Any]:
        """The functions' DynamoDB calls since reset_calls(), each of botocore's attempts counted: per operation,
        per table (a call touching two tables counts once for each), per step (the function, with a saga
        task's action: "<function>:<action>"; "invocations": how many invocations of each step made calls),
        per kind ("<operation> <table>[+<table>]": what a client replaying them must send) and in total.
        Invocations still running are counted when they end."""
        records, self._calls_offset = _new_records(self.calls_file, self._calls_offset)
        for record in records:
            self._operations.update(record.get("o", {}))
            self._tables.update(record.get("t", {}))
            self._steps[str(record.get("s", ""))] += sum(record.get("o", {}).values())
            self._invocations[str(record.get("s", ""))] += 1
            self._kinds.update(record.get("k", {}))
        return {"total": sum(self._operations.values()), "operations": dict(self._operations.most_common()),
                "tables": dict(self._tables.most_common()), "steps": dict(self._steps.most_common()),
                "invocations": dict(self._invocations.most_common()),
                "kinds": dict(self._kinds.most_common())}  # fmt: skip

    def describe(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"spec": str(self.spec), "entries": [str(entry) for entry in self.spec.entries],
                                  "counts": self.counts()}  # fmt: skip
        if self._kills_left:
            answer["killsLeft"] = dict(self._kills_left)
        if self._outage_until:
            answer["outageSecondsLeft"] = round(max(self._outage_until - time.time(), 0.0), 3)
        return answer

    # ------------------------------------------------------------------ HTTP (GET, POST, DELETE /_local/faults)

    async def http_get(self, query: Mapping[str, str]) -> dict[str, Any]:
        return self.describe()

    async def http_set(self, query: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """The body is the spec as text, or JSON {"spec": "..."}; a bad spec is a ValueError (400)."""
        text = body.decode("utf-8", errors="replace").strip()
        if text.startswith("{"):
            try:
                text = str(json.loads(text)["spec"])
            except (ValueError, KeyError, TypeError):
                raise FaultSpecError('a JSON body is {"spec": "name=value,..."}') from None
        self.set(text)
        return self.describe()

    async def http_clear(self, query: Mapping[str, str], body: bytes) -> dict[str, Any]:
        self.clear()
        return self.describe()

    async def http_calls(self, query: Mapping[str, str]) -> dict[str, Any]:
        return self.calls()

    async def http_reset_calls(self, query: Mapping[str, str], body: bytes) -> dict[str, Any]:
        self.reset_calls()
        return self.calls()

