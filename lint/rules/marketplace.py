"""cfn-lint rules of this project (the AWS serverless e-commerce sample's lessons), run by `cfn-lint`
through .cfnlintrc, so `make lint`, `make test` and CI all fail on a template that breaks them.

cfn-lint hands custom rules the template as written (SAM resources untransformed), so each rule checks
both forms: SAM functions with their DynamoDB/Kinesis/SQS events and Globals, and the plain
AWS::Lambda::EventSourceMapping / AWS::Lambda::Function resources they become.
"""

from __future__ import annotations

from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch

STREAM_EVENT_TYPES = ("DynamoDB", "Kinesis")


def _refers_to(value: Any) -> str | None:
    """The logical id a Ref / Fn::GetAtt points at, if any."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else str(target).split(".", 1)[0])
    return None


class EventSourceMappingHasFailureDestination(CloudFormationLintRule):  # type: ignore[misc]
    """Records that keep failing must land somewhere a person can look, never vanish."""

    id = "E9101"
    shortdesc = "Event source mappings keep what they cannot process"
    description = (
        "A stream event source mapping needs DestinationConfig.OnFailure; a queue event source needs its "
        "queue to have a RedrivePolicy (dead-letter queue)."
    )
    source_url = "https://github.com/aws-samples/aws-serverless-ecommerce-platform"
    tags: ClassVar[list[str]] = ["lambda", "marketplace"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        resources = cfn.template.get("Resources", {})
        sources: list[tuple[list[str], str, dict[str, Any], str]] = []  # path, name, properties, kind
        for name, mapping in cfn.get_resources(["AWS::Lambda::EventSourceMapping"]).items():
            properties = mapping.get("Properties", {})
            source_id = _refers_to(properties.get("EventSourceArn"))
            kind = "SQS" if resources.get(source_id, {}).get("Type") == "AWS::SQS::Queue" else "stream"
            sources.append((["Resources", name, "Properties"], name, properties, kind))
        for name, function in cfn.get_resources(["AWS::Serverless::Function"]).items():
            for event_name, event in function.get("Properties", {}).get("Events", {}).items():
                event_kind = {"SQS": "SQS", "DynamoDB": "stream", "Kinesis": "stream"}.get(event.get("Type"))
                if event_kind:
                    path = ["Resources", name, "Properties", "Events", event_name, "Properties"]
                    sources.append((path, f"{name}.{event_name}", event.get("Properties", {}), event_kind))
        matches = []
        for path, name, properties, kind in sources:
            if kind == "SQS":
                queue_id = _refers_to(properties.get("Queue") or properties.get("EventSourceArn"))
                queue = resources.get(queue_id, {}) if queue_id else {}
                if queue and "RedrivePolicy" not in queue.get("Properties", {}):
                    matches.append(RuleMatch(path, f"{name} reads queue {queue_id}, which has no RedrivePolicy"))
            elif not properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"):
                matches.append(RuleMatch(
                    path, f"{name} has no DestinationConfig.OnFailure: failed stream records would be lost"
                ))
        return matches


class FunctionHasLogRetention(CloudFormationLintRule):  # type: ignore[misc]
    """Logs kept forever cost money and hold personal data longer than needed."""

    id = "E9102"
    shortdesc = "Functions log to a group with a retention period"
    description = (
        "Each function sets LoggingConfig.LogGroup to an AWS::Logs::LogGroup of the template that has "
        "RetentionInDays."
    )
    source_url = "https://github.com/aws-samples/aws-serverless-ecommerce-platform"
    tags: ClassVar[list[str]] = ["lambda", "logs", "marketplace"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches = []
        resources = cfn.template.get("Resources", {})
        global_logging = cfn.template.get("Globals", {}).get("Function", {}).get("LoggingConfig", {})
        functions = cfn.get_resources(["AWS::Lambda::Function", "AWS::Serverless::Function"])
        for name, function in functions.items():
            logging_config = function.get("Properties", {}).get("LoggingConfig", {})
            if function["Type"] == "AWS::Serverless::Function":
                logging_config = {**global_logging, **logging_config}
            group_id = _refers_to(logging_config.get("LogGroup"))
            group = resources.get(group_id, {}) if group_id else {}
            if group.get("Type") != "AWS::Logs::LogGroup":
                matches.append(RuleMatch(
                    ["Resources", name, "Properties"],
                    f"{name} has no LoggingConfig.LogGroup pointing at a log group of this template",
                ))
            elif "RetentionInDays" not in group.get("Properties", {}):
                matches.append(RuleMatch(
                    ["Resources", str(group_id), "Properties"], f"log group {group_id} of {name} has no RetentionInDays"
                ))
        return matches


# SAM event types whose service invokes the function asynchronously (InvocationType Event): after Lambda's
# two retries the event is dropped unless the function has a dead-letter queue or an on-failure destination.
ASYNC_EVENT_TYPES = ("S3", "SNS", "Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent", "CloudWatchLogs",
                     "IoTRule", "Cognito", "SES")  # fmt: skip
# SAM event types that become an EventBridge rule target, which drops an event it cannot deliver unless the
# target has its own DeadLetterConfig.
RULE_EVENT_TYPES = ("Schedule", "EventBridgeRule", "CloudWatchEvent")
# Principals of AWS::Lambda::Permission that invoke a plain function asynchronously.
ASYNC_PRINCIPALS = ("s3.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com", "logs.amazonaws.com",
                    "iot.amazonaws.com", "ses.amazonaws.com")  # fmt: skip


def _has_failure_target(function_properties: dict[str, Any]) -> bool:
    """A SAM function's DeadLetterQueue, or an on-failure destination in its EventInvokeConfig."""
    if function_properties.get("DeadLetterQueue", {}).get("TargetArn"):
        return True
    on_failure = function_properties.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {})
    return bool(on_failure.get("Destination") or on_failure.get("Type"))


