"""Command line of the local cloud.

    python -m infra run [--port 3000] [--parameter-overrides K=V ...] [--no-seed] [--faults SPEC] [--persist DIR]
                        [--strict] [--ssm-parameter NAME=VALUE ...]
    python -m infra env [--json]                      variables that point an SDK/CLI/tests at it
    python -m infra invoke FUNCTION [-e FILE|-] [-n ENV_VARS.json] [--invocation-type Event] [--faults SPEC]
                                                      as `sam local invoke` (same event files and --env-vars)
    python -m infra generate-event SERVICE EVENT [options]   as `sam local generate-event`, e.g.
                                        generate-event apigateway http-api-proxy --method POST --path /items
    python -m infra events [--follow] [--limit N] [--type T]   the events the buses routed (the event log)
    python -m infra executions [--name ID] [--limit N]         Step Functions executions, state by state
    python -m infra reconcile [--settle S] [--slack S] [--payment-window S] [--stack-name N | --stack-outputs JSON]
                                                      check the stack's invariants; exit 1 on a violation
    python -m infra replay-archive [--stack-name N | --stack-outputs JSON]
                                                      re-deliver the order archiver's failed stream batches
    python -m infra faults [SPEC|off|show] [--url URL]         fault injection on the running cloud
    python -m infra mail [--to ADDRESS]               what the cloud emailed (verification codes, notifications)
    python -m infra emails [--to ADDRESS]             the same (an alias)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shlex
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from infra.cloud import STATE_FILE, CloudConfig, LocalCloud

log = logging.getLogger("infra")


def _pairs(pairs: list[str], option: str) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"{option} expects KEY=VALUE, got {pair!r}")
        values[key] = value
    return values


def _overrides(pairs: list[str]) -> dict[str, str]:
    return _pairs(pairs, "--parameter-overrides")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        # Loggers are named after their package (infra.dynamodb, infra.sqs, ...), so a line says where to look;
        # infra.functions carries the functions' own output (infra.awslambda.logs).
        format="%(asctime)s.%(msecs)03d %(name)-20s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the seed's requests are logged by the gateway
    # SAM's translator says once per AutoPublishAlias function that a feature flag has no config (it needs none)
    logging.getLogger("samtranslator.feature_toggle").setLevel(logging.WARNING)


async def _run(config: CloudConfig) -> int:
    began = time.monotonic()
    cloud = LocalCloud(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await cloud.start()
        assert cloud.endpoints is not None
        print(f"started in {time.monotonic() - began:.2f} s; `python -m infra env` prints the endpoints")
        if config.seed:
            from infra.seed import DEMO_BUYER, DEMO_SELLER

            for user in (DEMO_SELLER, DEMO_BUYER):
                print(f"demo {user.role}: {user.email} / {user.password}")
        print(f"ready: {cloud.endpoints.api}", flush=True)
        # The API serves from here on; the demo data arrives through it in the next seconds, then the
        # remaining function workers warm up, so neither delays `ready`.
        background = asyncio.create_task(_seed_then_prewarm(cloud, config.seed))
        await stop.wait()
        background.cancel()
        print("stopping", flush=True)
        return 0
    finally:
        await cloud.stop()


async def _seed_then_prewarm(cloud: LocalCloud, seed: bool) -> None:
    assert cloud.endpoints is not None
    # A persisted cloud loads the demo data once: later starts find it in their folder (re-creating it once
    # the items' idempotency keys expired would list the catalog twice).
    marker = cloud.config.persist_dir / "seeded" if cloud.config.persist_dir else None
    if seed and marker is not None and marker.exists():
        print(f"demo data kept in {cloud.config.persist_dir}", flush=True)
    elif seed:
        from infra.seed import SeedError
        from infra.seed import seed as load_demo_data

        began = time.monotonic()
        try:
            summary = await asyncio.to_thread(load_demo_data, cloud.endpoints.api)
        except (SeedError, OSError) as error:
            log.error("the demo data could not be loaded: %s", error)
        else:
            print(f"demo catalog: {summary['items']} items loaded in {time.monotonic() - began:.1f} s", flush=True)
            if marker is not None:
                marker.touch()
    cloud.prewarm_in_background()


FAULTS_HELP = "fault injection from the start, e.g. dynamodb.conflict=0.2 (default: LOCAL_FAULTS; docs/local-cloud.md)"


def _check_faults(spec: str) -> None:
    """A fault spec that does not parse stops the command before a cloud starts (names are checked later,
    against the stack, and stop the start too)."""
    from infra.faults.spec import FaultSpecError, parse

    try:
        parse(spec)
    except FaultSpecError as error:
        raise SystemExit(f"invalid fault spec (--faults / LOCAL_FAULTS): {error}") from None


def _state_file() -> Path:
    # Tests run their own cloud with its own state file and point the CLI at it this way.
    return Path(os.environ.get("SHOP_CLOUD_STATE", STATE_FILE))


def _run_loop(main: Coroutine[Any, Any, int]) -> int:
    # uvloop makes the gateway's hot path ~10% faster than the default loop (measured in bench).
    import uvloop

    return uvloop.run(main)


def _read_state() -> dict[str, Any]:
    if not _state_file().exists():
        raise SystemExit("the local cloud is not running: start it with `make run`")
    return dict(json.loads(_state_file().read_text()))


def _running(state: dict[str, Any]) -> bool:
    try:
        with urllib.request.urlopen(f"{state['endpoints']['api']}/health", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _env(as_json: bool) -> int:
    environment = _read_state()["environment"]
    if as_json:
        print(json.dumps(environment, indent=2))
    else:
        for key, value in environment.items():
            print(f"export {key}={shlex.quote(value)}")
    return 0


def _invoke_through(lambda_url: str, function: str, payload: bytes, invocation_type: str) -> int:
    from infra.core.clients import local_client

    client = local_client("lambda", lambda_url, "us-east-1")
    response = client.invoke(
        FunctionName=function, Payload=payload, InvocationType=invocation_type, LogType="Tail"
    )
    if "LogResult" in response:
        import base64

        sys.stderr.write(base64.b64decode(response["LogResult"]).decode(errors="replace"))
    body = response["Payload"].read().decode()
    if body:
        print(body)
    return 1 if response.get("FunctionError") else 0


async def _invoke_in_fresh_cloud(config: CloudConfig, function: str, payload: bytes, kind: str) -> int:
    """Like `sam local invoke`: bring the stack up just for this invocation, then tear it down."""
    cloud = LocalCloud(config)
    try:
        await cloud.start()
        assert cloud.endpoints is not None
        return await asyncio.to_thread(_invoke_through, cloud.endpoints.lambda_api, function, payload, kind)
    finally:
        await cloud.stop()


def _env_vars(path: Path | None) -> dict[str, Any]:
    """The `--env-vars` file of `sam local invoke`: {"Parameters": {...}, "<FunctionLogicalId>": {...}}."""
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise SystemExit(f"--env-vars {path}: {error}") from error
    if not isinstance(document, dict) or not all(isinstance(values, dict) for values in document.values()):
        raise SystemExit(f'--env-vars {path}: expected {{"Parameters": {{...}}, "<Function>": {{"VAR": "value"}}}}')
    return document


def _invoke(args: argparse.Namespace) -> int:
    source = args.event
    payload = (sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()) if source else b"{}"
    try:
        json.loads(payload or b"{}")
    except json.JSONDecodeError as error:
        raise SystemExit(f"the event is not JSON: {error}") from error
    env_vars = _env_vars(args.env_vars)
    # A running cloud's workers keep the environment they started with, so --env-vars gets a cloud of its
    # own for this invocation, as every `sam local invoke` does.
    if not env_vars and args.template is None and _state_file().exists() and _running(state := _read_state()):
        return _invoke_through(state["endpoints"]["lambda"], args.function, payload, args.invocation_type)
    config = CloudConfig(
        api_port=0, lambda_port=0, rest_api_port=0, seed=False, prewarm=False, state_file=None,
        parameter_overrides=_overrides(args.parameter_overrides), faults=args.faults, env_vars=env_vars,
    )
    if args.template is not None:
        config.template = args.template.resolve()
    return _run_loop(_invoke_in_fresh_cloud(config, args.function, payload, args.invocation_type))


def _build(args: argparse.Namespace) -> int:
    """sam build's step for the local cloud, ahead of its start: pip runs only for a changed requirements.txt."""
    from infra.cloudformation.provision import ProvisioningError

    config = CloudConfig(state_file=None)
    if args.template is not None:
        config.template = args.template.resolve()
    try:
        builds = LocalCloud(config).build()
    except ProvisioningError as error:
        raise SystemExit(f"build: {error}") from None
    installed = [build for build in builds if build.installed]
    cached = [build for build in builds if build.packages is not None and not build.installed]
    print(f"build: {len(installed)} installed, {len(cached)} unchanged, in {config.build_dir}")
    return 0


