"""Realistic synthetic catalog items, deterministic by seed (benchmarks, `make seed`).

    python scripts/generate_items.py --count 5 --seed 1          # JSON lines of POST /items bodies
    python scripts/generate_items.py --count 500 --post URL --token JWT [--concurrency 8]

Names combine a brand, adjectives and a product noun from one of a dozen categories, so word frequencies
look like a shop's (a few very common words, a long tail); prices are log-normal-ish per category.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

CATEGORIES: dict[str, tuple[list[str], int]] = {  # category -> (product nouns, typical price in cents)
    "Electronics": (["Headphones", "Speaker", "Monitor", "Keyboard", "Mouse", "Webcam", "Charger", "Router"], 5999),
    "Phones": (["Smartphone", "Phone Case", "Screen Protector", "Power Bank", "Cable"], 19999),
    "Computers": (["Laptop", "Notebook", "Tablet", "SSD", "Docking Station", "Graphics Card"], 89999),
    "Clothing": (["T-Shirt", "Hoodie", "Jeans", "Jacket", "Sweater", "Dress", "Socks"], 2999),
    "Shoes": (["Running Shoes", "Sneakers", "Boots", "Sandals", "Loafers"], 7999),
    "Home": (["Sofa", "Lamp", "Rug", "Curtains", "Bookshelf", "Pillow", "Blanket"], 9999),
    "Kitchen": (["Blender", "Kettle", "Toaster", "Knife Set", "Frying Pan", "Coffee Maker"], 4999),
    "Sports": (["Yoga Mat", "Dumbbells", "Bicycle", "Tennis Racket", "Football", "Water Bottle"], 3999),
    "Toys": (["Puzzle", "Building Blocks", "Doll", "Board Game", "Action Figure"], 1999),
    "Beauty": (["Shampoo", "Face Cream", "Perfume", "Lipstick", "Hair Dryer"], 2499),
    "Garden": (["Garden Hose", "Lawn Mower", "Planter", "Pruning Shears", "Seeds"], 3499),
    "Books": (["Cookbook", "Novel", "Travel Guide", "Notebook Journal", "Comic"], 1499),
}
BRANDS = ["Acme", "Logitech", "Samsung", "Stride", "Homely", "Asus", "Phonix", "Nordic", "Zenith", "Orbit",
          "Lumen", "Vertex", "Pioneer", "Kestrel", "Aurora", "Boreal", "Cobalt", "Delta", "Echo", "Fjord"]  # fmt: skip
ADJECTIVES = ["Wireless", "Ergonomic", "Portable", "Compact", "Premium", "Classic", "Smart", "Waterproof",
              "Lightweight", "Organic", "Vintage", "Professional", "Mini", "Ultra", "Eco", "Deluxe", "Soft",
              "Foldable", "Rechargeable", "Stainless"]  # fmt: skip
COLORS = ["Black", "White", "Red", "Blue", "Green", "Grey", "Navy", "Beige", "Pink", "Silver"]


def items(count: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """POST /items bodies."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    categories = list(CATEGORIES)
    weights = [1.0 / (rank + 1) for rank in range(len(BRANDS))]  # a few brands dominate, like real catalogs
    for n in range(count):
        category = rng.choice(categories)
        nouns, typical = CATEGORIES[category]
        noun = rng.choice(nouns)
        brand = rng.choices(BRANDS, weights)[0]
        adjectives = rng.sample(ADJECTIVES, rng.randint(0, 2))
        color = rng.choice(COLORS)
        name = " ".join([brand, *adjectives, noun, color if rng.random() < 0.4 else "", str(n % 97 or "")]).split()
        price = max(99, int(typical * rng.lognormvariate(0, 0.6)) // 100 * 100 + 99)
        yield {
            "name": " ".join(name)[:120],
            "description": f"{' '.join(adjectives).lower() or 'quality'} {noun.lower()} in {color.lower()} by "
            f"{brand}, {rng.choice(['great value', 'best seller', 'new season', 'limited edition'])}",
            "price": price,
            "quantity": rng.choice([0, 1, 3, 5, 10, 25, 100]),
            "brand": brand,
            "category": category,
            "tags": sorted({noun.lower().split()[-1], color.lower(), *(a.lower() for a in adjectives)}),
        }


def seller_token(url: str) -> str:
    """Register and log in a fresh seller (the local cloud's Cognito accepts any new email)."""
    import uuid

    import httpx

    email = f"seed-{uuid.uuid4().hex[:10]}@example.com"
    password = "Seed-Passw0rd!" + uuid.uuid4().hex[:6]
    with httpx.Client(base_url=url.rstrip("/"), timeout=30) as client:
        registered = client.post("/auth/register", json={"email": email, "password": password, "name": "Seed Seller",
                                                         "role": "seller"})  # fmt: skip
        registered.raise_for_status()
        login = client.post("/auth/login", json={"email": email, "password": password})
        login.raise_for_status()
        return str(login.json()["accessToken"])


def post_all(url: str, token: str, count: int, seed: int, concurrency: int) -> int:
    import httpx

    token = token or seller_token(url)

    def post(body: dict[str, Any]) -> int:
        with httpx.Client(timeout=30) as client:
            return client.post(f"{url.rstrip('/')}/items", json=body, headers={"Authorization": f"Bearer {token}"}
                               ).status_code  # fmt: skip

    with ThreadPoolExecutor(concurrency) as pool:
        statuses = list(pool.map(post, items(count, seed)))
    created = sum(1 for status in statuses if status == 201)
    print(f"created {created}/{count} items", file=sys.stderr)
    return 0 if created == count else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--post", help="API base URL: POST the items there instead of printing them")
    parser.add_argument(
        "--token", default="", help="a seller's access token (with --post; default: register a new seller)"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if args.post:
        return post_all(args.post, args.token, args.count, args.seed, args.concurrency)
    for body in items(args.count, args.seed):
        print(json.dumps(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
