"""Lambda versions and aliases on a local cloud of their own (tests/fixtures/templates/versions.yaml): what
AutoPublishAlias generates and a Version and Alias written out provision with their attributes, and a
function named by alias, by version or by $LATEST runs that version, whether invoked directly, through its
API route, its event sources (SQS, DynamoDB Streams, EventBridge, S3) or a Step Functions task. The fixture
function answers (and records, for the event sources) the version it ran as and the ARN it was invoked by."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.launcher import ROOT, RunningCloud
from tests.conftest import local_cloud
from tests.support.polling import eventually

VERSIONS_TEMPLATE = ROOT / "tests" / "fixtures" / "templates" / "versions.yaml"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"


@pytest.fixture(scope="module")
def versions_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    cloud = local_cloud(tmp_path_factory, "versions", template=VERSIONS_TEMPLATE)
    try:
        yield cloud
    finally:
        cloud.stop()


@pytest.fixture(scope="module")
def outputs(versions_cloud: RunningCloud) -> dict[str, str]:
    return dict(versions_cloud.state["outputs"])


@pytest.fixture(scope="module")
def lambda_client(versions_cloud: RunningCloud) -> Any:
    return versions_cloud.client("lambda")


def invoke(lambda_client: Any, **request: Any) -> tuple[str, dict[str, Any]]:
    response = lambda_client.invoke(Payload=b"{}", **request)
    assert "FunctionError" not in response
    return response["ExecutedVersion"], json.loads(response["Payload"].read())


def test_versions_and_aliases_provision_with_their_attributes(outputs: dict[str, str]) -> None:
    plain = FUNCTION_ARN.format("Plain")
    assert outputs["PlainVersionArn"] == f"{plain}:1"  # Ref: the version's ARN
    assert (outputs["PlainVersionNumber"], outputs["PlainSecondVersionNumber"]) == ("1", "2")
    assert outputs["PlainAliasArn"] == f"{plain}:stable"  # Ref: the alias's ARN
    assert outputs["PlainAliasName"] == "stable"
    # AutoPublishAlias: PublishedVersion<hash> and PublishedAliaslive, referred to as Published.Version/.Alias
    assert outputs["PublishedVersionArn"] == FUNCTION_ARN.format("Published:1")
    assert outputs["PublishedAliasArn"] == FUNCTION_ARN.format("Published:live")


@pytest.mark.parametrize(
    ("request_", "version", "invoked"),
    [
        ({"FunctionName": "Plain:stable"}, "1", "Plain:stable"),
        ({"FunctionName": "Plain", "Qualifier": "stable"}, "1", "Plain:stable"),
        ({"FunctionName": FUNCTION_ARN.format("Plain:stable")}, "1", "Plain:stable"),
        ({"FunctionName": "Plain:2"}, "2", "Plain:2"),
        ({"FunctionName": "123456789012:function:Plain", "Qualifier": "1"}, "1", "Plain:1"),
        ({"FunctionName": "Plain:$LATEST"}, "$LATEST", "Plain:$LATEST"),
        ({"FunctionName": "Plain"}, "$LATEST", "Plain"),
        ({"FunctionName": "Published:live"}, "1", "Published:live"),
    ],
    ids=["alias", "alias-qualifier", "alias-arn", "version", "partial-arn-version", "latest", "unqualified", "auto"],
)
def test_invoke_runs_the_version_a_qualifier_names(
    lambda_client: Any, request_: dict[str, str], version: str, invoked: str
) -> None:
    executed, answer = invoke(lambda_client, **request_)
    assert executed == version
    assert answer["version"] == answer["environmentVersion"] == version  # context and AWS_LAMBDA_FUNCTION_VERSION
    assert answer["invokedArn"] == FUNCTION_ARN.format(invoked)
    assert answer["variable"] == ("published" if invoked.startswith("Published") else "plain")


def test_event_invocations_run_the_version_a_qualifier_names(
    versions_cloud: RunningCloud, lambda_client: Any, outputs: dict[str, str]
) -> None:
    marker = f"event-{uuid.uuid4().hex}"
    event = {"detail-type": "probe", "detail": {"marker": marker}}  # recorded in the Calls table as it runs
    response = lambda_client.invoke(FunctionName="Plain:stable", InvocationType="Event", Payload=json.dumps(event))
    assert response["StatusCode"] == 202
    dynamodb = versions_cloud.client("dynamodb")
    key = {"marker": {"S": marker}}
    row = eventually(
        lambda: dynamodb.get_item(TableName=outputs["CallsTableName"], Key=key, ConsistentRead=True).get("Item"),
        timeout=30, message="the queued invocation to run",
    )  # fmt: skip
    assert (row["version"]["S"], row["invokedArn"]["S"]) == ("1", FUNCTION_ARN.format("Plain:stable"))
    dry_run = lambda_client.invoke(FunctionName="Plain:2", InvocationType="DryRun")
    assert (dry_run["StatusCode"], dry_run["ResponseMetadata"]["HTTPHeaders"]["x-amz-executed-version"]) == (204, "2")


def test_get_function_configuration_of_an_alias_is_its_version(lambda_client: Any) -> None:
    configuration = lambda_client.get_function_configuration(FunctionName="Plain", Qualifier="stable")
    assert configuration["Version"] == "1"
    assert configuration["FunctionArn"] == FUNCTION_ARN.format("Plain:1")
    assert configuration["Environment"]["Variables"]["ANSWER"] == "plain"  # the snapshot of the function's


@pytest.mark.parametrize(
    ("request_", "named"),
    [
        ({"FunctionName": "Plain:nope"}, "Plain:nope"),
        ({"FunctionName": "Plain", "Qualifier": "7"}, "Plain:7"),
        ({"FunctionName": FUNCTION_ARN.format("Published:stable")}, "Published:stable"),
    ],
    ids=["unknown-alias", "unknown-version", "alias-of-another-function"],
)
def test_an_unknown_qualifier_is_not_found_as_lambda_answers(
    lambda_client: Any, request_: dict[str, str], named: str
) -> None:
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as raised:
        lambda_client.invoke(**request_)
    assert raised.value.response["Error"]["Message"] == f"Function not found: {FUNCTION_ARN.format(named)}"
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function_configuration(**request_)


def test_a_qualifier_that_contradicts_the_name_is_refused(lambda_client: Any) -> None:
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException):
        lambda_client.invoke(FunctionName="Plain:stable", Qualifier="2")


def test_the_api_route_invokes_the_alias(versions_cloud: RunningCloud) -> None:
    response = httpx.get(f"{versions_cloud.state['endpoints']['api']}/published", timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == "1"
    assert response.json()["invokedArn"] == FUNCTION_ARN.format("Published:live")


def test_every_event_source_delivers_to_the_alias(versions_cloud: RunningCloud, outputs: dict[str, str]) -> None:
    marker = uuid.uuid4().hex
    versions_cloud.client("sqs").send_message(
        QueueUrl=outputs["SourceQueueUrl"], MessageBody=json.dumps({"marker": f"sqs-{marker}"})
    )
    versions_cloud.client("dynamodb").put_item(
        TableName=outputs["SourceTableName"], Item={"marker": {"S": f"dynamodb-{marker}"}}
    )
    detail = json.dumps({"marker": f"events-{marker}"})
    entry = {"Source": "versions.test", "DetailType": "probe", "Detail": detail}
    versions_cloud.client("events").put_events(Entries=[entry])
    versions_cloud.client("s3").put_object(Bucket=outputs["UploadsBucketName"], Key=f"s3-{marker}", Body=b"x")
    dynamodb = versions_cloud.client("dynamodb")

    def calls() -> dict[str, dict[str, str]] | None:
        items = dynamodb.scan(TableName=outputs["CallsTableName"], ConsistentRead=True)["Items"]
        rows = {item["source"]["S"]: {key: value["S"] for key, value in item.items()} for item in items
                if item["marker"]["S"].endswith(marker)}  # fmt: skip
        return rows if len(rows) == 4 else None

    rows = eventually(calls, timeout=30, message="a call from each of SQS, DynamoDB Streams, EventBridge and S3")
    for source, row in rows.items():
        assert row["marker"] == f"{source}-{marker}"
        assert (row["version"], row["invokedArn"]) == ("1", FUNCTION_ARN.format("Published:live")), source


def test_step_functions_tasks_invoke_by_alias_by_version_and_by_latest(
    versions_cloud: RunningCloud, outputs: dict[str, str]
) -> None:
    sfn = versions_cloud.client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=outputs["TasksArn"], input="{}")["executionArn"]

    def finished() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution)
        return described if described["status"] != "RUNNING" else None

    described = eventually(finished, timeout=30, message="the execution to finish")
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["byAlias"] == {"version": "1", "invokedArn": FUNCTION_ARN.format("Plain:stable")}
    assert (output["byVersion"]["version"], output["byVersion"]["invokedArn"]) == ("2", FUNCTION_ARN.format("Plain:2"))
    assert output["byLatest"]["version"] == "$LATEST"


def test_the_deployment_preference_is_reported_as_not_simulated(versions_cloud: RunningCloud) -> None:
    console = (versions_cloud.workdir / "cloud.out").read_text(errors="replace")
    assert "PublishedDeploymentGroup: deployment preference CodeDeployDefault.LambdaAllAtOnce not simulated" in console
    assert "AWS::CodeDeploy::DeploymentGroup x1" in console
