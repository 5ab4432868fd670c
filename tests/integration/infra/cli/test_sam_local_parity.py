"""`python -m infra generate-event` and `invoke` read like `sam local generate-event` and `sam local invoke`:
an event generated for a route, a stream or a Task state reaches the template's function as AWS would
deliver it, through the same flags (-e FILE|-, -n/--env-vars)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.launcher import ROOT
from tests.support.users import new_item


def _cli(*args: str, state_file: Path | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "SHOP_CLOUD_STATE": str(state_file or "/nonexistent/cloud.json")}
    return subprocess.run(
        [sys.executable, "-m", "infra", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, timeout=180,
        check=False,
    )  # fmt: skip


def _generate(*args: str) -> bytes:
    result = _cli("generate-event", *args)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def _answer(result: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    return dict(json.loads(result.stdout))


def test_a_generated_http_api_event_with_claims_creates_an_item_the_api_then_serves(local_only, api, seller):
    """The route key, path, body and the JWT authorizer's claims of the generated event are those the catalog
    function routes and authorizes on: the item it creates is the seller's, as if posted through the API."""
    claims = json.dumps({"sub": seller.user_id, "email": seller.email, "cognito:groups": ["sellers"]})
    body = json.dumps(new_item(name="Generated Event Lamp"))
    event = _generate("apigateway", "http-api-proxy", "--method", "POST", "--path", "/items", "--body", body,
                      "--claims", claims)  # fmt: skip
    assert json.loads(event)["routeKey"] == "POST /items"
    answer = _answer(_cli("invoke", "CatalogFunction", "-e", "-", stdin=event,
                          state_file=local_only.cloud.workdir / "cloud.json"))  # fmt: skip
    assert answer["statusCode"] == 201, answer
    item_id = json.loads(answer["body"])["itemId"]

    served = api.get(f"/items/{item_id}")
    assert served.status_code == 200, served.text
    assert served.json()["name"] == "Generated Event Lamp"
    assert served.json()["sellerId"] == seller.user_id


def test_a_generated_event_from_a_file_reaches_the_route_of_its_path_parameters(local_only, api, seller, tmp_path):
    created = api.post("/items", json=new_item(name="Path Parameter Chair"), headers=seller.auth)
    assert created.status_code == 201, created.text
    item_id = created.json()["itemId"]
    event_file = tmp_path / "get-item.json"
    event_file.write_bytes(_generate("apigateway", "http-api-proxy", "--path", f"/items/{item_id}"))
    assert json.loads(event_file.read_text())["pathParameters"] == {"itemId": item_id}

    answer = _answer(_cli("invoke", "CatalogFunction", "--event", str(event_file),
                          state_file=local_only.cloud.workdir / "cloud.json"))  # fmt: skip
    assert answer["statusCode"] == 200, answer
    assert json.loads(answer["body"])["name"] == "Path Parameter Chair"


def test_a_generated_step_functions_task_input_is_what_the_saga_step_reads(local_only):
    """The Task state's Parameters, evaluated against the execution input, name the step and the order: the
    saga looks the order up (and, for one that does not exist, fails with its own error name, which the
    state machine's Catch would match)."""
    event = _generate("stepfunctions", "task", "--state", "ReserveInventory", "--input", '{"orderId": "o-missing"}')
    assert json.loads(event) == {"action": "reserve_inventory", "orderId": "o-missing"}
    result = _cli("invoke", "SagaFunction", "-e", "-", stdin=event, state_file=local_only.cloud.workdir / "cloud.json")
    assert result.returncode == 1, result.stderr.decode()[-3000:]  # a function error, as sam reports it
    error = json.loads(result.stdout)
    assert error["errorType"] == "OrderNotFoundError", error


def test_env_vars_override_a_declared_variable_for_all_functions_and_ignore_undeclared_ones(tmp_path):
    """sam's --env-vars file: "Parameters" applies to every function, and only variables the template
    declares change. With ITEMS_TABLE pointed at a table that does not exist, creating an item (201 with
    the template's table, as the first test shows) fails with the API's 500."""
    claims = json.dumps({"sub": "seller-env-vars", "email": "s@example.com", "cognito:groups": ["sellers"]})
    event_file = tmp_path / "post-item.json"
    event_file.write_bytes(_generate("apigateway", "http-api-proxy", "--method", "POST", "--path", "/items",
                                     "--body", json.dumps(new_item()), "--claims", claims))  # fmt: skip
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps({"Parameters": {"ITEMS_TABLE": "no-such-table"},
                                    "CatalogFunction": {"NOT_IN_THE_TEMPLATE": "x"}}))  # fmt: skip

    overridden = _cli("invoke", "CatalogFunction", "-e", str(event_file), "-n", str(env_vars))
    answer = _answer(overridden)
    assert answer["statusCode"] == 500, answer
    assert b"CatalogFunction.NOT_IN_THE_TEMPLATE" in overridden.stderr  # said to be ignored, as sam does
