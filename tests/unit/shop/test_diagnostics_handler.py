"""The diagnostics function used by gateway tests and benchmarks."""

from __future__ import annotations

import pytest

from tests.unit.shop.apigw_events import http_event, load_handler, response_json


def diagnose(action, context, query=""):
    event = http_event(
        "GET",
        f"/_diagnostics/{action}",
        route="/_diagnostics/{action}",
        path_parameters={"action": action},
        query=query,
    )
    return load_handler("diagnostics").lambda_handler(event, context)


def test_noop(lambda_context):
    response = diagnose("noop", lambda_context)
    assert response["statusCode"] == 200 and response_json(response) == {"ok": True}


def test_raise_is_left_to_the_runtime(lambda_context):
    with pytest.raises(RuntimeError, match="diagnostic failure"):
        diagnose("raise", lambda_context)


def test_sleep(lambda_context):
    response = diagnose("sleep", lambda_context, query="seconds=0.01")
    assert response["statusCode"] == 200 and response_json(response) == {"slept": 0.01}


@pytest.mark.parametrize("query", ["", "seconds=soon", "seconds=-1", "seconds=nan", "seconds=inf", "seconds=901"])
def test_sleep_needs_a_sensible_duration(lambda_context, query):
    response = diagnose("sleep", lambda_context, query=query)
    assert response["statusCode"] == 422
    assert response_json(response)["error"]["details"]["fields"][0]["field"] == "seconds"


def test_env_lists_names_only(lambda_context, monkeypatch):
    monkeypatch.setenv("SOME_SECRET", "hunter2")
    response = diagnose("env", lambda_context)
    names = response_json(response)["names"]
    assert "SOME_SECRET" in names and names == sorted(names)
    assert "hunter2" not in response["body"]


def test_echo_returns_the_event(lambda_context):
    event = http_event("GET", "/_diagnostics/echo", route="/_diagnostics/{action}", path_parameters={"action": "echo"})
    assert response_json(load_handler("diagnostics").lambda_handler(event, lambda_context)) == event


def test_unknown_action_is_404(lambda_context):
    response = diagnose("explode", lambda_context)
    assert response["statusCode"] == 404 and response_json(response)["error"]["code"] == "NOT_FOUND"
