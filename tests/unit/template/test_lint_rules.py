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
$dead_letter$logging      Events:
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
SCHEDULE_EVENT = """        Nightly:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
$schedule_dlq"""
RULE = """
  Rule:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 hour)
      Targets:
        - Id: work
          Arn: !GetAtt Work.Arn
$target_dlq"""
ALARMS = """
  Topic:
    Type: AWS::SNS::Topic
  DlqAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Dimensions: [{Name: QueueName, Value: !GetAtt $dlq.QueueName}]
      Statistic: Maximum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      AlarmActions: [!Ref Topic]
  IteratorAgeAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: IteratorAge
      Dimensions: [{Name: FunctionName, Value: !Ref Fn}]
      Statistic: Maximum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 60000
      ComparisonOperator: GreaterThanThreshold
$iterator_actions"""


def _template(
    *, logging=True, retention=True, destination=True, redrive=True, dead_letter=True, schedule_dlq=True,
    target_dlq=True, dlq_alarm=True, iterator_alarm=True,
) -> str:
    on_failure = "            DestinationConfig: {OnFailure: {Destination: !GetAtt Dlq.Arn}}\n"
    events = Template(STREAM_EVENT).substitute(destination=on_failure if destination else "") + QUEUE_EVENT
    events += Template(SCHEDULE_EVENT).substitute(
        schedule_dlq="            DeadLetterConfig: {Arn: !GetAtt Dlq.Arn}\n" if schedule_dlq else ""
    )
    resources = Template(FUNCTION).substitute(
        logging=LOGGING if logging else "", events=events,
        dead_letter="      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt Dlq.Arn}\n" if dead_letter else "",
    )
    resources += Template(RULE).substitute(
        target_dlq="          DeadLetterConfig: {Arn: !GetAtt Dlq.Arn}\n" if target_dlq else ""
    )
    # without a DLQ alarm: the alarm watches another queue; without an iterator alarm: it notifies nobody
    resources += Template(ALARMS).substitute(
        dlq="Dlq" if dlq_alarm else "Work",
        iterator_actions="      AlarmActions: [!Ref Topic]\n" if iterator_alarm else "",
    )
    resources += Template(LOG_GROUP).substitute(retention="      RetentionInDays: 7\n" if retention else "")
    resources += Template(TABLE).substitute(
        redrive="      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 3}\n" if redrive else ""
    )
    return "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:" + resources


CASES = {  # id: (the change to the compliant template, the rule that must catch it, words of its message)
    "stream-without-on-failure": ({"destination": False}, "E9101", "no DestinationConfig.OnFailure"),
    "queue-without-dlq": ({"redrive": False}, "E9101", "no RedrivePolicy"),
    "function-without-log-group": ({"logging": False}, "E9102", "no LoggingConfig.LogGroup"),
    "log-group-without-retention": ({"retention": False}, "E9102", "no RetentionInDays"),
    "async-function-without-dlq": (
        {"dead_letter": False}, "E9103", "Fn is invoked asynchronously (Nightly) and has no DeadLetterQueue"),
    "schedule-without-dlq": (
        {"schedule_dlq": False}, "E9103", "Fn.Nightly is an EventBridge rule target without a DeadLetterConfig"),
    "rule-target-without-dlq": ({"target_dlq": False}, "E9103", "rule Rule's target 0 has no DeadLetterConfig"),
    "dlq-without-alarm": (
        {"dlq_alarm": False}, "E9104", "queue Dlq (for Fn, Fn.Changes, Fn.Nightly, Rule, Work) has no alarm"),
    "stream-consumer-without-iterator-age-alarm": (
        {"iterator_alarm": False}, "E9105", "stream consumer Fn has no IteratorAge alarm"),
}


@pytest.fixture(scope="module")
def lint_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """cfn-lint's findings for the compliant template ("compliant") and each case, from one cfn-lint run
    (it starts in seconds, so one run for all instead of one per case)."""
    variants = {"compliant": _template(), **{case: _template(**change) for case, (change, _, _) in CASES.items()}}
    paths = {}
    for case, text in variants.items():
        folder = tmp_path_factory.mktemp(case)
        (folder / "src").mkdir()
        paths[case] = folder / "template.yaml"
        paths[case].write_text(textwrap.dedent(text))
    cfn_lint = str(Path(sys.executable).with_name("cfn-lint"))
    # run from the project root so .cfnlintrc (and with it lint/rules) applies, as in `make lint`
    result = subprocess.run(
        [cfn_lint, *map(str, paths.values())], cwd=ROOT, capture_output=True, text=True, check=False
    )
    # each finding is a block "RULE message\n<path>:line:column", blocks apart by a blank line
    blocks = (result.stdout + result.stderr).split("\n\n")
    return {case: "\n\n".join(b for b in blocks if f"{path}:" in b) for case, path in paths.items()}


def test_a_compliant_template_passes(lint_output):
    assert "E91" not in lint_output["compliant"]


@pytest.mark.parametrize("case", list(CASES))
def test_each_rule_fails_the_template_that_breaks_it(lint_output, case):
    _, rule, words = CASES[case]
    assert rule in lint_output[case]
    assert words in lint_output[case]
