"""Templates load as `sam build` / `sam deploy` read them (sam-cli's yaml_parse): YAML 1.1 timestamps stay the
text written, other YAML 1.1 scalars are what PyYAML's safe loader makes of them and reach string properties as
CloudFormation writes them ("true", not "True"), short and long intrinsic forms are one, Transform may be a list."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.cloudformation.intrinsics import Resolver, text
from infra.cloudformation.template import TemplateError, load_template, parse_template, transforms, translate

TEMPLATES = Path(__file__).resolve().parents[3] / "fixtures" / "templates"
FIXTURE = TEMPLATES / "yaml_scalars.yaml"


def _environment(template: dict[str, Any]) -> dict[str, str]:
    """The fixture function's variables as the provisioner gives them to the function (intrinsics resolved)."""
    resolver = Resolver(
        parameters={"Stage": "dev"}, conditions=template["Conditions"], mappings=template["Mappings"],
        ref=lambda name: f"ref:{name}", get_att=lambda name, attribute: f"{name}.{attribute}", region="us-east-1",
    )  # fmt: skip
    function = next(res for res in template["Resources"].values() if res["Type"] == "AWS::Lambda::Function")
    variables = resolver.resolve(function["Properties"]["Environment"]["Variables"])
    return {key: text(value) for key, value in variables.items()}


def test_yaml_1_1_scalars_are_what_the_aws_tools_make_of_them():
    variables = load_template(FIXTURE)["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    assert variables["DATE"] == "2012-10-17"  # a timestamp stays its text
    assert variables["TIMESTAMP"] == "2001-12-14t21:59:43.10-05:00"
    assert variables["YES_VALUE"] is True
    assert variables["OFF_VALUE"] is False
    assert variables["OCTAL"] == 0o755
    assert variables["SEXAGESIMAL"] == 90
    assert variables["FLOAT"] == "1e3"  # YAML 1.1 floats need a dot


def test_short_and_long_intrinsic_forms_are_the_long_form():
    template = load_template(FIXTURE)
    variables = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    assert variables["SHORT_REF"] == {"Ref": "Queue"}
    assert variables["SHORT_GETATT"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert variables["SHORT_GETATT_LIST"] == {"Fn::GetAtt": ["Queue", "QueueName"]}
    assert variables["LONG_GETATT"] == {"Fn::GetAtt": "Queue.Arn"}
    assert variables["SHORT_IF"] == {"Fn::If": ["IsProd", "live", {"Fn::Join": ["-", ["test", {"Ref": "Stage"}]]}]}
    assert variables["NESTED"] == {"Fn::Select": [1, {"Fn::Split": [",", {"Fn::Sub": "a,${Stage},c"}]}]}
    assert template["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


def test_the_translated_template_is_json_and_its_values_are_cloudformation_strings():
    template = load_template(FIXTURE)
    assert transforms(template) == ["AWS::Serverless-2016-10-31"]
    translated = translate(template, TEMPLATES, {"Stage": "dev"})
    json.dumps(translated)  # a date would not serialize (the issue: "Object of type date is not JSON serializable")
    role = next(res for res in translated["Resources"].values() if res["Type"] == "AWS::IAM::Role")
    assert role["Properties"]["Policies"][0]["PolicyDocument"]["Version"] == "2012-10-17"
    assert _environment(translated) == {
        "DATE": "2012-10-17", "TIMESTAMP": "2001-12-14t21:59:43.10-05:00", "YES_VALUE": "true", "OFF_VALUE": "false",
        "OCTAL": "493", "SEXAGESIMAL": "90", "FLOAT": "1e3", "SHORT_REF": "ref:Queue", "SHORT_GETATT": "Queue.Arn",
        "SHORT_GETATT_LIST": "Queue.QueueName", "LONG_GETATT": "Queue.Arn", "SHORT_SUB": "Queue.QueueName-dev",
        "SHORT_IF": "test-dev", "NESTED": "dev", "BASE64": "aGVsbG8=", "MAPPED": "128",
    }  # fmt: skip


def test_a_json_template_and_transform_forms():
    template = parse_template(json.dumps({"Transform": "AWS::Serverless-2016-10-31", "Resources": {}}))
    assert transforms(template) == ["AWS::Serverless-2016-10-31"]
    assert transforms({"Transform": [{"Name": "AWS::Include", "Parameters": {}}, "AWS::LanguageExtensions"]}) == [
        "AWS::Include", "AWS::LanguageExtensions",
    ]  # fmt: skip
    assert transforms({}) == []


def test_reading_templates_leaves_pyyaml_s_own_safe_loader_as_it_was():
    load_template(FIXTURE)
    assert yaml.safe_load("when: 2012-10-17") == {"when": datetime.date(2012, 10, 17)}
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load("ref: !Ref Queue")


@pytest.mark.parametrize("source", ["Resources: [unclosed", "- just a list"])
def test_a_broken_template_says_so(source):
    with pytest.raises(TemplateError):
        parse_template(source)
