"""EventBridge event patterns: validation and matching, following AWS's documented semantics.

Why our own matcher rather than moto's (moto/events/models.py EventPattern, 5.2.5): moto flattens only
nested objects, so it never looks inside arrays of objects (`{"detail": {"lines": {"sku": [...]}}}` does
not match `"lines": [{"sku": ...}]`); its exact match compares 5 and 5.0 as different values and lets
True match 1; `anything-but` with `equals-ignore-case` or `wildcard` and `exists` on an object node
behave differently from AWS; and it accepts misspelt operators silently (they match everything). The
rules of a template decide what every function receives, so the decision is made here, in one module
with a test per operator, and moto only carries the events (see infra/events/bus.py).

Semantics (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html):
- every key of a pattern object must match (AND); a list of values matches if any value matches (OR);
- an event array matches if any of its elements matches; arrays of objects are flattened, so nested
  patterns look at the union of the elements' fields (as AWS does);
- a missing field matches only `{"exists": false}`; `exists` looks at leaf values only;
- `null` and `""` are values like any other and match only themselves;
- `$or` takes a list of patterns, any of which may match, alongside the object's other keys.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

_STRING_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard")
_OPERATORS = {*_STRING_OPERATORS, "anything-but", "numeric", "exists", "cidr"}
_NUMERIC = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
}


class PatternError(ValueError):
    """An event pattern EventBridge would reject (InvalidEventPatternException)."""


def load(pattern: str | Mapping[str, Any]) -> dict[str, Any]:
    """Parse (if text) and validate a pattern, as PutRule would."""
    parsed = json.loads(pattern) if isinstance(pattern, str) else dict(pattern)
    if not isinstance(parsed, dict) or not parsed:
        raise PatternError("an event pattern is a non-empty JSON object")
    _validate_object(parsed, "")
    return parsed


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether `event` (the envelope: source, detail-type, detail, ...) matches `pattern`."""
    return _match_object(pattern, [event])


def load_filters(properties: Mapping[str, Any], owner: str) -> list[dict[str, Any]]:
    """An event source mapping's FilterCriteria.Filters[].Pattern, each loaded (Lambda's filter grammar is
    EventBridge's). A pattern AWS would refuse at CreateEventSourceMapping raises PatternError naming
    `owner`, so the local cloud refuses to start as the deploy would fail."""
    filters = (properties.get("FilterCriteria") or {}).get("Filters") or []
    loaded = []
    for item in filters:
        raw = item.get("Pattern")
        if not raw:
            continue
        try:
            loaded.append(load(raw))
        except ValueError as error:  # PatternError, or text that is not JSON
            raise PatternError(f"{owner}: FilterCriteria pattern {raw!r} is not valid: {error}") from None
    return loaded


def matches_any(filters: list[dict[str, Any]], record: Mapping[str, Any]) -> bool:
    """A record passes an event source mapping's filters when there are none or any of them matches."""
    return not filters or any(_match_object(pattern, [record]) for pattern in filters)


# ------------------------------------------------------------------------------------------ validation


def _validate_object(pattern: Mapping[str, Any], path: str) -> None:
    for key, value in pattern.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(p, dict) for p in value):
                raise PatternError(f"{where}: $or takes a list of at least two pattern objects")
            for branch in value:
                _validate_object(branch, path)
        elif isinstance(value, dict):
            _validate_object(value, where)
        elif isinstance(value, list):
            if not value:
                raise PatternError(f"{where}: empty arrays are not allowed")
            for item in value:
                if isinstance(item, dict):
                    _validate_filter(item, where)
                elif isinstance(item, list):
                    raise PatternError(f"{where}: arrays of arrays are not allowed")
        else:
            raise PatternError(f"{where}: must be an object or an array")


