"""Generated requests against the running system, from the OpenAPI document it serves (GET /openapi.json).

Every operation is sent requests schemathesis draws from its schema, valid and invalid, each as an anonymous
caller (no token, or whatever the generator put in Authorization), a buyer and a seller; a state machine then
follows the document's links (POST /items -> the item -> the cart -> checkout -> the order -> its cancel and
payment) so requests reach real items, carts and orders. Each answer must be no 5xx, a status the operation
documents, in the documented content type and matching the documented schema; and a request the schema
allows must never be refused as invalid (422 VALIDATION_FAILED): what validation refuses, the schema says.

Bounded so `make test` stays quick: derandomized (the same requests every run) and FUZZ_EXAMPLES requests per
operation and mode (default 5), five times as many state machine scenarios. `make fuzz` raises it
(FUZZ_EXAMPLES=100 by default). schemathesis chooses whether a step follows a link with true randomness, so
the stateful sequences vary between runs.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import httpx
import hypothesis
import jsonschema
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext
from schemathesis.core import NotSet
from schemathesis.specs.openapi import stateful as stateful_openapi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Stack
from tests.support.users import User, register

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
ROLES = ("anonymous", "buyer", "seller")

# VALIDATION_FAILED (field, type) pairs that depend on stored state, deployment settings or arithmetic no JSON
# Schema of one request can state: an item with variants needs a variantId; variants' stock must add up to the
# item's quantity; a card number must pass the Luhn check; a payment token must be one the provider issued; a
# cursor must come from the same list; a region must be one the deployment has a tax rate for (the TaxRatesBps
# parameter, not the code); an address's postcode, region and phone follow the rules of its country (another
# field of the same body: shop/accounts/addresses.py).
BEYOND_THE_SCHEMA = frozenset(
    {
        ("variantId", "missing"),
        ("quantity", "quantity_mismatch"),
        ("paymentInfo.cardNo", "invalid_card_number"),
        ("paymentInfo.paymentToken", "invalid_token"),
        ("cursor", "invalid"),
        ("region", "unknown_region"),
        ("postalCode", "invalid_postal_code"),
        ("region", "missing"),
        ("region", "invalid_region"),
        ("phone", "invalid_phone"),
    }
)
# Refusals of any field no schema can state: two attribute names that normalise to the same one, two variants
# of one item with the same variantId (JSON Schema's uniqueItems compares whole items), a variant the stored
# item does not have (PATCH /items variants[].variantId).
BEYOND_THE_SCHEMA_ANYWHERE = frozenset({"duplicate_name", "duplicate", "unknown_variant"})


def schema_allows_what_validation_accepts(ctx: CheckContext, response: Any, case: schemathesis.Case) -> bool | None:
    """A request drawn from the schema (positive mode) is never refused as invalid: if it is, the schema is
    looser than validation, and the document misleads every client generated from it."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    error = response.json().get("error", {})
    if error.get("code") != "VALIDATION_FAILED":
        return None  # a business rule (OUT_OF_STOCK, BANNED_TERM, ...), not the request's shape
    if not body_matches_its_schema(case):
        return None  # the generator does not honour every keyword (propertyNames): not a request the schema allows
    refused = {(field.get("field"), field.get("type")) for field in error.get("details", {}).get("fields", [])}
    if all(pair in BEYOND_THE_SCHEMA or pair[1] in BEYOND_THE_SCHEMA_ANYWHERE for pair in refused):
        return None
    raise AssertionError(
        f"{case.method} {case.path}: a request the schema allows was refused as invalid: {error['details']}"
    )


def body_matches_its_schema(case: schemathesis.Case) -> bool:
    document = case.operation.schema.raw_schema
    operation = document["paths"][case.operation.path][case.method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None or case.body is None or isinstance(case.body, NotSet):
        return True
    schema = {**content["schema"], "components": document["components"]}
    return bool(jsonschema.Draft202012Validator(schema).is_valid(case.body))


def not_a_server_error(ctx: CheckContext, response: Any, case: schemathesis.Case) -> bool | None:
    if response.status_code >= 500:
        raise AssertionError(f"{case.method} {case.path} answered {response.status_code}: {response.text[:500]}")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    schema_allows_what_validation_accepts,
]


