"""CloudFormation intrinsics as the local cloud resolves them."""

from __future__ import annotations

import pytest

from infra.cloudformation.intrinsics import IntrinsicError, Resolver, references

RESOURCES = {"Table": "shop-Table", "Queue": "http://q/123/shop-Queue"}
ATTRIBUTES = {("Table", "Arn"): "arn:aws:dynamodb:us-east-1:1:table/shop-Table"}


def resolver(**parameters: str) -> Resolver:
    def ref(name: str) -> str:
        if name not in RESOURCES:
            raise IntrinsicError(name)
        return RESOURCES[name]

    return Resolver(
        parameters={"AWS::Region": "us-east-1", "AWS::StackName": "shop", "Stage": "dev", **parameters},
        conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
            "Both": {"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["a", "a"]}]},
        },
        mappings={"Sizes": {"dev": {"Memory": 128}}},
        ref=ref,
        get_att=lambda name, attribute: ATTRIBUTES[(name, attribute)],
        region="us-east-1",
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Ref": "Table"}, "shop-Table"),
        ({"Ref": "Stage"}, "dev"),
        ({"Fn::GetAtt": ["Table", "Arn"]}, "arn:aws:dynamodb:us-east-1:1:table/shop-Table"),
        ({"Fn::GetAtt": "Table.Arn"}, "arn:aws:dynamodb:us-east-1:1:table/shop-Table"),
        ({"Fn::Sub": "${AWS::StackName}-${Stage}-${Table}"}, "shop-dev-shop-Table"),
        ({"Fn::Sub": "${Table.Arn}/index/*"}, "arn:aws:dynamodb:us-east-1:1:table/shop-Table/index/*"),
        ({"Fn::Sub": ["${Name}!", {"Name": {"Ref": "Stage"}}]}, "dev!"),
        ({"Fn::Sub": "literal ${!NotAVariable}"}, "literal ${NotAVariable}"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}, "a-dev"),
        ({"Fn::If": ["IsProd", "INFO", "DEBUG"]}, "DEBUG"),
        ({"Fn::If": ["Both", "yes", "no"]}, "yes"),
        ({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, "b"),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}, 128),
        ({"Fn::Base64": "hi"}, "aGk="),
        ({"Key": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]}, "Other": 1}, {"Other": 1}),
        ([1, {"Fn::If": ["IsProd", 2, {"Ref": "AWS::NoValue"}]}, 3], [1, 3]),
    ],
)
def test_resolves(expression, expected):
    assert resolver().resolve(expression) == expected


def test_parameters_override_conditions():
    assert resolver(Stage="prod").resolve({"Fn::If": ["IsProd", "INFO", "DEBUG"]}) == "INFO"


def test_unknown_reference_and_function_fail_loudly():
    with pytest.raises(IntrinsicError):
        resolver().resolve({"Ref": "Missing"})
    with pytest.raises(IntrinsicError):
        resolver().resolve({"Fn::ImportValue": "other-stack-export"})


def test_references_name_the_resources_a_value_depends_on():
    value = {
        "A": {"Ref": "Table"},
        "B": {"Fn::GetAtt": ["Queue", "Arn"]},
        "C": {"Fn::Sub": "${Bucket.Arn}/${AWS::Region}"},
        "D": [{"Fn::Sub": ["${X}", {"X": {"Ref": "Topic"}}]}],
    }
    assert references(value) >= {"Table", "Queue", "Bucket", "Topic"}
