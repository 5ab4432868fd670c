"""A template as a new user writes it (tests/fixtures/templates/configuration.yaml) on a cloud of its own: its
configuration from Parameter Store and Secrets Manager reaches a function through an SSM-typed parameter,
dynamic references and the SDK; unquoted YAML 1.1 scalars arrive as CloudFormation writes them; and what the
cloud does not emulate (a Kinesis stream, X-Ray tracing, a python3.8 runtime) is listed at start, where
--strict refuses it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from infra.cloudformation.inventory import WORKER_RUNTIME
from infra.launcher import ROOT, RunningCloud
from tests.conftest import local_cloud

TEMPLATE = ROOT / "tests" / "fixtures" / "templates" / "configuration.yaml"
# The parameter an operator puts into Parameter Store before the first deploy (the template's Greeting names it).
SSM_PARAMETERS = ["--ssm-parameter", "/fixture/greeting=hello"]


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    cloud = local_cloud(tmp_path_factory, "configuration", template=TEMPLATE, arguments=SSM_PARAMETERS)
    try:
        yield cloud
    finally:
        cloud.stop()


def test_a_function_reads_its_parameter_and_secret_and_gets_resolved_references(configured):
    response = configured.client("lambda").invoke(FunctionName="ReaderFunction", Payload=b"{}")
    result = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, result
    assert result["parameter"] == "table-of-marketplace"  # AWS::SSM::Parameter, read through the SDK
    assert json.loads(result["secret"]) == {"key": "s3cr3t", "account": 42}
    assert result["environment"] == {
        "FIXTURE_GREETING": "hello",  # AWS::SSM::Parameter::Value<String>: the value, not the name
        "FIXTURE_VERBOSE": "true",  # Default: yes
        "FIXTURE_RESOLVED_PARAMETER": "table-of-marketplace",
        "FIXTURE_RESOLVED_VERSION": "hello",
        "FIXTURE_RESOLVED_SECRET_KEY": "s3cr3t",
        "FIXTURE_RESOLVED_SECRET_NUMBER": "42",
        "FIXTURE_DATE": "2024-01-31",
        "FIXTURE_ON": "true",
        "FIXTURE_OCTAL": "493",
        "FIXTURE_STREAM": result["environment"]["FIXTURE_STREAM"],
    }
    assert configured.state["parameters"]["Greeting"] == "/fixture/greeting"


def test_start_up_lists_what_the_template_uses_that_is_not_emulated(configured):
    console = (configured.workdir / "cloud.out").read_text(errors="replace")
    match = re.search(r"not emulated, or only partly, here \(3;.*\n((?:  .*\n){3})", console)
    assert match, console[-3000:]
    assert match.group(1).splitlines() == [
        "  AWS::Kinesis::Stream x1: not emulated: recorded only: nothing local creates or runs it",
        "  AWS::Lambda::Function.TracingConfig x1: partly emulated: no X-Ray traces",
        f"  function LegacyFunction: partly emulated: runtime python3.8 runs on {WORKER_RUNTIME} here",
    ]


def test_strict_refuses_to_start_naming_each_thing_not_emulated(tmp_path_factory):
    with pytest.raises(RuntimeError, match="the local cloud exited") as refused:
        local_cloud(tmp_path_factory, "strict", template=TEMPLATE, arguments=[*SSM_PARAMETERS, "--strict"])
    message = str(refused.value)
    assert "--strict: refusing to start" in message
    for subject in ("AWS::Kinesis::Stream x1", "AWS::Lambda::Function.TracingConfig x1", "function LegacyFunction"):
        assert subject in message
    assert "ready:" not in message