class AsyncDeliveriesKeepFailures(CloudFormationLintRule):  # type: ignore[misc]
    """An event delivered asynchronously that fails for good must land in a queue, never vanish."""

    id = "E9103"
    shortdesc = "Asynchronous invocations and rule targets keep what they cannot deliver"
    description = (
        "A function invoked asynchronously (S3, SNS, schedules, EventBridge rules, ...) needs a DeadLetterQueue or "
        "an EventInvokeConfig OnFailure destination; every EventBridge rule target (and SAM Schedule/EventBridgeRule "
        "event) needs a DeadLetterConfig."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html"
    tags: ClassVar[list[str]] = ["lambda", "events", "marketplace"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches = []
        global_function = cfn.template.get("Globals", {}).get("Function", {})
        for name, function in cfn.get_resources(["AWS::Serverless::Function"]).items():
            properties = function.get("Properties", {})
            events = properties.get("Events", {})
            async_events = sorted(key for key, event in events.items() if event.get("Type") in ASYNC_EVENT_TYPES)
            if async_events and not _has_failure_target({**global_function, **properties}):
                matches.append(RuleMatch(
                    ["Resources", name, "Properties"],
                    f"{name} is invoked asynchronously ({', '.join(async_events)}) and has no DeadLetterQueue or "
                    "EventInvokeConfig OnFailure destination: events that fail its retries would be lost",
                ))
            for event_name, event in events.items():
                if event.get("Type") in RULE_EVENT_TYPES and "DeadLetterConfig" not in event.get("Properties", {}):
                    matches.append(RuleMatch(
                        ["Resources", name, "Properties", "Events", event_name, "Properties"],
                        f"{name}.{event_name} is an EventBridge rule target without a DeadLetterConfig",
                    ))
        matches += self._plain_functions(cfn)
        for name, rule in cfn.get_resources(["AWS::Events::Rule"]).items():
            for index, target in enumerate(rule.get("Properties", {}).get("Targets", [])):
                if not isinstance(target, dict) or not target.get("DeadLetterConfig", {}).get("Arn"):
                    matches.append(RuleMatch(
                        ["Resources", name, "Properties", "Targets", index],
                        f"rule {name}'s target {index} has no DeadLetterConfig: undeliverable events would be lost",
                    ))
        return matches

    @staticmethod
    def _plain_functions(cfn: Any) -> list[RuleMatch]:
        """AWS::Lambda::Function resources that a service may invoke asynchronously (a Permission for it)."""
        invoked = {}
        for permission in cfn.get_resources(["AWS::Lambda::Permission"]).values():
            properties = permission.get("Properties", {})
            if properties.get("Principal") in ASYNC_PRINCIPALS:
                target = _refers_to(properties.get("FunctionName"))
                if target:
                    invoked[target] = str(properties["Principal"])
        configured = {
            _refers_to(config.get("Properties", {}).get("FunctionName"))
            for config in cfn.get_resources(["AWS::Lambda::EventInvokeConfig"]).values()
            if config.get("Properties", {}).get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        }
        matches = []
        for name, function in cfn.get_resources(["AWS::Lambda::Function"]).items():
            has_dlq = function.get("Properties", {}).get("DeadLetterConfig", {}).get("TargetArn")
            if name in invoked and not has_dlq and name not in configured:
                matches.append(RuleMatch(
                    ["Resources", name, "Properties"],
                    f"{name} is invoked asynchronously ({invoked[name]}) and has no DeadLetterConfig or "
                    "EventInvokeConfig OnFailure destination: events that fail its retries would be lost",
                ))
        return matches


def _dead_letter_queues(cfn: Any) -> dict[str, list[str]]:
    """Every queue of the template that receives failures, with the resources that send them there."""
    found: dict[str, list[str]] = {}

    def add(value: Any, sender: str) -> None:
        queue_id = _refers_to(value)
        if queue_id and cfn.template.get("Resources", {}).get(queue_id, {}).get("Type") == "AWS::SQS::Queue":
            found.setdefault(queue_id, []).append(sender)

    for name, queue in cfn.get_resources(["AWS::SQS::Queue"]).items():
        add(queue.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn"), name)
    for name, resource in cfn.get_resources(["AWS::Serverless::Function", "AWS::Lambda::Function"]).items():
        properties = resource.get("Properties", {})
        add(properties.get("DeadLetterQueue", {}).get("TargetArn"), name)
        add(properties.get("DeadLetterConfig", {}).get("TargetArn"), name)
        add(properties.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {})
            .get("Destination"), name)  # fmt: skip
        for event_name, event in properties.get("Events", {}).items():
            event_properties = event.get("Properties", {})
            add(event_properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
                f"{name}.{event_name}")  # fmt: skip
            add(event_properties.get("DeadLetterConfig", {}).get("Arn"), f"{name}.{event_name}")
    for name, resource in cfn.get_resources(
        ["AWS::Lambda::EventSourceMapping", "AWS::Lambda::EventInvokeConfig"]
    ).items():
        add(resource.get("Properties", {}).get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"), name)
    for name, rule in cfn.get_resources(["AWS::Events::Rule"]).items():
        for target in rule.get("Properties", {}).get("Targets", []):
            if isinstance(target, dict):
                add(target.get("DeadLetterConfig", {}).get("Arn"), name)
    return found


def _alarmed_queues(cfn: Any) -> set[str]:
    """Queues with an alarm on their visible messages that notifies someone (a metric or a metric math input)."""
    alarmed = set()
    for alarm in cfn.get_resources(["AWS::CloudWatch::Alarm"]).values():
        properties = alarm.get("Properties", {})
        if not properties.get("AlarmActions"):
            continue
        metrics = [properties] + [
            entry.get("MetricStat", {}).get("Metric", {}) for entry in properties.get("Metrics", []) or []
            if isinstance(entry, dict)
        ]
        for metric in metrics:
            if (metric.get("Namespace"), metric.get("MetricName")) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible"):
                for dimension in metric.get("Dimensions", []) or []:
                    if isinstance(dimension, dict) and dimension.get("Name") == "QueueName":
                        queue_id = _refers_to(dimension.get("Value"))
                        if queue_id:
                            alarmed.add(queue_id)
    return alarmed


class DeadLetterQueuesHaveAlarms(CloudFormationLintRule):  # type: ignore[misc]
    """A dead-letter queue nobody watches is a slower way to lose the message."""

    id = "E9104"
    shortdesc = "Every dead-letter or failure queue has a depth alarm"
    description = (
        "Each queue that receives failures (a RedrivePolicy target, an on-failure destination, a function's dead-"
        "letter queue, a rule target's DeadLetterConfig) has an AWS::CloudWatch::Alarm with AlarmActions on its "
        "AWS/SQS ApproximateNumberOfMessagesVisible (dimension QueueName)."
    )
    source_url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html"
    tags: ClassVar[list[str]] = ["sqs", "cloudwatch", "marketplace"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        alarmed = _alarmed_queues(cfn)
        return [
            RuleMatch(["Resources", queue_id], f"dead-letter queue {queue_id} (for {', '.join(sorted(set(senders)))}) "
                      "has no alarm on ApproximateNumberOfMessagesVisible with AlarmActions")
            for queue_id, senders in sorted(_dead_letter_queues(cfn).items())
            if queue_id not in alarmed
        ]


class StreamConsumersHaveIteratorAgeAlarms(CloudFormationLintRule):  # type: ignore[misc]
    """A stream consumer that stops keeping up loses records once they age out of the stream (24 hours)."""

    id = "E9105"
    shortdesc = "Every stream consumer has an IteratorAge alarm"
    description = (
        "Each function with a DynamoDB or Kinesis stream event (or event source mapping) has an "
        "AWS::CloudWatch::Alarm with AlarmActions on AWS/Lambda IteratorAge for its FunctionName."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html"
    tags: ClassVar[list[str]] = ["lambda", "cloudwatch", "marketplace"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        resources = cfn.template.get("Resources", {})
        consumers = set()
        for name, function in cfn.get_resources(["AWS::Serverless::Function"]).items():
            events = function.get("Properties", {}).get("Events", {}).values()
            if any(event.get("Type") in STREAM_EVENT_TYPES for event in events):
                consumers.add(name)
        for mapping in cfn.get_resources(["AWS::Lambda::EventSourceMapping"]).values():
            properties = mapping.get("Properties", {})
            source = resources.get(_refers_to(properties.get("EventSourceArn")), {})
            if source.get("Type") != "AWS::SQS::Queue":
                consumers.add(str(_refers_to(properties.get("FunctionName"))))
        alarmed = set()
        for alarm in cfn.get_resources(["AWS::CloudWatch::Alarm"]).values():
            properties = alarm.get("Properties", {})
            if properties.get("AlarmActions") and properties.get("MetricName") == "IteratorAge":
                alarmed |= {_refers_to(d.get("Value")) for d in properties.get("Dimensions", []) or []
                            if isinstance(d, dict) and d.get("Name") == "FunctionName"}  # fmt: skip
        return [
            RuleMatch(["Resources", name], f"stream consumer {name} has no IteratorAge alarm with AlarmActions")
            for name in sorted(consumers - alarmed)
        ]