@pytest.fixture(scope="session")
def fuzz_users(api: httpx.Client) -> dict[str, User]:
    return {role: register(api, role) for role in ("buyer", "seller")}


@pytest.fixture(scope="session")
def served_schema(stack: Stack, api: httpx.Client) -> Any:
    config = schemathesis.Config.from_dict(
        {
            "base-url": stack.api_url,
            "generation": {"max-examples": FUZZ_EXAMPLES, "deterministic": True},
            "phases": {
                "stateful": {
                    "inference": {"algorithms": []},  # the document's own links only
                    "generation": {"mode": "positive"},  # sequences need answers to go on; the test above is negative
                }
            },
        }
    )
    return schemathesis.openapi.from_url(f"{stack.api_url}/openapi.json", config=config)


def auth_headers(role: str, users: dict[str, User]) -> dict[str, str]:
    return users[role].auth if role in users else {}


def fuzz_operation(operation: Any, mode: GenerationMode, users: dict[str, User]) -> None:
    """FUZZ_EXAMPLES requests drawn for `operation` in `mode`, each sent as every role and checked."""

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],  # report, do not shrink: keeps it bounded
    )
    def send(case: schemathesis.Case) -> None:
        for role in ROLES:  # the same request from each kind of caller
            case.call_and_validate(headers=auth_headers(role, users), checks=CHECKS, timeout=30)

    send()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_every_operation_answers_as_documented(
    served_schema: Any, fuzz_users: dict[str, User], mode: GenerationMode
) -> None:
    failures: list[str] = []
    for result in served_schema.get_all_operations():
        operation = result.ok()
        try:
            fuzz_operation(operation, mode, fuzz_users)
        except hypothesis.errors.Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid request can be drawn"
            # Nothing this operation takes can be invalid (a bare string path parameter): nothing to send.
        except (Exception, BaseExceptionGroup) as failure:  # every operation runs; all failures are reported
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)


# The role each operation is sent with in the state machine: the one that can go furthest with it.
SELLER_OPERATIONS = ("POST /items", "PATCH /items/", "POST /items/", "POST /imports", "GET /imports/")


def stateful_role(method: str, path: str) -> str:
    label = f"{method.upper()} {path}"
    return "seller" if label.startswith(SELLER_OPERATIONS) else "buyer"


@pytest.fixture
def state_machine(
    served_schema: Any, fuzz_users: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, list[str]]:
    """The state machine class, and the list its failing checks are written to."""
    # schemathesis starts sequences only from operations it guesses need nothing created first, and it takes
    # POST /items' variants[].variantId for a reference to a "Variant" nothing creates, so no sequence began
    # with a new item. Every operation with links out of it may start one here.
    monkeypatch.setattr(stateful_openapi, "is_likely_root_transition", lambda *args: True)

    class Machine(served_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            role = stateful_role(case.method, case.operation.path)
            return {"headers": auth_headers(role, fuzz_users), "timeout": 30}

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            # Written down, not raised: a sequence depends on the server's answers (ids, stock), so Hypothesis
            # replaying it to report the failure draws differently and hides it behind FlakyStrategyDefinition.
            try:
                case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"))
            except (Exception, BaseExceptionGroup) as failure:
                failures.append(f"{case.method} {case.operation.path}: {failure}")

    failures: list[str] = []
    return Machine, failures


def test_linked_operations_answer_as_documented(state_machine: tuple[Any, list[str]]) -> None:
    machine, failures = state_machine
    settings = hypothesis.settings(
        max_examples=FUZZ_EXAMPLES * 5,
        stateful_step_count=8,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    # Which steps are possible depends on earlier answers (a bundle fills only when a link's source answered its
    # status), so a replayed sequence can draw differently and Hypothesis stops with Flaky; schemathesis' own
    # runner ends a scenario the same way. What the checks found before it stopped is still reported below.
    with contextlib.suppress(hypothesis.errors.Flaky):
        machine.run(settings=settings)
    assert not failures, "\n\n".join(failures)
