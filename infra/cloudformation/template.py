"""Reading template.yaml the way `sam deploy` does: SAM's own translator turns it into CloudFormation.

Nothing here interprets AWS::Serverless::* resources by hand. We only make the translation work offline:
local CodeUri/ContentUri folders become `s3://local/<path>` placeholders (mapped back when code is
loaded), a state machine's DefinitionUri file is inlined as Definition, and the managed-policy loader
answers {} (no IAM is reachable, and nothing local enforces IAM).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from infra.core.aws import ACCOUNT_ID, REGION

LOCAL_CODE_BUCKET = "local"
_CODE_PROPERTIES = ("CodeUri", "ContentUri")
_TRANSLATION_FORMAT = 2  # part of the cache key: 2 keeps layers' Metadata (their BuildMethod)


class TemplateError(Exception):
    """The template cannot be read or translated; the message says where."""


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


class _TemplateLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML as `sam build` / `sam deploy` read a template (sam-cli's and the AWS CLI's `yaml_parse`).

    That is PyYAML's safe loader, so YAML 1.1 scalars mean what they mean there (`yes`/`on` are true,
    `0755` is octal 493), except that timestamps stay the text they were written as: `Version: 2012-10-17`
    is the string a policy needs, not a date (which JSON, and so CloudFormation, cannot carry). Short-form
    intrinsics become their long form. A subclass, so yaml.SafeLoader is left as it was for everyone else
    (sam-cli registers its constructors on SafeLoader itself).
    """


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    """`!Ref x` -> {"Ref": x}, `!Sub s` -> {"Fn::Sub": s}, `!GetAtt a.b` -> {"Fn::GetAtt": [a, b]} (sam-cli's
    `intrinsics_multi_constructor`)."""
    name = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    value: Any
    if tag_suffix == "GetAtt" and isinstance(node, yaml.ScalarNode):
        value = str(node.value).split(".", 1)
    elif isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.constructor.SafeConstructor.construct_yaml_str)
_TemplateLoader.add_multi_constructor("!", _intrinsic)


def parse_template(text: str, source: str = "template") -> dict[str, Any]:
    """A template's text (JSON or YAML) as the AWS tools read it: JSON first, as they try it first."""
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a safe loader (see its class)
        except yaml.YAMLError as error:
            raise TemplateError(f"{source} is not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise TemplateError(f"{source} is not a template (a mapping of Resources, Parameters, ...)")
    return document


def load_template(path: Path) -> dict[str, Any]:
    """Read a template file (see parse_template)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TemplateError(f"cannot read {path}: {error}") from error
    return parse_template(text, str(path))


def transforms(template: Mapping[str, Any]) -> list[str]:
    """The template's Transform: a name or a list of names (each may also be {Name, Parameters})."""
    declared = template.get("Transform") or []
    names = declared if isinstance(declared, list) else [declared]
    return [str(name["Name"]) if isinstance(name, dict) else str(name) for name in names]


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
        result = dict(transform(prepared, values, _NoManagedPolicies()))
    except InvalidDocumentException as error:
        causes = "; ".join(str(cause) for cause in error.causes)
        raise TemplateError(f"SAM translation failed: {causes}") from error
    _keep_layer_metadata(template, result)
    return result


def _keep_layer_metadata(template: Mapping[str, Any], translated: dict[str, Any]) -> None:
    """SAM drops an AWS::Serverless::LayerVersion's Metadata (its BuildMethod, which `sam build` reads from the
    SAM template) when it names the AWS::Lambda::LayerVersion `<LogicalId><hash>`: copy it back there."""
    resources = translated.get("Resources", {})
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::LayerVersion" or not resource.get("Metadata"):
            continue
        for translated_name, translated_resource in resources.items():
            if translated_resource.get("Type") == "AWS::Lambda::LayerVersion" and (
                translated_name == name or (translated_name.startswith(name) and len(translated_name) == len(name) + 10)
            ):
                translated_resource.setdefault("Metadata", copy.deepcopy(resource["Metadata"]))


def local_code_path(location: Any, root: Path) -> Path | None:
    """Map a translated Code/Content location ({S3Bucket: local, S3Key: path}) back to its folder."""
    if isinstance(location, dict) and location.get("S3Bucket") == LOCAL_CODE_BUCKET:
        return (root / str(location["S3Key"])).resolve()
    return None


def translated(
    path: Path, overrides: Mapping[str, str], cache_dir: Path | None, *, runtime_only: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The template as read and as translated, from cache_dir when nothing it was made from changed.

    Reading and translating cost ~1.5 s of CPU (SAM's translator and its imports) on
    every start, for a result that only changes with the template, the files it inlines (state machine
    definitions), the parameters and the two libraries' versions: those are the cache key, checked on
    every read. `runtime_only` names parameters the cloud fills in at each start (the moto URL): SAM
    never resolves them (they reach resources as Refs that provisioning resolves), so the translation
    is made with their declared defaults and stays valid across starts.
    """
    from infra.cloudformation.provision import resolve_parameters

    source = path.read_bytes()
    stable = {key: value for key, value in overrides.items() if key not in runtime_only}
    versions = [metadata.version("aws-sam-translator"), metadata.version("PyYAML"), _TRANSLATION_FORMAT]
    key = hashlib.sha256(json.dumps([source.decode(errors="replace"), stable, versions], sort_keys=True).encode())
    entry_path = cache_dir / f"template-{key.hexdigest()[:24]}.json" if cache_dir else None
    if entry_path is not None and entry_path.exists():
        entry = json.loads(entry_path.read_text())
        if all(_digest(path.parent / name) == digest for name, digest in entry["inlined"].items()):
            return entry["template"], entry["translated"]
    template = load_template(path)
    result = translate(template, path.parent, resolve_parameters(template, stable))
    if entry_path is not None:
        inlined = {uri: _digest(path.parent / uri) for uri in _inlined_files(template)}
        entry_path.parent.mkdir(parents=True, exist_ok=True)
        partial = entry_path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps({"inlined": inlined, "template": template, "translated": result}))
        os.replace(partial, entry_path)
    return template, result


def _inlined_files(template: Mapping[str, Any]) -> list[str]:
    """The files translate() reads into the template: state machines' local DefinitionUri."""
    return [
        str(resource["Properties"]["DefinitionUri"])
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::Serverless::StateMachine"
        and isinstance((resource.get("Properties") or {}).get("DefinitionUri"), str)
        and not str(resource["Properties"]["DefinitionUri"]).startswith("s3://")
    ]


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""
