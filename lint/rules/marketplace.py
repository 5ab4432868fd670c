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
