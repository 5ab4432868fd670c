"""Build the API's OpenAPI document from the functions' own routes and pydantic models.

Every functions/*/app.py that exposes a resolver named `app` contributes its routes; the merged document
is written to functions/docs/openapi.json (served by GET /openapi.json) and docs/openapi.json.
Two functions may publish the same component schema (ErrorBody, ItemView, ...), but never two different
schemas under one name: powertools' merge would keep one of them silently, so the build fails instead.

    python scripts/build_openapi.py           # write both files
    python scripts/build_openapi.py --check   # exit 1 if either file is not what the code describes
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = (ROOT / "functions" / "docs" / "openapi.json", ROOT / "docs" / "openapi.json")
TITLE = "Marketplace API"
DESCRIPTION = (
    "Sellers list items, buyers find and buy them. Money is in integer minor units (999 = 9.99). "
    'Errors are {"error": {"code", "message", "details"}}. Routes marked with bearerAuth need a token '
    "from POST /auth/login in the Authorization header."
)


class ComponentConflictError(Exception):
    """Two functions publish different schemas under one component name."""


def build() -> dict[str, Any]:
    sys.path[:0] = [str(ROOT / "layers" / "shop" / "python"), str(ROOT)]
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    merged = OpenAPIMerge(title=TITLE, version=version, description=DESCRIPTION, on_conflict="error")
    documents: dict[str, dict[str, Any]] = {}
    for app_file in sorted((ROOT / "functions").glob("*/app.py")):
        resolver = getattr(_load(app_file), "app", None)
        if isinstance(resolver, ApiGatewayResolver):
            schema = resolver.get_openapi_schema().model_dump(mode="json", by_alias=True, exclude_none=True)
            documents[str(app_file.relative_to(ROOT))] = schema
    check_component_conflicts(documents)
    for schema in documents.values():
        merged.add_schema(schema)
    document = merged.get_openapi_schema()
    _drop_generic_validation_responses(document)
    _drop_bodies_of_no_content(document)
    _document_gateway_answers(document)
    _drop_null_from_parameters(document)
    _mark_parameters_the_functions_require(document)
    add_links(document)
    _drop_unreferenced_schemas(document)
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _load(app_file: Path) -> Any:
    # Every function's module is called app: load each under its own name so none replaces another.
    name = f"_openapi_{app_file.parent.name}_app"
    spec = importlib.util.spec_from_file_location(name, app_file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {app_file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def check_component_conflicts(documents: dict[str, dict[str, Any]]) -> None:
    """Raise ComponentConflictError when two documents (by source name) hold different component schemas
    under one name; the same schema published by several is fine."""
    seen: dict[tuple[str, str], tuple[str, Any]] = {}
    conflicts: list[str] = []
    for source, document in documents.items():
        for kind, components in document.get("components", {}).items():
            for name, value in components.items():
                first = seen.setdefault((kind, name), (source, value))
                if first[1] != value:
                    conflicts.append(f"components.{kind}.{name}: {first[0]} and {source} define it differently")
    if conflicts:
        raise ComponentConflictError(
            "two schemas share a component name, and the merged document would silently keep only one:\n  "
            + "\n  ".join(conflicts)
            + "\nRename one model, or make both functions use the same one."
        )


def _drop_generic_validation_responses(document: dict[str, Any]) -> None:
    """powertools gives every validated route a 422 in its own error shape; ours document their own 422."""
    generic = {"$ref": "#/components/schemas/HTTPValidationError"}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema") == generic:
                del responses["422"]


def _drop_bodies_of_no_content(document: dict[str, Any]) -> None:
    """powertools documents a 204 with the return type's JSON (`null`); a 204 has no body and no content type."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).get("204", {}).pop("content", None)


