"""What a rule's target receives: the event, Input, InputPath or InputTransformer, applied as AWS does.

Written here because neither boto3 nor moto exposes it as a library (moto's EventTemplateParser quotes
every value and knows none of the predefined variables). The rules
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html):
- Input: the constant text, sent as is. InputPath: the JSONPath's value, as JSON.
- InputTransformer: InputPathsMap names JSONPaths into the event; `<name>` in InputTemplate is replaced
  by that value. Inside a JSON string ("...<name>...") the value's text is inserted (escaped, no extra
  quotes); outside a string the value is inserted as JSON (strings quoted, objects as objects). A path
  that does not exist gives null outside strings and nothing inside them. Predefined names:
  <aws.events.rule-arn>, <aws.events.rule-name>, <aws.events.event.ingestion-time>, and
  <aws.events.event> / <aws.events.event.json> (the whole original event, as JSON).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

_MISSING = object()
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


class InputError(ValueError):
    pass


def json_path(document: Any, path: str) -> Any:
    """The value at a simple JSONPath ($, $.a.b, $.a[0], $['a-b']), or _MISSING."""
    if not path.startswith("$"):
        raise InputError(f"not a JSONPath: {path!r}")
    node, position = document, 1
    while position < len(path):
        token = _PATH_TOKEN.match(path, position)
        if token is None:
            raise InputError(f"unsupported JSONPath: {path!r}")
        position = token.end()
        key, index, quoted, double = token.groups()
        if index is not None:
            if not isinstance(node, list) or int(index) >= len(node):
                return _MISSING
            node = node[int(index)]
        else:
            name = key if key is not None else quoted if quoted is not None else double
            if not isinstance(node, dict) or name not in node:
                return _MISSING
            node = node[name]
    return node


def target_input(target: Mapping[str, Any], event: Mapping[str, Any], rule_name: str, rule_arn: str) -> str:
    """The text a target receives for `event`."""
    if "Input" in target:
        return str(target["Input"])
    if "InputPath" in target:
        value = json_path(event, str(target["InputPath"]))
        return json.dumps(None if value is _MISSING else value)
    transformer = target.get("InputTransformer")
    if transformer:
        return transform(transformer, event, rule_name, rule_arn)
    return json.dumps(event)


def transform(transformer: Mapping[str, Any], event: Mapping[str, Any], rule_name: str, rule_arn: str) -> str:
    values: dict[str, Any] = {
        name: json_path(event, str(path)) for name, path in (transformer.get("InputPathsMap") or {}).items()
    }
    values.setdefault("aws.events.rule-arn", rule_arn)
    values.setdefault("aws.events.rule-name", rule_name)
    values.setdefault("aws.events.event.ingestion-time", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    values.setdefault("aws.events.event", dict(event))
    values.setdefault("aws.events.event.json", dict(event))
    template = str(transformer.get("InputTemplate", ""))
    return _substitute(template, values)


def _substitute(template: str, values: Mapping[str, Any]) -> str:
    output: list[str] = []
    in_string = False
    position = 0
    while position < len(template):
        char = template[position]
        if char == "<":
            placeholder = _PLACEHOLDER.match(template, position)
            if placeholder and placeholder.group(1) in values:
                output.append(_render(values[placeholder.group(1)], in_string))
                position = placeholder.end()
                continue
        if char == "\\" and in_string and position + 1 < len(template):
            output.append(template[position : position + 2])
            position += 2
            continue
        if char == '"':
            in_string = not in_string
        output.append(char)
        position += 1
    return "".join(output)


def _render(value: Any, in_string: bool) -> str:
    if in_string:
        if value is _MISSING:
            return ""
        text = value if isinstance(value, str) else json.dumps(value)
        return json.dumps(text)[1:-1]
    return json.dumps(None if value is _MISSING else value)