def _generate_event(args: argparse.Namespace) -> int:
    from infra.sample_events import EventError, generate

    try:
        print(json.dumps(generate(args), indent=2))
    except EventError as error:
        raise SystemExit(f"generate-event: {error}") from None
    return 0


def _run_command(args: argparse.Namespace) -> int:
    config = CloudConfig(
        api_port=args.port, lambda_port=args.lambda_port, rest_api_port=args.rest_port, seed=not args.no_seed,
        parameter_overrides=_overrides(args.parameter_overrides), state_file=args.state_file,
    )
    if args.log_dir:
        config.log_dir = args.log_dir
    if args.template:
        config.template = args.template.resolve()
    config.ttl_sweep_seconds = args.ttl_sweep_seconds
    config.faults = args.faults
    config.persist_dir = args.persist.resolve() if args.persist else None
    config.web_root = None if args.no_web else args.web_root.resolve()
    config.strict = args.strict
    config.ssm_parameters = _pairs(args.ssm_parameter, "--ssm-parameter")
    from infra.cloudformation.inventory import NotEmulatedError
    from infra.faults.spec import FaultSpecError

    try:
        return _run_loop(_run(config))
    except FaultSpecError as error:  # a function, table or queue the stack does not have
        raise SystemExit(f"invalid fault spec (--faults / LOCAL_FAULTS): {error}") from None
    except NotEmulatedError as error:
        raise SystemExit(f"--strict: refusing to start; {error}") from None


