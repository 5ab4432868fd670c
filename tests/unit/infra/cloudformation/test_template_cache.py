"""The template's SAM translation is cached (infra.cloudformation.template.translated) and made again when
anything it was made from changes: the template, a definition it inlines, a parameter."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.cloudformation import template as template_module

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Delay:
    Type: Number
    Default: 5
  LocalS3Endpoint:
    Type: String
    Default: ""
Resources:
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: flow.asl.json
      DefinitionSubstitutions:
        Delay: !Ref Delay
"""


def _definition(seconds: str) -> str:
    return '{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": ' + seconds + ', "End": true}}}'


@pytest.fixture
def translations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the real translations made (the cache's misses)."""
    made: list[int] = []
    translate = template_module.translate

    def counted(*args: object, **kwargs: object) -> dict[str, object]:
        made.append(1)
        return translate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(template_module, "translate", counted)
    return made


def test_a_translation_is_reused_until_what_it_was_made_from_changes(tmp_path: Path, translations: list[int]) -> None:
    path, cache = tmp_path / "template.yaml", tmp_path / "cache"
    path.write_text(TEMPLATE)
    (tmp_path / "flow.asl.json").write_text(_definition("1"))
    first = template_module.translated(path, {}, cache, runtime_only=frozenset({"LocalS3Endpoint"}))
    again = template_module.translated(path, {"LocalS3Endpoint": "http://127.0.0.1:1234"}, cache,
                                       runtime_only=frozenset({"LocalS3Endpoint"}))  # fmt: skip
    assert again == first
    assert len(translations) == 1

    (tmp_path / "flow.asl.json").write_text(_definition("2"))  # an inlined file
    changed = template_module.translated(path, {}, cache)
    assert '"Seconds": 2' in str(changed[1]).replace("'", '"')
    template_module.translated(path, {"Delay": "7"}, cache)  # a parameter
    path.write_text(TEMPLATE + "Outputs:\n  Name:\n    Value: !Ref Flow\n")  # the template
    template_module.translated(path, {}, cache)
    assert len(translations) == 4
