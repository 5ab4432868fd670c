"""scripts/build_openapi.py refuses two different schemas under one component name (powertools' merge would
keep one silently); the same schema published by several functions is fine."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import pytest

from tests.unit.shop.apigw_events import ROOT


def build_openapi() -> Any:
    name = "_unit_build_openapi"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "build_openapi.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def document(**schemas: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.1.0", "paths": {}, "components": {"schemas": schemas}}


UPLOAD = {"type": "object", "properties": {"url": {"type": "string"}, "expiresIn": {"type": "integer"}}}
OTHER_UPLOAD = {"type": "object", "properties": {"url": {"type": "string"}, "expiresInSeconds": {"type": "integer"}}}


def test_two_different_schemas_under_one_name_fail_naming_both_sources():
    script = build_openapi()
    documents = {"functions/image_uploads/app.py": document(UploadForm=UPLOAD),
                 "functions/imports_api/app.py": document(UploadForm=OTHER_UPLOAD)}  # fmt: skip
    with pytest.raises(script.ComponentConflictError) as refused:
        script.check_component_conflicts(documents)
    message = str(refused.value)
    assert "components.schemas.UploadForm" in message
    assert "functions/image_uploads/app.py" in message and "functions/imports_api/app.py" in message


def test_the_same_schema_published_twice_is_fine():
    script = build_openapi()
    error = {"type": "object", "properties": {"error": {"type": "object"}}}
    script.check_component_conflicts(
        {"a": document(ErrorBody=error, UploadForm=UPLOAD), "b": document(ErrorBody=dict(error))}
    )


def test_the_script_fails_with_the_message(monkeypatch, capsys):
    script = build_openapi()

    def conflicting() -> dict[str, Any]:
        script.check_component_conflicts({"a": document(X=UPLOAD), "b": document(X=OTHER_UPLOAD)})
        return {}

    monkeypatch.setattr(script, "build", conflicting)
    monkeypatch.setattr(sys, "argv", ["build_openapi.py", "--check"])
    assert script.main() == 1
    assert "OpenAPI document not built" in capsys.readouterr().err