def _add_invoke_parser(commands: Any) -> None:
    """`invoke`, with the flags of `sam local invoke` (-e, -n, -t, --parameter-overrides)."""
    invoke = commands.add_parser("invoke", help="invoke one function, like `sam local invoke`")
    invoke.add_argument("function", help="the function's logical id in the template, e.g. CatalogFunction")
    invoke.add_argument("-e", "--event", help="JSON event file, or - for standard input (default {})")
    invoke.add_argument("-n", "--env-vars", type=Path, default=None,
                        help='JSON of variables over the template\'s: {"Parameters": {...}, "<Function>": {...}} '
                             "(starts a cloud for this invocation)")
    invoke.add_argument("-t", "--template", type=Path, default=None,
                        help="SAM template (default template.yaml; starts a cloud for this invocation)")
    invoke.add_argument("--invocation-type", default="RequestResponse", choices=["RequestResponse", "Event"])
    invoke.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE")
    invoke.add_argument("--faults", metavar="SPEC", default=None, help=f"{FAULTS_HELP}, for a cloud started to invoke")


def _stack_target_arguments(
    command: argparse.ArgumentParser, read: str = "outputs read with CloudFormation", example: str = ""
) -> None:
    """--stack-name / --stack-outputs: a deployed stack (or LocalStack's) instead of the running local cloud."""
    command.add_argument("--stack-name", default=os.environ.get("SHOP_STACK_NAME"), help=f"a deployed stack ({read})")
    shape = f" ({example})" if example else ""
    command.add_argument("--stack-outputs", default=os.environ.get("SHOP_STACK_OUTPUTS"),
                         help=f"a stack's outputs as JSON{shape}; AWS_ENDPOINT_URL* apply")


