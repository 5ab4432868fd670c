"""Reading template.yaml the way `sam deploy` does: SAM's own translator turns it into CloudFormation.

Nothing here interprets AWS::Serverless::* resources by hand. We only make the translation work offline:
local CodeUri/ContentUri folders become `s3://local/<path>` placeholders (mapped back when code is
loaded), a state machine's DefinitionUri file is inlined as Definition, and the managed-policy loader
answers {} (no IAM is reachable, and nothing local enforces IAM).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import yaml
from cfnlint.decode import decode

from infra.core.aws import ACCOUNT_ID, REGION

LOCAL_CODE_BUCKET = "local"
_CODE_PROPERTIES = ("CodeUri", "ContentUri")


class TemplateError(Exception):
    """The template cannot be read or translated; the message says where."""


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def load_template(path: Path) -> dict[str, Any]:
    """Parse YAML/JSON with CloudFormation short-form tags (!Ref, !Sub, ...) as cfn-lint does."""
    template, matches = decode(str(path))
    if matches or template is None:
        raise TemplateError("; ".join(str(m) for m in matches) or f"cannot read {path}")
    return dict(template)


def _placeholder(local_path: str) -> str:
    return f"s3://{LOCAL_CODE_BUCKET}/{local_path.strip('/')}"


def _localise_code(properties: dict[str, Any], root: Path) -> None:
    for key in _CODE_PROPERTIES:
        value = properties.get(key)
        if isinstance(value, str) and not value.startswith("s3://"):
            if not (root / value).is_dir():
                raise TemplateError(f"{key} {value!r} is not a folder under {root}")
            properties[key] = _placeholder(value)


def _inline_definition(properties: dict[str, Any], root: Path) -> None:
    uri = properties.get("DefinitionUri")
    if isinstance(uri, str) and not uri.startswith("s3://"):
        text = (root / uri).read_text()
        properties["Definition"] = json.loads(text) if uri.endswith(".json") else yaml.safe_load(text)
        del properties["DefinitionUri"]


def translate(template: dict[str, Any], root: Path, parameter_values: dict[str, Any]) -> dict[str, Any]:
    """Return the CloudFormation template that `sam deploy` would submit for this SAM template."""
    # The translator only imports cleanly with a region configured; it reads it at call time.
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    prepared = copy.deepcopy(template)
    globals_function = prepared.get("Globals", {}).get("Function", {})
    _localise_code(globals_function, root)
    for resource in prepared.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        if resource.get("Type", "").startswith("AWS::Serverless::"):
            _localise_code(properties, root)
        if resource.get("Type") == "AWS::Serverless::StateMachine":
            _inline_definition(properties, root)

    values = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, **parameter_values}
    try:
        return dict(transform(prepared, values, _NoManagedPolicies()))
    except InvalidDocumentException as error:
        causes = "; ".join(str(cause) for cause in error.causes)
        raise TemplateError(f"SAM translation failed: {causes}") from error


def local_code_path(location: Any, root: Path) -> Path | None:
    """Map a translated Code/Content location ({S3Bucket: local, S3Key: path}) back to its folder."""
    if isinstance(location, dict) and location.get("S3Bucket") == LOCAL_CODE_BUCKET:
        return (root / str(location["S3Key"])).resolve()
    return None
