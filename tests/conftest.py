"""Where the tests find the system under test.

By default the test session starts its own local cloud (`python -m infra run` on free ports, diagnostics
routes enabled, no demo data) and stops it at the end. To run the same suite against another stack, set:

    SHOP_API_URL            base URL of the HTTP API (e.g. https://abc.execute-api.us-east-1.amazonaws.com)
    SHOP_STACK_OUTPUTS      JSON object of the stack's outputs (UserPoolId, UserPoolClientId, ItemsTableName,
                            InventoryTableName), or SHOP_STACK_NAME to read them with CloudFormation
    AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, AWS_REGION and credentials as the SDK reads them
                            (for LocalStack: AWS_ENDPOINT_URL=http://localhost:4566)
    SHOP_TARGET             ministack or localstack: that target's known gaps (tests/support/known_gaps.py)
                            are expected failures; scripts/localstack_target.py sets all of these

Tests that need something only the local cloud has (diagnostics routes, killing a worker, the invoke CLI)
are skipped against other stacks, each with its reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from infra import launcher
from infra.core.clients import sdk_client
from infra.launcher import RunningCloud, launch


@dataclass
class Stack:
    api_url: str
    outputs: dict[str, str]
    environment: dict[str, str] = field(default_factory=dict)  # AWS_* variables for SDK clients
    local: bool = False
    lambda_url: str | None = None
    log_dir: Path | None = None
    cloud: RunningCloud | None = None

    def client(self, service: str) -> Any:
        return sdk_client(service, self.environment)


def _external_stack() -> Stack:
    outputs: dict[str, str]
    if "SHOP_STACK_OUTPUTS" in os.environ:
        outputs = json.loads(os.environ["SHOP_STACK_OUTPUTS"])
    else:
        import boto3

        described = boto3.client("cloudformation").describe_stacks(StackName=os.environ["SHOP_STACK_NAME"])
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0].get("Outputs", [])}
    # The SDK variables the session was started with (AWS_ENDPOINT_URL for LocalStack, the region, keys) are
    # the stack's, so stack.client() builds the same clients boto3 would from the environment.
    aws = {key: value for key, value in os.environ.items() if key.startswith("AWS_")}
    return Stack(api_url=os.environ["SHOP_API_URL"].rstrip("/"), outputs=outputs, environment=aws)


def _local_stack(cloud: RunningCloud) -> Stack:
    return Stack(
        api_url=cloud.state["endpoints"]["api"],
        outputs=cloud.state["outputs"],
        environment=cloud.state["environment"],
        local=True,
        lambda_url=cloud.state["endpoints"]["lambda"],
        log_dir=cloud.log_dir,
        cloud=cloud,
    )


def local_cloud(
    factory: pytest.TempPathFactory,
    name: str,
    *,
    template: Path | None = None,
    overrides: Sequence[str] = (),
    environment: Mapping[str, str] | None = None,
    arguments: Sequence[str] = (),
) -> RunningCloud:
    """The one way tests start a local cloud of their own: `python -m infra run` on free ports, with its
    state and logs under a temporary folder named `name`, on `template` (default template.yaml), with
    template parameter `overrides`, extra `environment` variables for the cloud process and extra `run`
    `arguments` (e.g. --strict). The caller stops it (every fixture below does, at the end of its scope)."""
    extra_args = [*(["--template", str(template)] if template is not None else []), *arguments]
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in (environment or {}).items():
            patch.setenv(variable, value)
        return launch(factory.mktemp(name), overrides=list(overrides), extra_args=extra_args)


# The whole session's tests call from one address (127.0.0.1), where on AWS they would be many clients: the
# edge's per-address and sensitive-route limits (docs/security.md) are raised for the session clouds so a
# burst of registrations or checkouts in one test cannot throttle the next. The edge itself stays on (its
# headers and body limit apply to every test); tests/integration/infra/apigateway/test_edge.py proves the
# limits on a cloud of its own.
SESSION_EDGE_LIMITS = ("SensitiveRateLimit=1000000", "AddressRateLimit=10000000", "ClientRateLimit=1000000")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if os.environ.get("SHOP_API_URL"):
        yield _external_stack()
        return
    # The lake writer batches for 1 s (not the default 60 s), so a test sees its behaviour in the lake soon.
    cloud = local_cloud(tmp_path_factory, "cloud",
                        overrides=["EnableDiagnostics=true", "BehaviourBatchWindowSeconds=1", *SESSION_EDGE_LIMITS])
    try:
        yield _local_stack(cloud)
    finally:
        cloud.stop()


QUICK_PAYMENT_WINDOW_SECONDS = 3


@pytest.fixture(scope="session")
def quick_stack(tmp_path_factory: pytest.TempPathFactory, stack: Stack) -> Iterator[Stack]:
    """A second cloud of the real template whose clocks run fast: unpaid orders expire after
    QUICK_PAYMENT_WINDOW_SECONDS and paid ones ship one second after payment (expiry and journey tests)."""
    if not stack.local:
        pytest.skip("needs a second local cloud with other template parameters")
    cloud = local_cloud(
        tmp_path_factory, "quick",
        overrides=["EnableDiagnostics=true", f"PaymentWindowSeconds={QUICK_PAYMENT_WINDOW_SECONDS}",
                   "FulfilmentDelaySeconds=1", *SESSION_EDGE_LIMITS],
    )  # fmt: skip
    try:
        yield _local_stack(cloud)
    finally:
        cloud.stop()


@pytest.fixture
def local_only(stack: Stack) -> Stack:
    if not stack.local:
        pytest.skip("needs the local cloud (diagnostics routes / worker control); SHOP_API_URL targets another stack")
    return stack


@pytest.fixture(scope="session")
def api(stack: Stack) -> Iterator[Any]:
    import httpx

    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def quick_api(quick_stack: Stack) -> Iterator[Any]:
    """An HTTP client of the quick-clock cloud (quick_stack)."""
    import httpx

    with httpx.Client(base_url=quick_stack.api_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The session's ONE SparkSession (local mode; a JVM start costs seconds), shared by the recommendations
    job's unit tests and the pipeline's integration test."""
    from jobs import recommendations

    session = recommendations.session("local[2]", app_name="tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def seller(api: Any) -> Any:
    from tests.support.users import register

    return register(api, "seller")


@pytest.fixture(scope="session")
def buyer(api: Any) -> Any:
    from tests.support.users import register

    return register(api, "buyer")


TESTS = Path(__file__).resolve().parent
KINDS = ("unit", "integration", "e2e")  # tests/<kind>/...: `pytest -m integration` selects a whole folder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test is marked by the folder it lives in, so no module can forget its marker. Against another
    target (SHOP_TARGET, e.g. ministack), the target's known gaps (tests/support/known_gaps.py) are strict
    expected failures: each says why, and one that starts passing fails the run until it is struck off."""
    from tests.support.known_gaps import known_gap

    target = os.environ.get("SHOP_TARGET", "")
    for item in items:
        kind = item.path.relative_to(TESTS).parts[0]
        if kind in KINDS:
            item.add_marker(kind)
        reason = known_gap(target, item.nodeid) if target else None
        if reason:
            item.add_marker(pytest.mark.xfail(reason=f"{target}: {reason}", strict=True))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """When a test fails, show what the local clouds it ran against logged: CI has nothing else."""
    report = yield
    if report.failed and call.when in ("call", "setup"):
        running = [cloud for cloud in launcher.RUNNING if cloud.process.poll() is None]
        for number, cloud in enumerate(running):
            for name, tail in cloud.log_tails().items():
                report.sections.append((f"cloud {number} ({cloud.workdir.name}) {name}", tail))
    return report
