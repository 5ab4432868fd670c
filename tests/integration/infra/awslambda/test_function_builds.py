"""Functions run what `sam build` would deploy (tests/fixtures/templates/builds.yaml): each function's
requirements.txt installed into its own cached build, its worker importing that and the Lambda runtime's
boto3, never the local cloud's own packages; a worker forked only when its build matches the fork server's;
an SDK too old for AWS_ENDPOINT_URL* still reaching the local services."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from infra.awslambda.builds import install_requirements
from infra.launcher import ROOT, RunningCloud
from tests.conftest import Stack, local_cloud

BUILDS_TEMPLATE = ROOT / "tests" / "fixtures" / "templates" / "builds.yaml"
FUNCTIONS = ROOT / "tests" / "fixtures" / "functions"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    started = local_cloud(tmp_path_factory, "builds", template=BUILDS_TEMPLATE)
    try:
        yield started
    finally:
        started.stop()


def invoke(cloud: RunningCloud, function: str) -> dict[str, Any]:
    response = cloud.client("lambda").invoke(FunctionName=function, Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return dict(body)


def built(cloud: RunningCloud, source: str) -> Path:
    """Where the cloud installed `source`'s requirements (its state file lists every build)."""
    packages = {build["source"]: build["packages"] for build in cloud.state["builds"]}
    return ROOT / packages[source]


def init_lines(cloud: RunningCloud, function: str) -> list[str]:
    return init_lines_in(cloud.log_dir / f"{function}.log")


def test_a_function_imports_its_bundled_package_and_the_runtimes_boto3_only(cloud: RunningCloud) -> None:
    body = invoke(cloud, "BundledPackageFunction")
    packages = built(cloud, "tests/fixtures/functions/bundled_package")
    assert body["humanize"] == "4.17.0"  # the pinned version, which the local cloud's environment does not have
    assert Path(body["humanizeFile"]).is_relative_to(packages)
    assert body["naturalsize"] == "1.0 MB"
    # boto3 comes with the Lambda runtime: the local cloud's own version, from the runtime's folder, last
    assert body["boto3"] == metadata.version("boto3")
    runtime = Path(body["sysPath"][-1])
    assert runtime.name.startswith("lambda-runtime-")
    assert Path(body["boto3File"]).parent == runtime / "boto3"
    # nothing else of the local cloud's environment: pydantic is installed there, not in this build
    assert not body["pydanticImportable"]
    assert body["sysPath"][:2] == [str(FUNCTIONS / "bundled_package"), str(packages)]
    assert not [entry for entry in body["sysPath"] if "site-packages" in entry]


def test_an_old_bundled_sdk_reaches_the_local_services(cloud: RunningCloud) -> None:
    body = invoke(cloud, "OldSdkFunction")
    packages = built(cloud, "tests/fixtures/functions/old_sdk")
    assert (body["boto3"], body["botocore"]) == ("1.26.165", "1.29.165")  # its own, not the runtime's
    assert Path(body["boto3File"]).is_relative_to(packages)
    environment = cloud.state["environment"]
    assert body["s3Endpoint"] == environment["AWS_ENDPOINT_URL_S3"]
    assert body["dynamodbEndpoint"] == environment["AWS_ENDPOINT_URL_DYNAMODB"]
    assert body["stored"] == "written by botocore 1.29.165"  # S3 and DynamoDB of this cloud answered


def test_workers_are_forked_only_when_their_build_matches_the_fork_servers(cloud: RunningCloud) -> None:
    for function in ("RuntimeOnlyFunction", "BundledPackageFunction", "OldSdkFunction"):
        invoke(cloud, function)
    # The fork server imported the runtime's boto3 (what most of these functions have): a function whose
    # build adds other packages shares it, one that bundles another boto3 must start by exec.
    assert init_lines(cloud, "RuntimeOnlyFunction")[0].endswith("Worker: forked")
    assert init_lines(cloud, "BundledPackageFunction")[0].endswith("Worker: forked")
    exec_line = init_lines(cloud, "OldSdkFunction")[0]
    boto3_version = metadata.version("boto3")
    assert exec_line.endswith(f"Worker: exec (its boto3 is boto3 1.26.165, the fork server's {boto3_version})")


def test_a_second_build_of_unchanged_requirements_installs_nothing(cloud: RunningCloud) -> None:
    source = FUNCTIONS / "bundled_package"
    packages = built(cloud, "tests/fixtures/functions/bundled_package")
    before = os.stat(packages).st_ino
    build = install_requirements(source, packages.parent)  # what the next start of a cloud does
    assert not build.installed
    assert build.packages == packages
    assert os.stat(packages).st_ino == before  # the same folder, not a new install renamed into place


def test_the_shop_functions_run_their_layers_build_and_are_forked(stack: Stack, api: Any) -> None:
    """Our own template keeps the fast path: the fork server imports from the shop layer's build, which pins
    what the venv runs (tests/unit/template/test_layer_pins.py), so every shop worker is forked."""
    if not stack.local:
        pytest.skip("the local cloud's workers")
    assert stack.cloud is not None and stack.log_dir is not None
    assert api.get("/openapi.json").status_code == 200  # ApiDocsFunction has started a worker by now
    layer = {build["source"]: build["packages"] for build in stack.cloud.state["builds"]}["layers/shop/python"]
    assert (ROOT / layer / "pydantic").is_dir()
    lines = {path.stem: init_lines_in(path) for path in stack.log_dir.glob("*Function.log")}
    assert lines["ApiDocsFunction"]
    assert {line.split("Worker: ")[1] for started in lines.values() for line in started} == {"forked"}


def init_lines_in(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith("INIT_START")]