def _drop_null_from_parameters(document: dict[str, Any]) -> None:
    """An optional query or header parameter is `str | None` in Python, which pydantic documents as
    anyOf [string, null]; but a query string or header cannot carry JSON null (a client sends the text "null",
    which validation refuses), so a parameter's schema keeps only its non-null branch: absent is its None."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                branches = [branch for branch in schema.get("anyOf", []) if branch != {"type": "null"}]
                if "anyOf" in schema and len(branches) == 1:
                    del schema["anyOf"]
                    schema.update(branches[0])


# OpenAPI links: where a response's values can be used next ((method, path, status) -> link name -> target
# operation and the values it takes). Clients and stateful fuzzing follow them from a new item to its changes,
# stock and images and into carts, from a cart to checkout, from an order to its cancel and payment.
Operation = tuple[str, str]
_ITEM_ID = {"itemId": "$response.body#/itemId"}
LINKS: dict[tuple[str, str, str], dict[str, tuple[Operation, dict[str, Any]]]] = {
    ("post", "/items", "201"): {
        "GetItem": (("get", "/items/{itemId}"), {"parameters": _ITEM_ID}),
        "ChangeItem": (("patch", "/items/{itemId}"),
                       {"parameters": _ITEM_ID, "requestBody": {"version": "$response.body#/version"}}),
        "DeactivateItem": (("post", "/items/{itemId}/deactivate"), {"parameters": _ITEM_ID}),
        "ActivateItem": (("post", "/items/{itemId}/activate"), {"parameters": _ITEM_ID}),
        "AddImage": (("post", "/items/{itemId}/images"), {"parameters": _ITEM_ID}),
        "Restock": (("post", "/items/{itemId}/stock"), {"parameters": _ITEM_ID}),
        "AddToCart": (("patch", "/cart"), {"requestBody": _ITEM_ID}),
        "AddToGuestCart": (("patch", "/guest-cart"), {"requestBody": _ITEM_ID}),
    },
    ("patch", "/items/{itemId}", "200"): {
        "GetItem": (("get", "/items/{itemId}"), {"parameters": _ITEM_ID}),
        "ChangeItemAgain": (("patch", "/items/{itemId}"),
                            {"parameters": _ITEM_ID, "requestBody": {"version": "$response.body#/version"}}),
    },
    ("patch", "/cart", "200"): {
        "CheckOut": (("post", "/checkout"),
                     {"requestBody": {"cartId": "$response.body#/cartId", "amount": "$response.body#/totals/total"}}),
    },
    ("get", "/cart", "200"): {
        "CheckOut": (("post", "/checkout"),
                     {"requestBody": {"cartId": "$response.body#/cartId", "amount": "$response.body#/totals/total"}}),
    },
    ("patch", "/guest-cart", "200"): {
        "GetGuestCart": (("get", "/guest-cart"), {"parameters": {"header.x-cart-token": "$response.body#/cartToken"}}),
        "MergeGuestCart": (("post", "/cart/merge"), {"requestBody": {"cartToken": "$response.body#/cartToken"}}),
    },
    ("post", "/checkout", "202"): {
        "GetOrder": (("get", "/orders/{orderId}"), {"parameters": {"orderId": "$response.body#/orderId"}}),
        "CancelOrder": (("post", "/orders/{orderId}/cancel"), {"parameters": {"orderId": "$response.body#/orderId"}}),
    },
    ("get", "/orders/{orderId}", "200"): {
        "ConfirmPayment": (("post", "/payments/{paymentId}/confirm"),
                           {"parameters": {"paymentId": "$response.body#/paymentId"}}),
        "CancelOrder": (("post", "/orders/{orderId}/cancel"), {"parameters": {"orderId": "$response.body#/orderId"}}),
    },
    ("post", "/imports", "201"): {
        "GetImport": (("get", "/imports/{importId}"), {"parameters": {"importId": "$response.body#/importId"}}),
    },
    ("post", "/auth/login", "200"): {
        "Refresh": (("post", "/auth/refresh"), {"requestBody": {"refreshToken": "$response.body#/refreshToken"}}),
    },
}  # fmt: skip


def add_links(document: dict[str, Any]) -> None:
    """Write LINKS into the responses they start from, naming targets by operationId; a link whose either end
    is not in the document fails the build (a renamed route must not silently drop its links)."""
    paths = document.get("paths", {})

    def operation(method: str, path: str) -> dict[str, Any]:
        found: dict[str, Any] | None = paths.get(path, {}).get(method)
        if found is None:
            raise KeyError(f"OpenAPI link names {method.upper()} {path}, which the document does not have")
        return found

    for (method, path, status), links in LINKS.items():
        response = operation(method, path)["responses"][status]
        response["links"] = {
            name: {"operationId": operation(*target)["operationId"], **values}
            for name, (target, values) in links.items()
        }


# Parameters optional in the function's signature but required by its code, which answers their absence with
# a code of its own rather than the resolver's 422: POST /checkout without Idempotency-Key is 400
# IDEMPOTENCY_KEY_REQUIRED (docs/checkout.md). The document says they are required.
REQUIRED_BY_THE_FUNCTION = {("post", "/checkout", "idempotency-key")}


def _mark_parameters_the_functions_require(document: dict[str, Any]) -> None:
    for method, path, name in REQUIRED_BY_THE_FUNCTION:
        parameters = document["paths"][path][method].get("parameters", [])
        (parameter,) = [parameter for parameter in parameters if parameter["name"] == name]
        parameter["required"] = True


GATEWAY_ERROR = {
    "type": "object",
    "title": "GatewayError",
    "description": "An answer API Gateway gives itself, before any function runs (AWS's shape).",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}


def _document_gateway_answers(document: dict[str, Any]) -> None:
    """Answers given before any function runs, on any route: the edge's (the template's web ACL, locally the
    gateway playing it) in our error shape, API Gateway's own in its {"message"} shape (GatewayError).
    - 429: the edge's per-address and per-caller limits (TOO_MANY_REQUESTS), or the stage's throttle;
    - 413: a body over 64 KiB at the edge (PAYLOAD_TOO_LARGE), or over API Gateway's 10 MB;
    - 401 on bearerAuth routes: the JWT authorizer refusing the token, or a function finding no caller."""
    document.setdefault("components", {}).setdefault("schemas", {})["GatewayError"] = GATEWAY_ERROR
    either = {"anyOf": [{"$ref": "#/components/schemas/ErrorBody"}, {"$ref": "#/components/schemas/GatewayError"}]}
    retry_after = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses["413"] = {
                "description": "Content Too Large: over 64 KiB at the edge (PAYLOAD_TOO_LARGE) or 10 MB at API Gateway",
                "content": {"application/json": {"schema": either}},
            }
            responses["429"] = {
                "description": "Too Many Requests: the edge's per-address or per-caller limit (TOO_MANY_REQUESTS) "
                "or the stage's throttle; Retry-After says when to try again",
                "headers": retry_after,
                "content": {"application/json": {"schema": either}},
            }
            if operation.get("security"):
                responses["401"] = {
                    "description": "Unauthorized: no valid token (the gateway's authorizer) or no caller (a function)",
                    "content": {"application/json": {"schema": either}},
                }


def _drop_unreferenced_schemas(document: dict[str, Any]) -> None:
    """Remove component schemas nothing refers to (powertools adds its own validation error schemas)."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    prefix = "#/components/schemas/"
    outside = {key: value for key, value in document.items() if key != "components"}
    pending = [ref[len(prefix) :] for ref in _refs(outside) if ref.startswith(prefix)]
    used: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in used and name in schemas:
            used.add(name)
            pending.extend(ref[len(prefix) :] for ref in _refs(schemas[name]) if ref.startswith(prefix))
    for name in set(schemas) - used:
        del schemas[name]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed documents are out of date")
    args = parser.parse_args()
    try:
        text = render(build())
    except ComponentConflictError as error:
        print(f"OpenAPI document not built: {error}", file=sys.stderr)
        return 1
    if args.check:
        stale = [path for path in OUTPUTS if not path.exists() or path.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run python scripts/build_openapi.py", file=sys.stderr)
        return 1 if stale else 0
    for path in OUTPUTS:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
