"""The project's own cfn-lint rules (lint/rules, enabled by .cfnlintrc) catch what they promise."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from string import Template

import pytest

ROOT = Path(__file__).resolve().parents[3]

FUNCTION = """
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Handler: app.handler
      Runtime: python3.11
$logging      Events:
$events
"""
LOGGING = """      LoggingConfig:
        LogGroup: !Ref FnLogs
"""
LOG_GROUP = """
  FnLogs:
    Type: AWS::Logs::LogGroup
    Properties:
$retention      LogGroupName: fn
"""
TABLE = """
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Dlq:
    Type: AWS::SQS::Queue
  Work:
    Type: AWS::SQS::Queue
    Properties:
$redrive      VisibilityTimeout: 30
"""
STREAM_EVENT = """        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: LATEST
$destination"""
QUEUE_EVENT = """        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Work.Arn
"""


def _template(*, logging=True, retention=True, destination=True, redrive=True) -> str:
    on_failure = "            DestinationConfig: {OnFailure: {Destination: !GetAtt Dlq.Arn}}\n"
    events = Template(STREAM_EVENT).substitute(destination=on_failure if destination else "") + QUEUE_EVENT
    resources = Template(FUNCTION).substitute(logging=LOGGING if logging else "", events=events)
    resources += Template(LOG_GROUP).substitute(retention="      RetentionInDays: 7\n" if retention else "")
    resources += Template(TABLE).substitute(
        redrive="      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 3}\n" if redrive else ""
    )
    return "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:" + resources


def _lint(tmp_path: Path, text: str) -> str:
    (tmp_path / "src").mkdir(exist_ok=True)
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text))
    cfn_lint = str(Path(sys.executable).with_name("cfn-lint"))
    # run from the project root so .cfnlintrc (and with it lint/rules) applies, as in `make lint`
    result = subprocess.run([cfn_lint, str(path)], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


def test_a_compliant_template_passes(tmp_path):
    assert "E91" not in _lint(tmp_path, _template())


@pytest.mark.parametrize(
    ("change", "rule", "words"),
    [
        ({"destination": False}, "E9101", "no DestinationConfig.OnFailure"),
        ({"redrive": False}, "E9101", "no RedrivePolicy"),
        ({"logging": False}, "E9102", "no LoggingConfig.LogGroup"),
        ({"retention": False}, "E9102", "no RetentionInDays"),
    ],
    ids=["stream-without-on-failure", "queue-without-dlq", "function-without-log-group", "log-group-without-retention"],
)
def test_each_rule_fails_the_template_that_breaks_it(tmp_path, change, rule, words):
    output = _lint(tmp_path, _template(**change))
    assert rule in output
    assert words in output