def _validate_filter(item: Mapping[str, Any], where: str) -> None:
    if len(item) != 1:
        raise PatternError(f"{where}: a filter object has exactly one operator, got {sorted(item)}")
    operator, argument = next(iter(item.items()))
    if operator not in _OPERATORS:
        raise PatternError(f"{where}: unknown operator {operator!r}")
    if operator == "exists" and not isinstance(argument, bool):
        raise PatternError(f"{where}: exists takes true or false")
    if operator == "numeric":
        if not isinstance(argument, list) or not argument or len(argument) % 2:
            raise PatternError(f"{where}: numeric takes operator/value pairs")
        for op, number in zip(argument[::2], argument[1::2], strict=True):
            if op not in _NUMERIC or not _is_number(number):
                raise PatternError(f"{where}: numeric pair {op!r} {number!r} is not valid")
    if operator == "cidr":
        try:
            ipaddress.ip_network(str(argument), strict=False)
        except ValueError as error:
            raise PatternError(f"{where}: cidr {argument!r}: {error}") from None
    if (
        operator == "anything-but"
        and isinstance(argument, dict)
        and (len(argument) != 1 or next(iter(argument)) not in _STRING_OPERATORS)
    ):
        raise PatternError(f"{where}: anything-but takes a value, a list, or one of {_STRING_OPERATORS}")


# ------------------------------------------------------------------------------------------ matching


def _flatten(values: Iterable[Any]) -> list[Any]:
    """Arrays in events are sets of values: [[1, 2], 3] -> [1, 2, 3]."""
    flat: list[Any] = []
    for value in values:
        if isinstance(value, list):
            flat.extend(_flatten(value))
        else:
            flat.append(value)
    return flat


def _match_object(pattern: Mapping[str, Any], nodes: list[Any]) -> bool:
    for key, expected in pattern.items():
        if key == "$or":
            if not any(_match_object(branch, nodes) for branch in expected):
                return False
            continue
        children = _flatten(node[key] for node in nodes if isinstance(node, dict) and key in node)
        if isinstance(expected, dict):
            if not _match_object(expected, [child for child in children if isinstance(child, dict)]):
                return False
        elif not _match_leaf(expected, [child for child in children if not isinstance(child, dict)]):
            return False
    return True


def _match_leaf(filters: list[Any], values: list[Any]) -> bool:
    for item in filters:
        if isinstance(item, dict) and "exists" in item:
            if bool(values) == item["exists"]:
                return True
        elif any(_match_value(item, value) for value in values):
            return True
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(expected: Any, value: Any) -> bool:
    if _is_number(expected):
        return _is_number(value) and float(expected) == float(value)
    if isinstance(expected, bool) or expected is None:
        return value is expected
    return isinstance(value, str) and value == expected


def _match_value(item: Any, value: Any) -> bool:  # noqa: PLR0911 - one return per operator reads best
    if not isinstance(item, dict):
        return _equal(item, value)
    operator, argument = next(iter(item.items()))
    if operator == "numeric":
        return _is_number(value) and all(
            _NUMERIC[op](float(value), float(number)) for op, number in zip(argument[::2], argument[1::2], strict=True)
        )
    if operator == "anything-but":
        if isinstance(argument, dict):
            return isinstance(value, str) and not _string_operator(*next(iter(argument.items())), value)
        excluded = argument if isinstance(argument, list) else [argument]
        return not any(_equal(other, value) for other in excluded)
    if operator == "cidr":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(str(argument), strict=False)
        except (TypeError, ValueError):
            return False
    return isinstance(value, str) and _string_operator(operator, argument, value)


def _string_operator(operator: str, argument: Any, value: str) -> bool:
    """prefix / suffix / equals-ignore-case / wildcard; the argument may be a list (any of)."""
    if isinstance(argument, list):
        return any(_string_operator(operator, one, value) for one in argument)
    if isinstance(argument, dict):  # {"prefix": {"equals-ignore-case": "x"}}
        inner = str(argument.get("equals-ignore-case", ""))
        value, argument = value.lower(), inner.lower()
    text = str(argument)
    if operator == "prefix":
        return value.startswith(text)
    if operator == "suffix":
        return value.endswith(text)
    if operator == "equals-ignore-case":
        return value.casefold() == text.casefold()
    if operator == "wildcard":
        return _wildcard(text).fullmatch(value) is not None
    return False


_WILDCARDS: dict[str, re.Pattern[str]] = {}


def _wildcard(text: str) -> re.Pattern[str]:
    compiled = _WILDCARDS.get(text)
    if compiled is None:
        # `*` is any run of characters; `\*` and `\\` are a literal star and backslash.
        parts = re.split(r"(\\\*|\\\\|\*)", text)
        regex = "".join(
            ".*" if part == "*" else re.escape(part[1:] if part in ("\\*", "\\\\") else part) for part in parts
        )
        compiled = _WILDCARDS[text] = re.compile(regex, re.DOTALL)
    return compiled
