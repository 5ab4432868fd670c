"""The layout's rules, read from the code's own imports: which package may import which (docs/architecture.md,
docs/local-cloud.md). A new import that crosses a rule, or closes a cycle, fails here with its file and line."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "layers" / "shop" / "python"

# infra: what each package may import besides itself. Top-level modules (cloud.py, __main__.py, launcher.py,
# moto_server.py, seed.py, sample_events.py) put everything together and may import anything.
INFRA_ALLOWED = {
    "core": set(),
    "faults": set(),  # the worker side runs without infra on sys.path; the rest needs nothing else
    "awslambda": {"core", "faults"},
    "apigateway": {"core", "awslambda"},
    "dynamodb": {"core", "awslambda", "events", "faults"},  # FilterCriteria use the EventBridge pattern matcher
    "sqs": {"core", "awslambda", "events", "faults"},
    "s3": {"core", "awslambda"},
    "events": {"core", "awslambda"},
    "stepfunctions": {"core"},
    "cognito": set(),
    "cloudformation": {"core", "awslambda", "apigateway", "dynamodb", "s3", "events", "stepfunctions"},
    "reconcile": {"core", "events"},  # reads a stack's tables; the local event log through events.inspect
}
# shop: contexts depend one way; the shared mechanisms depend on no context.
SHOP_CONTEXTS = {
    "accounts": {"orders"},  # DELETE /me anonymises the caller's orders; AccountDeleted uses the outbox publisher
    "search": set(),
    "inventory": set(),
    "payments": set(),
    "catalog": {"inventory"},
    "cart": {"catalog", "inventory"},
    "orders": {"cart", "inventory", "payments"},
    "checkout": {"orders", "payments", "inventory", "cart", "accounts"},  # the default address: tax, order copy
    "wishlist": {"catalog", "inventory"},  # entries with the items' current price and stock
    "notifications": {"wishlist", "catalog", "orders"},  # who watches an item; its name; an order's lines
    "recommendations": {"catalog", "inventory"},  # serve-time corrections: is a candidate on sale, in stock
}


def imports(package_root: Path, package: str) -> Iterator[tuple[str, str, str]]:
    """(importing unit, imported unit, "file:line") for every import between units of `package`, where a
    unit is the package's direct child (a subpackage, or a top-level module)."""
    for path in sorted((package_root / package).rglob("*.py")):
        unit = path.relative_to(package_root / package).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == package and len(parts) > 1 and parts[1] != unit:
                    yield unit, parts[1], f"{path.relative_to(ROOT)}:{node.lineno}"


def crossings(package_root: Path, package: str, may_import: dict[str, set[str]], governed: set[str]) -> list[str]:
    """Imports by a unit of `may_import` of a unit in `governed` that its entry does not allow."""
    found = []
    for unit, target, where in imports(package_root, package):
        if unit in may_import and target in governed and target not in may_import[unit]:
            found.append(f"{where}: {package}.{unit} imports {package}.{target}")
    return sorted(set(found))


def cycle(package_root: Path, package: str) -> str | None:
    graph: dict[str, set[str]] = {}
    for unit, target, _ in imports(package_root, package):
        graph.setdefault(unit, set()).add(target)
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        return " -> ".join(error.args[1])
    return None


def shared_mechanisms() -> set[str]:
    return {path.stem for path in (SHOP / "shop").glob("*.py") if path.stem != "__init__"}


@pytest.mark.parametrize(("package_root", "package"), [(ROOT, "infra"), (SHOP, "shop")], ids=["infra", "shop"])
def test_packages_import_each_other_without_a_cycle(package_root: Path, package: str) -> None:
    assert cycle(package_root, package) is None


def test_infra_services_import_only_what_their_layer_allows() -> None:
    top_level = {path.stem for path in (ROOT / "infra").glob("*.py")}  # cloud, launcher, ...: never imported back
    assert crossings(ROOT, "infra", INFRA_ALLOWED, set(INFRA_ALLOWED) | top_level - {"__init__"}) == []


def test_shop_contexts_depend_one_way_and_shared_mechanisms_on_no_context() -> None:
    assert crossings(SHOP, "shop", SHOP_CONTEXTS, set(SHOP_CONTEXTS)) == []
    assert crossings(SHOP, "shop", {name: set() for name in shared_mechanisms()}, set(SHOP_CONTEXTS)) == []


def test_the_rules_know_every_package() -> None:
    infra = {path.name for path in (ROOT / "infra").iterdir() if (path / "__init__.py").exists()}
    shop = {path.name for path in (SHOP / "shop").iterdir() if (path / "__init__.py").exists()}
    assert infra == set(INFRA_ALLOWED)
    assert shop == set(SHOP_CONTEXTS)