def _add_run_parser(commands: Any) -> None:
    run = commands.add_parser("run", help="start everything and serve the API")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    run.add_argument("--lambda-port", type=int, default=int(os.environ.get("LAMBDA_PORT", "3001")))
    run.add_argument("--rest-port", type=int, default=int(os.environ.get("REST_API_PORT", "3002")),
                     help="the template's first REST API (API Gateway v1), the next ones on the ports after it")
    run.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE")
    run.add_argument("--no-seed", action="store_true", help="do not load the demo users and catalog")
    run.add_argument("--state-file", type=Path, default=STATE_FILE,
                     help="where to write the endpoints for `env` (default .local/cloud.json)")
    run.add_argument("--log-dir", type=Path, default=None, help="function and service logs (default .local/logs)")
    run.add_argument("--template", type=Path, default=None, help="SAM template (default template.yaml)")
    run.add_argument("--ttl-sweep-seconds", type=float, default=float(os.environ.get("TTL_SWEEP_SECONDS", "1")),
                     help="how often expired items are deleted from tables with TTL (default 1)")
    run.add_argument("--faults", metavar="SPEC", default=None, help=FAULTS_HELP)
    run.add_argument("--web-root", type=Path, default=CloudConfig.web_root, metavar="DIR",
                     help="the storefront's built files, served at / (default web/dist; docs/storefront.md)")
    run.add_argument("--no-web", action="store_true", help="serve the API only, not the storefront")
    run.add_argument("--persist", type=Path, default=None, metavar="DIR",
                     help="keep tables, S3, queues, users, the search index and executions in DIR across restarts")
    run.add_argument("--strict", action="store_true",
                     help="refuse to start if the template uses anything the cloud emulates only partly or not at all "
                          "(the list start-up prints)")
    run.add_argument("--ssm-parameter", action="append", default=[], metavar="NAME=VALUE",
                     help="put a String parameter into the local Parameter Store before provisioning (what SSM-typed "
                          "template parameters and {{resolve:ssm:NAME}} read); repeatable")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra", description="The marketplace's local cloud.")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "info"))
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="install functions' and layers' requirements as `sam build` does")
    build.add_argument("--template", type=Path, default=None, help="SAM template (default template.yaml)")

    _add_run_parser(commands)

    env = commands.add_parser("env", help="print the variables that point SDKs and tests at the cloud")
    env.add_argument("--json", action="store_true")

    _add_invoke_parser(commands)

    from infra.sample_events import add_generate_event_parser

    add_generate_event_parser(commands)

    events = commands.add_parser("events", help="the events the local buses routed (the cloud's event log)")
    events.add_argument("--follow", "-f", action="store_true")
    events.add_argument("--limit", type=int, default=50)
    events.add_argument("--type", help="only events of this detail-type")

    executions = commands.add_parser("executions", help="Step Functions executions with their history")
    executions.add_argument("--name", help="one execution (name or ARN) state by state")
    executions.add_argument("--limit", type=int, default=20)

    reconcile = commands.add_parser(
        "reconcile", help="check stock, orders, payments, events and card numbers across the stack's tables"
    )
    reconcile.add_argument("--settle", type=float, default=10.0,
                           help="seconds to wait for events not on the bus yet before calling them missing")
    reconcile.add_argument("--slack", type=float, default=30.0,
                           help="seconds a step in flight (an unwind, a confirmation) may take before it counts")
    reconcile.add_argument("--payment-window", type=int, default=None,
                           help="PaymentWindowSeconds (default: the stack's parameter)")
    reconcile.add_argument("--no-logs", action="store_true", help="do not scan the local cloud's log files")
    _stack_target_arguments(reconcile, "outputs and parameters read with CloudFormation",
                            '{"OrdersTableName": ...}')
    replay = commands.add_parser(
        "replay-archive", help="re-deliver the stream batches the order archiver gave up on (its failure queue)"
    )
    _stack_target_arguments(replay)
    shards = commands.add_parser("stock-shards", help="switch a hot variant's stock to N shard rows (1: off)")
    shards.add_argument("item_id", metavar="ITEM_ID")
    shards.add_argument("shards", type=int, metavar="SHARDS", help="rows taking reservations, 1..32 (1: off)")
    shards.add_argument("--variant", default="default", help="the variant (default: an item without variants)")
    _stack_target_arguments(shards)
    faults = commands.add_parser("faults", help="show, set or clear fault injection on the running cloud")
    faults.add_argument("spec", nargs="?", default=None, metavar="SPEC|off|show",
                        help="e.g. dynamodb.conflict=0.2,lambda.kill=SagaFunction:1 (docs/local-cloud.md)")
    faults.add_argument("--url", help="the cloud's API URL (default: the running cloud's, from its state file)")
    mail = commands.add_parser("mail", aliases=["emails"],
                               help="the mail the local cloud sent (verification codes, notifications)")
    mail.add_argument("--to", help="only the mail sent to this address")
    mail.add_argument("--url", help="the cloud's API URL (default: the running cloud's, from its state file)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging(args.log_level)
    if args.command in ("run", "invoke"):
        _check_faults(args.faults if args.faults is not None else os.environ.get("LOCAL_FAULTS", ""))
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "run": _run_command, "env": lambda a: _env(a.json), "events": _events, "faults": _faults,
        "executions": _executions, "reconcile": _reconcile, "invoke": _invoke, "mail": _mail,
        "replay-archive": _replay_archive, "stock-shards": _stock_shards,
        "generate-event": _generate_event, "build": _build,
        "emails": _mail,  # the alias of mail (argparse reports the name it was called by)
    }  # fmt: skip
    return commands[args.command](args)


