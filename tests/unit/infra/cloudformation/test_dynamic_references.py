"""Parameter Store and Secrets Manager in provisioning, against moto's services (the local cloud's own):
AWS::SSM::Parameter resources, SSM-typed template parameters resolved at deploy, and the {{resolve:...}}
dynamic references in resource properties, as CloudFormation resolves them."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from infra.cloudformation.provision import LocalStack, Provisioner, ProvisioningError
from infra.core.aws import Endpoints
from infra.core.clients import local_client


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def provisioner(moto_url: str) -> Provisioner:
    """One for the module (its ten clients cost ~0.5 s): each test's names are its own."""
    endpoints = Endpoints(dynamodb=moto_url, moto=moto_url, lambda_api=moto_url, api=moto_url)
    return Provisioner(endpoints, Path.cwd(), "unit")


def _recorded(properties: dict[str, Any], **resources: Any) -> dict[str, Any]:
    """A template whose resource Probe (of a type nothing creates) records `properties` once resolved."""
    return {"Resources": {**resources, "Probe": {"Type": "Test::Probe::Recorded", "Properties": properties}}}


def _probe(stack: LocalStack) -> dict[str, Any]:
    return stack.resources["Probe"].properties


def test_a_parameter_resource_is_created_in_parameter_store_and_ref_names_it(provisioner, moto_url):
    template = {"Resources": {"Setting": {"Type": "AWS::SSM::Parameter",
                                          "Properties": {"Name": "/unit/setting", "Type": "String", "Value": True}}}}
    stack = provisioner.provision(template, {})
    ssm = local_client("ssm", moto_url, "us-east-1")
    assert ssm.get_parameter(Name="/unit/setting")["Parameter"]["Value"] == "true"
    assert stack.resources["Setting"].ref == "/unit/setting"
    assert stack.resources["Setting"].attributes == {"Type": "String", "Value": "true"}


def test_ssm_typed_parameters_resolve_to_the_value_their_name_has_in_parameter_store(provisioner):
    provisioner.put_parameters({"/unit/greeting": "hello", "/unit/zones": "a,b"})
    declared = {"Greeting": {"Type": "AWS::SSM::Parameter::Value<String>"},
                "Zones": {"Type": "AWS::SSM::Parameter::Value<List<String>>"},
                "Names": {"Type": "CommaDelimitedList"}, "Plain": {"Type": "String"}}  # fmt: skip
    template = {"Parameters": declared, **_recorded({
        "Greeting": {"Ref": "Greeting"}, "Zones": {"Fn::Join": ["+", {"Ref": "Zones"}]},
        "Names": {"Fn::Select": [1, {"Ref": "Names"}]}, "Plain": {"Ref": "Plain"}})}  # fmt: skip
    stack = provisioner.provision(
        template, {"Greeting": "/unit/greeting", "Zones": "/unit/zones", "Names": "x,y", "Plain": "/unit/greeting"}
    )
    assert _probe(stack) == {"Greeting": "hello", "Zones": "a+b", "Names": "y", "Plain": "/unit/greeting"}
    assert stack.parameters["Greeting"] == "/unit/greeting"  # as DescribeStacks shows it: the name


def test_a_missing_ssm_typed_parameter_stops_provisioning_naming_it(provisioner):
    template = {"Parameters": {"Greeting": {"Type": "AWS::SSM::Parameter::Value<String>"}}, "Resources": {}}
    with pytest.raises(ProvisioningError, match=r"/unit/absent.*--ssm-parameter"):
        provisioner.provision(template, {"Greeting": "/unit/absent"})


def test_dynamic_references_resolve_in_resource_properties(provisioner, moto_url):
    provisioner.put_parameters({"/unit/name": "first"})
    provisioner.put_parameters({"/unit/name": "second"})
    ssm = local_client("ssm", moto_url, "us-east-1")
    ssm.put_parameter(Name="/unit/password", Value="pa55", Type="SecureString", Overwrite=True)
    template = _recorded(
        {
            "Latest": "{{resolve:ssm:/unit/name}}",
            "First": "prefix-{{resolve:ssm:/unit/name:1}}-suffix",
            "Secure": "{{resolve:ssm-secure:/unit/password}}",
            "Whole": {"Fn::Sub": "{{resolve:secretsmanager:${Secret}}}"},
            "Key": {"Fn::Sub": "{{resolve:secretsmanager:${Secret}:SecretString:user}}"},
            "Number": {"Fn::Sub": "{{resolve:secretsmanager:${Secret}:SecretString:port::}}"},
            "ByName": ["{{resolve:secretsmanager:unit-secret:SecretString:user:AWSCURRENT}}"],
        },
        Secret={"Type": "AWS::SecretsManager::Secret",
                "Properties": {"Name": "unit-secret", "SecretString": '{"user": "ann", "port": 5432}'}},
    )  # fmt: skip
    assert _probe(provisioner.provision(template, {})) == {
        "Latest": "second", "First": "prefix-first-suffix", "Secure": "pa55",
        "Whole": '{"user": "ann", "port": 5432}', "Key": "ann", "Number": "5432", "ByName": ["ann"],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("reference", "complaint"),
    [
        ("{{resolve:ssm:/unit/nowhere}}", "Parameter Store has no"),
        ("{{resolve:ssm:/unit/secure-only}}", "SecureString"),
        ("{{resolve:secretsmanager:no-such-secret}}", "no such secret"),
        ("{{resolve:secretsmanager:unit-plain:SecretString:key}}", "not a JSON object"),
        ("{{resolve:secretsmanager:unit-plain:SecretBinary}}", "only SecretString"),
    ],
)
def test_a_dynamic_reference_that_cannot_resolve_stops_provisioning(provisioner, moto_url, reference, complaint):
    local_client("ssm", moto_url, "us-east-1").put_parameter(
        Name="/unit/secure-only", Value="x", Type="SecureString", Overwrite=True
    )
    template = _recorded(
        {"Value": reference},
        Plain={"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "unit-plain", "SecretString": "text"}},
    )
    template["Resources"]["Probe"]["DependsOn"] = "Plain"
    with pytest.raises(ProvisioningError, match=complaint):
        provisioner.provision(template, {})
