"""The moto server the local cloud runs: `python -m infra.moto_server -H 127.0.0.1 -p PORT`.

It is moto's own server; this entry point exists so that version-pinned hooks can be installed in the
server process before it starts (see install_hooks: Step Functions, SQS, Cognito and its mail). The endpoints of
the other local services arrive in LOCAL_LAMBDA_ENDPOINT and LOCAL_DYNAMODB_ENDPOINT, moto's own port in MOTO_PORT.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path


def _list_backends_once() -> None:
    """moto lists its package folder (≈150 stat calls) on every request, under a global lock; list it once."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]


def _batch_utils_without_batch() -> None:
    """Load moto.batch.utils (and the exceptions it imports) without the moto.batch package.

    The Step Functions interpreter imports its Batch task, which needs one enum from moto.batch.utils;
    importing that runs moto.batch's __init__, which imports moto's whole EC2 model (~0.6 s of CPU, a
    third of the server's start) for a service the stack never calls. The two small modules are loaded
    from their files under their own names; `import moto.batch`, if anything ever does it, still runs the
    package as usual and finds them loaded.
    """
    import importlib.util

    folder = Path(importlib.util.find_spec("moto").origin or "").parent / "batch"  # type: ignore[union-attr]
    for name in ("exceptions", "utils"):
        qualified = f"moto.batch.{name}"
        if qualified in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(qualified, folder / f"{name}.py")
        assert spec is not None, f"moto has no {qualified}"
        assert spec.loader is not None, f"moto has no {qualified}"
        module = importlib.util.module_from_spec(spec)
        sys.modules[qualified] = module
        spec.loader.exec_module(module)


def install_hooks() -> None:
    """Route Step Functions tasks to the local Lambda API and DynamoDB Local (infra.stepfunctions.hooks) and
    keep SQS receives linear in the queue's size and safe under concurrency (infra.sqs.moto_hooks),
    Cognito requests one at a time (infra.cognito.moto_hooks: moto's user pools are not thread-safe), and give
    Cognito the email verification flow, sending its codes through moto's SES (infra.cognito.verification),
    and keep a table's stream readable after a cancelled transaction (infra.dynamodb.moto_hooks)."""
    _list_backends_once()
    if "MOTO_PORT" not in os.environ:
        # Without its own port the interpreter cannot call back into moto (EventBridge, SQS tasks).
        raise SystemExit("infra.moto_server needs MOTO_PORT set to the port it serves on")
    _batch_utils_without_batch()
    from infra.cognito import moto_hooks as cognito_hooks
    from infra.cognito import verification as cognito_verification
    from infra.dynamodb import moto_hooks as dynamodb_hooks
    from infra.sqs import moto_hooks as sqs_hooks
    from infra.stepfunctions import hooks as stepfunctions_hooks

    stepfunctions_hooks.install()
    sqs_hooks.install()
    cognito_hooks.install()
    cognito_verification.install()
    dynamodb_hooks.install()


def main() -> None:
    from moto.server import main as moto_main

    logging.basicConfig(level=logging.INFO, format="%(asctime)s.%(msecs)03d %(name)s %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)
    if os.environ.get("MOTO_ACCESS_LOG") != "1":
        # A line per SDK call made moto.log grow by thousands of lines a minute under load and showed in
        # py-spy profiles of the flash-sale benchmark (the effect on its throughput was within noise); the
        # gateway logs every API request already. MOTO_ACCESS_LOG=1 brings the lines back.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    install_hooks()
    from infra.core import moto_snapshot
    from infra.stepfunctions import resume

    # Restores and keeps moto's state when the cloud is persisted (LOCAL_PERSIST_FILE); running executions
    # are pickled as their history and resumed once the cloud's Lambda API answers.
    moto_snapshot.install(reducers=[resume.reduce_worker], after_restore=resume.resume_when_lambda_answers)
    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
