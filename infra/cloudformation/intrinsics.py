"""CloudFormation intrinsic functions and conditions, resolved against the local stack.

We evaluate intrinsics ourselves because no library does it offline: cfn-lint only checks them and the SAM
translator resolves just a few. The rules follow the CloudFormation reference: Ref, Fn::GetAtt, Fn::Sub,
Fn::Join, Fn::If (with AWS::NoValue removing the key or element), Fn::Select, Fn::Split, Fn::FindInMap,
Fn::Base64, Fn::GetAZs and the condition functions.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any

NO_VALUE: Any = object()  # AWS::NoValue: the key or list element disappears

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class IntrinsicError(Exception):
    pass


def text(value: Any) -> str:
    """A scalar as CloudFormation turns it into a string: YAML's `yes`/`on`/`true` arrive as JSON true, which
    a string property (an environment variable, a Sub) receives as "true", not Python's "True"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Resolver:
    """Resolves intrinsic expressions.

    `ref` and `get_att` answer for resources (the provisioner supplies them as resources come into
    existence); parameters and pseudo parameters are plain values.
    """

    def __init__(
        self,
        *,
        parameters: Mapping[str, Any],
        conditions: Mapping[str, Any],
        mappings: Mapping[str, Any],
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
        region: str,
    ) -> None:
        self._parameters = parameters
        self._condition_definitions = conditions
        self._condition_values: dict[str, bool] = {}
        self._mappings = mappings
        self._ref = ref
        self._get_att = get_att
        self._region = region

    # -- conditions -------------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            if name not in self._condition_definitions:
                raise IntrinsicError(f"unknown condition {name!r}")
            self._condition_values[name] = self._evaluate_condition(self._condition_definitions[name])
        return self._condition_values[name]

    def _evaluate_condition(self, expression: Any) -> bool:
        if isinstance(expression, dict) and len(expression) == 1:
            ((function, argument),) = expression.items()
            if function == "Condition":
                return self.condition(argument)
            if function == "Fn::Equals":
                left, right = (self.resolve(value) for value in argument)
                return text(left) == text(right)
            if function == "Fn::Not":
                return not self._evaluate_condition(argument[0])
            if function == "Fn::And":
                return all(self._evaluate_condition(item) for item in argument)
            if function == "Fn::Or":
                return any(self._evaluate_condition(item) for item in argument)
        raise IntrinsicError(f"not a condition expression: {expression!r}")

    # -- values -----------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._function(key, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _function(self, name: str, argument: Any) -> Any:  # noqa: PLR0911
        if name == "Ref":
            return self._resolve_ref(argument)
        if name == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return self._get_att(logical_id, self.resolve(attribute))
        if name == "Fn::Sub":
            return self._sub(argument)
        if name == "Fn::Join":
            delimiter, items = argument
            return str(delimiter).join(text(item) for item in self.resolve(items))
        if name == "Fn::If":
            condition_name, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition_name) else when_false)
        if name == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Fn::Split":
            delimiter, source = argument
            return text(self.resolve(source)).split(delimiter)
        if name == "Fn::FindInMap":
            map_name, top_key, second_key = (self.resolve(item) for item in argument[:3])
            return self._mappings[map_name][top_key][second_key]
        if name == "Fn::Base64":
            return base64.b64encode(text(self.resolve(argument)).encode()).decode()
        if name == "Fn::GetAZs":
            return [f"{self._region}{zone}" for zone in "abc"]
        if name in {"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"}:
            return self._evaluate_condition({name: argument})
        if name == "Fn::ToJsonString":
            import json

            return json.dumps(self.resolve(argument), separators=(",", ":"))
        raise IntrinsicError(f"{name} is not supported by the local cloud")

    def _resolve_ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._parameters:
            return self._parameters[name]
        return self._ref(name)

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            source, variables = argument[0], {key: self.resolve(val) for key, val in argument[1].items()}
        else:
            source, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1).strip()
            if expression in variables:
                return text(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                logical_id, attribute = expression.split(".", 1)
                return text(self._get_att(logical_id, attribute))
            return text(self._resolve_ref(expression))

        # ${!Literal} is CloudFormation's escape for a literal ${Literal}
        return _SUB_VARIABLE.sub(replace, source).replace("${!", "${")


def references(value: Any) -> set[str]:
    """Logical ids a value refers to (Ref, Fn::GetAtt, Fn::Sub variables): used to order creation."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item.split(".", 1)[0] if isinstance(item, str) else item[0])
            elif key == "Fn::Sub":
                source = item[0] if isinstance(item, list) else item
                for variable in _SUB_VARIABLE.findall(source):
                    found.add(variable.split(".", 1)[0])
                if isinstance(item, list):
                    found |= references(item[1])
            else:
                found |= references(item)
    return found
