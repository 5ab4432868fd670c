"""Write the local cloud's emulation table (infra.cloudformation.inventory.RESOURCE_TYPES) into docs/local-cloud.md,
between its `<!-- inventory -->` and `<!-- /inventory -->` markers.

    python scripts/build_inventory_doc.py           # rewrite the table
    python scripts/build_inventory_doc.py --check   # exit 1 if the document's table is not the data's
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.cloudformation.inventory import markdown_table  # noqa: E402 - after the path is set

DOCUMENT = ROOT / "docs" / "local-cloud.md"
BEGIN, END = "<!-- inventory -->", "<!-- /inventory -->"


def with_table(document: str) -> str:
    if BEGIN not in document or END not in document:
        raise SystemExit(f"{DOCUMENT} has no {BEGIN} ... {END} section")
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{markdown_table()}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    current = DOCUMENT.read_text()
    wanted = with_table(current)
    if args.check:
        if current != wanted:
            print(f"{DOCUMENT} is not the data's table: run python scripts/build_inventory_doc.py", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