def _events(args: argparse.Namespace) -> int:
    from infra.events.inspect import show_events

    return show_events(_read_state(), follow=args.follow, limit=args.limit, type=args.type)


def _faults(args: argparse.Namespace) -> int:
    from infra.faults.client import command

    return command(args.url or _read_state()["endpoints"]["api"], args.spec)


def _mail(args: argparse.Namespace) -> int:
    from infra.cognito.mail import show_mail

    return show_mail(args.url or _read_state()["endpoints"]["api"], args.to)


def _executions(args: argparse.Namespace) -> int:
    from infra.stepfunctions.executions import show_executions

    return show_executions(_read_state(), name=args.name, limit=args.limit)


def _replay_archive(args: argparse.Namespace) -> int:
    """Replay the order archiver's failure queue on the running local cloud, or on the stack named."""
    from infra.dynamodb.replay import replay
    from infra.reconcile import described_stack

    if args.stack_outputs or args.stack_name:
        environment = dict(os.environ)
        outputs = json.loads(args.stack_outputs) if args.stack_outputs else described_stack(args.stack_name,
                                                                                             environment)[0]
        report = replay(outputs, environment)
    else:
        state = _read_state()
        report = replay(state["outputs"], state["environment"], local_api=state["endpoints"]["api"])
    print(report.text())
    return 0 if not report.failed else 1


def _stock_shards(args: argparse.Namespace) -> int:
    """Switch a variant of the running local cloud, or of the stack named, to SHARDS stock rows."""
    from infra.reconcile import described_stack
    from infra.stock_shards import switch

    if args.stack_outputs or args.stack_name:
        environment = dict(os.environ)
        outputs = json.loads(args.stack_outputs) if args.stack_outputs else described_stack(args.stack_name,
                                                                                             environment)[0]
    else:
        state = _read_state()
        outputs, environment = state["outputs"], state["environment"]
    print(json.dumps(switch(outputs, environment, args.item_id, args.variant, args.shards)))
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    """Check the invariants of the running local cloud, or of the stack --stack-name/--stack-outputs names."""
    from infra.reconcile import described_stack, local_target, reconcile, stack_target

    if args.stack_outputs or args.stack_name:
        environment = dict(os.environ)
        parameters: dict[str, str] = {}
        if args.stack_outputs:
            outputs = json.loads(args.stack_outputs)
        else:
            outputs, parameters = described_stack(args.stack_name, environment)
        target = stack_target(outputs, environment, parameters)
    else:
        target = local_target(_read_state())
    report = reconcile(
        target, settle=args.settle, slack=args.slack, payment_window_seconds=args.payment_window,
        scan_logs=not args.no_logs,
    )  # fmt: skip
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
