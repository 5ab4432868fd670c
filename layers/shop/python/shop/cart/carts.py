"""Shopping carts: signed-in buyers' carts and guest carts, price snapshots, merging at login, checkout hand-off.

A cart is one CartsTable row (shop.cart.tables.Cart) whose lines are a list; every write is conditional on the
row's version, and a write that loses a race re-reads and re-applies its change (WRITE_ATTEMPTS times) so
two devices editing one cart never lose an update. Guest carts are keyed by a hash of an opaque cart token;
signed-in buyers' carts by their Cognito sub. Pricing rules live in shop.cart.pricing; docs/pricing.md explains them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import PutError, TransactWriteError

from shop import clock
from shop.cart.pricing import PricingPolicy, Totals, UnknownRegionError, capped_quantity, price_is_held, totals_for
from shop.cart.pricing import region_of as _region_of
from shop.cart.schemas import (
    CART_TOKEN_PATTERN,
    MAX_LINE_QUANTITY,
    MAX_LINES,
    CartLineView,
    CartView,
    GuestCartView,
    LineChange,
    TotalsView,
)
from shop.cart.tables import Cart, CartLine
from shop.catalog import ITEM_ID_PREFIX, load_item
from shop.config import cart_settings
from shop.dynamodb import cancellation, condition_failed, find, transaction
from shop.errors import (
    CartConflictError,
    CartFullError,
    CartNotFoundError,
    CurrencyMismatchError,
    EmptyCartError,
    ItemNotFoundError,
    ItemUnavailableError,
    OutOfStockError,
    PriceChangedError,
    ValidationFailedError,
)
from shop.identity import Caller, require_buyer
from shop.ids import is_id
from shop.inventory import DEFAULT_VARIANT, StockLine, available_units

logger = Logger(child=True)

USER_CART_PREFIX = "cart_"
GUEST_CART_PREFIX = "guest_"
CART_TOKEN_PREFIX = "ct_"  # noqa: S105  # a prefix, not a secret
LOW_STOCK_THRESHOLD = 5  # a line is flagged lowStock when at most this many units were available
WRITE_ATTEMPTS = 3  # a conditional write that loses a race is re-applied this many times in all, then 409
# Orders whose bought lines a cart remembers having removed: a retried confirmation comes minutes later,
# never after a buyer placed this many more orders.
MAX_SETTLED_ORDERS = 20


# ---------------------------------------------------------------- the interface checkout calls
@dataclass(frozen=True)
class CheckoutLine:
    """A line as checkout charges it: unit_price is the held snapshot or, past the hold window, today's price."""

    item_id: str
    variant_id: str  # "default" for items without variants, as in the Inventory table
    quantity: int
    unit_price: int
    name: str


@dataclass(frozen=True)
class CheckoutCart:
    """The signed-in buyer's cart, priced for checkout (amounts in minor units of currency)."""

    cart_id: str
    user_id: str
    lines: tuple[CheckoutLine, ...]
    totals: Totals
    currency: str
    # Units available per (item, variant), as read with the offers (strongly consistent): checkout's soft
    # stock check uses them instead of reading the stock rows a second time.
    available: Mapping[tuple[str, str], int] = field(default_factory=dict)


def cart_for_checkout(
    user_id: str, cart_id: str, *, now: datetime | None = None, region: str | None = None
) -> CheckoutCart:
    """The user's cart, repriced per the price policy, ready to be reserved and charged.

    Lines whose snapshot is older than the hold window (PRICE_HOLD_SECONDS) take the item's current price.
    Every line's item is checked to be on sale (ACTIVE, its variant still there) whether or not its price
    is held: the hold keeps a price, not the right to buy a withdrawn item.
    Raises CartNotFoundError (404) if cart_id is not this user's cart; EmptyCartError (422) if it has no
    lines; ItemUnavailableError (409) if a line's item was withdrawn or its variant removed, naming the
    first such line; PriceChangedError (409 PRICE_CHANGED)
    if repricing changed the total compared with the stored snapshot (what GET /cart showed). Before
    raising PriceChangedError the new prices are stored, so the buyer's next GET /cart shows the total a
    second checkout will accept. `region` is the shipping region for tax (default: the configured one).
    """
    now = now or clock.now()
    owner = _checkout_owner(user_id, cart_id)
    policy = pricing_policy()
    tax_region = _region(policy, region)
    cart = _load(owner, now)
    if cart is None or not cart.lines:
        raise EmptyCartError(details={"cartId": cart_id})
    lines = [_line(row) for row in cart.lines]
    shown = cart_totals(lines, policy, tax_region)
    # Read concurrently, one offer per line: on sale or not decides for held lines too.
    offers = _offers(line.key for line in lines)
    withdrawn = [line for line in lines if offers[line.key] is None]
    if withdrawn:
        raise ItemUnavailableError(
            "an item in the cart is no longer on sale; remove it and check out again",
            details={"itemId": withdrawn[0].item_id, "variantId": withdrawn[0].variant_id},
        )
    stale = [line for line in lines if not price_is_held(line.price_taken_at, now, policy.price_hold)]
    if stale:
        prices = {key: offer.unit_price for key, offer in offers.items() if offer is not None}
        lines = reprice(lines, prices, now=now, hold=policy.price_hold)
        repriced = cart_totals(lines, policy, tax_region)
        if repriced.total != shown.total:
            stored = _mutate(owner, lambda row: _apply_prices(row, prices, now, policy.price_hold), now)
            view = _view(stored, owner, policy, tax_region)
            raise PriceChangedError(
                details={**view.model_dump(mode="json", by_alias=True), "previousTotal": shown.total}
            )
    return CheckoutCart(
        cart_id=owner.cart_id,
        user_id=user_id,
        lines=tuple(
            CheckoutLine(line.item_id, line.variant_id, line.quantity, line.unit_price, line.name) for line in lines
        ),
        totals=cart_totals(lines, policy, tax_region),
        currency=cart.currency,
        available={key: offer.available for key, offer in offers.items() if offer is not None},
    )


def remove_bought(user_id: str, cart_id: str, *, order_id: str, lines: Iterable[StockLine]) -> None:
    """Take out of the cart what a confirmed order bought, and nothing else; idempotent per order.

    Each bought line's quantity is subtracted from the cart's line of the same item and variant, which
    goes when nothing is left of it: lines the buyer added while the payment awaited confirmation stay, and
    so do units they added to a bought line. The cart remembers the last orders it settled
    (MAX_SETTLED_ORDERS), so a retried confirmation removes nothing a second time. A cart that no longer
    exists has nothing to remove. Raises CartNotFoundError (404) if cart_id is not this user's cart.
    """
    owner = _checkout_owner(user_id, cart_id)
    bought: dict[tuple[str, str], int] = {}
    for line in lines:  # an order may list one variant twice
        bought[(line.item_id, line.variant_id)] = bought.get((line.item_id, line.variant_id), 0) + line.quantity

    def remove_for_order(row: Cart) -> bool:
        settled = list(row.settled_orders or [])
        if order_id in settled:
            return False
        row.lines = [_row(line) for line in without_bought([_line(r) for r in row.lines], bought)]
        row.settled_orders = [*settled, order_id][-MAX_SETTLED_ORDERS:]
        return True

    _mutate_existing(owner, remove_for_order, clock.now())


# ---------------------------------------------------------------- owners
@dataclass(frozen=True)
class CartOwner:
    """Whose cart: a signed-in user (user_id) or a guest (cart_token); cart_id is derived from either."""

    cart_id: str
    user_id: str | None = None
    cart_token: str | None = None

    @property
    def is_guest(self) -> bool:
        return self.user_id is None


def user_cart(user_id: str) -> CartOwner:
    """The one cart of a signed-in user, the same on every device."""
    return CartOwner(cart_id=f"{USER_CART_PREFIX}{user_id}", user_id=user_id)


def buyer_cart(caller: Caller) -> CartOwner:
    """The signed-in caller's cart; 403 FORBIDDEN for a seller account (only buyers shop)."""
    return user_cart(require_buyer(caller).user_id)


def guest_cart(cart_token: str) -> CartOwner:
    """A guest's cart. Its id is a hash of the token, so ids in logs or tables never let anyone act as the guest."""
    digest = hashlib.sha256(cart_token.encode()).hexdigest()[:40]
    return CartOwner(cart_id=f"{GUEST_CART_PREFIX}{digest}", cart_token=cart_token)


def new_cart_token() -> str:
    """An unguessable guest cart token (256 random bits)."""
    return f"{CART_TOKEN_PREFIX}{secrets.token_urlsafe(32)}"


def is_cart_token(value: str) -> bool:
    return re.fullmatch(CART_TOKEN_PATTERN, value) is not None


def _checkout_owner(user_id: str, cart_id: str) -> CartOwner:
    owner = user_cart(user_id)
    if cart_id != owner.cart_id:
        # Another user's cart and no cart at all look the same: never confirm that an id exists.
        raise CartNotFoundError(details={"cartId": cart_id})
    return owner


# ---------------------------------------------------------------- reading and changing carts
def get_cart(owner: CartOwner, *, region: str | None = None, now: datetime | None = None) -> CartView:
    """The cart with its lines and totals; a cart that does not exist (or expired) reads as empty."""
    now = now or clock.now()
    policy = pricing_policy()
    tax_region = _region(policy, region)
    return _view(_load(owner, now), owner, policy, tax_region)


def get_guest_cart(cart_token: str | None, *, region: str | None = None) -> GuestCartView:
    """A guest's cart by token; without a token, an empty cart with no id (one is made by the first change)."""
    if cart_token is None:
        policy = pricing_policy()
        return _guest_view(_view(None, CartOwner(cart_id=""), policy, _region(policy, region)), None)
    return _guest_view(get_cart(guest_cart(cart_token), region=region), cart_token)


def set_line(
    owner: CartOwner, change: LineChange, *, region: str | None = None, now: datetime | None = None
) -> CartView:
    """Set one line's quantity (absolute); 0 removes it. A line set to a quantity takes today's price.

    Raises ItemNotFoundError (404) for an unknown item or variant, ItemUnavailableError (409) for an item
    not on sale, OutOfStockError (422) when more units are asked for than are available (a soft check: stock
    is reserved only at checkout), CartFullError (422) beyond MAX_LINES lines, CartConflictError (409) when
    the cart kept changing under this request.
    """
    now = now or clock.now()
    policy = pricing_policy()
    tax_region = _region(policy, region)
    variant_id = change.variant_id or DEFAULT_VARIANT
    if change.quantity == 0:
        # Removing needs no item: an item withdrawn from sale must still be removable.
        cart = _mutate(owner, lambda row: _remove_line(row, change.item_id, variant_id), now)
        return _view(cart, owner, policy, tax_region)

    offer = _offer(change.item_id, variant_id)
    if offer.currency != cart_settings().currency:
        raise CurrencyMismatchError(details={"itemCurrency": offer.currency, "cartCurrency": cart_settings().currency})
    if change.quantity > offer.available:
        raise OutOfStockError(
            f"only {offer.available} unit(s) available",
            details={
                "itemId": offer.item_id,
                "variantId": offer.variant_id,
                "requested": change.quantity,
                "available": offer.available,
            },
        )
    line = Line(
        item_id=offer.item_id,
        variant_id=offer.variant_id,
        name=offer.name,
        quantity=change.quantity,
        unit_price=offer.unit_price,
        price_taken_at=now,
        low_stock=offer.available <= LOW_STOCK_THRESHOLD,
    )
    cart = _mutate(owner, lambda row: _put_line(row, line), now)
    return _view(cart, owner, policy, tax_region)


def set_guest_line(cart_token: str | None, change: LineChange, *, region: str | None = None) -> GuestCartView:
    """A guest's line change. Without a live cart (no token, or its cart expired) a new token is issued."""
    now = clock.now()
    if cart_token is None or _load(guest_cart(cart_token), now) is None:
        cart_token = new_cart_token()
    return _guest_view(set_line(guest_cart(cart_token), change, region=region, now=now), cart_token)


def empty_cart(owner: CartOwner, *, region: str | None = None) -> CartView:
    """Remove every line (DELETE /cart); an absent cart stays absent."""
    now = clock.now()
    policy = pricing_policy()
    tax_region = _region(policy, region)

    def empty(row: Cart) -> bool:
        changed = bool(row.lines)
        row.lines = []
        return changed

    return _view(_mutate_existing(owner, empty, now), owner, policy, tax_region)


def empty_guest_cart(cart_token: str | None, *, region: str | None = None) -> GuestCartView:
    if cart_token is None:
        return get_guest_cart(None, region=region)
    return _guest_view(empty_cart(guest_cart(cart_token), region=region), cart_token)


def merge_guest_cart(
    buyer: Caller, cart_token: str, *, region: str | None = None, now: datetime | None = None
) -> CartView:
    """Fold a guest cart into the buyer's cart after login; the guest cart is deleted in the same transaction.

    Quantities of a line in both carts are added; every merged line is capped by the stock available now
    and MAX_LINE_QUANTITY and takes today's price. Lines of items no longer on sale, out of stock, or beyond
    MAX_LINES are dropped. Merging again (or with an unknown token) changes nothing.
    """
    now = now or clock.now()
    policy = pricing_policy()
    tax_region = _region(policy, region)
    owner, guest_owner = buyer_cart(buyer), guest_cart(cart_token)
    for _ in range(WRITE_ATTEMPTS):
        guest = _load(guest_owner, now)
        if guest is None or not guest.lines:
            return get_cart(owner, region=region, now=now)
        guest_lines = [_line(row) for row in guest.lines]
        offers = _offers(line.key for line in guest_lines)
        cart = _load_for_write(owner, now) or _new_cart(owner)
        merged = merge_lines([_line(row) for row in cart.lines], guest_lines, offers, now=now)
        cart.lines = [_row(line) for line in merged]
        _stamp(cart, owner, now)
        try:
            with transaction() as writes:
                writes.save(cart)
                writes.delete(guest)
        except TransactWriteError as error:
            if not _lost_race(error):
                raise
            logger.info("cart merge lost a race; retrying", extra={"cartId": owner.cart_id})
            continue
        return _view(cart, owner, policy, tax_region)
    raise CartConflictError()


# ---------------------------------------------------------------- the rules, free of I/O
@dataclass(frozen=True)
class Line:
    item_id: str
    variant_id: str
    name: str
    quantity: int
    unit_price: int
    price_taken_at: datetime
    low_stock: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.item_id, self.variant_id)

    @property
    def total(self) -> int:
        return self.quantity * self.unit_price

    def stored(self) -> dict[str, Any]:
        """The line as the table keeps it and the API shows it (the snapshot time as ISO text)."""
        return {"item_id": self.item_id, "variant_id": self.variant_id, "name": self.name, "quantity": self.quantity,
                "unit_price": self.unit_price, "price_taken_at": clock.iso(self.price_taken_at),
                "low_stock": self.low_stock}  # fmt: skip


@dataclass(frozen=True)
class Offer:
    """An item variant as it is on sale now."""

    item_id: str
    variant_id: str
    name: str
    unit_price: int
    currency: str
    available: int


def cart_totals(lines: Iterable[Line], policy: PricingPolicy, region: str | None = None) -> Totals:
    return totals_for((line.total for line in lines), policy, region)


def reprice(
    lines: Sequence[Line], prices: Mapping[tuple[str, str], int], *, now: datetime, hold: timedelta
) -> list[Line]:
    """Lines past the hold window take today's price (and a new snapshot time); held lines keep theirs."""
    return [
        replace(line, unit_price=prices[line.key], price_taken_at=now)
        if not price_is_held(line.price_taken_at, now, hold) and line.key in prices
        else line
        for line in lines
    ]


def merge_lines(
    mine: Sequence[Line],
    guest: Sequence[Line],
    offers: Mapping[tuple[str, str], Offer | None],
    *,
    now: datetime,
    line_limit: int = MAX_LINE_QUANTITY,
    max_lines: int = MAX_LINES,
) -> list[Line]:
    """The user's lines with the guest's folded in (see merge_guest_cart); the user's own order is kept."""
    merged = {line.key: line for line in mine}
    for line in guest:
        offer = offers.get(line.key)
        if offer is None:
            continue
        held = merged.get(line.key)
        if held is None and len(merged) >= max_lines:
            continue
        wanted = line.quantity + (held.quantity if held else 0)
        quantity = capped_quantity(wanted, available=offer.available, line_limit=line_limit)
        if quantity == 0:
            continue
        merged[line.key] = Line(
            item_id=offer.item_id,
            variant_id=offer.variant_id,
            name=offer.name,
            quantity=quantity,
            unit_price=offer.unit_price,
            price_taken_at=now,
            low_stock=offer.available <= LOW_STOCK_THRESHOLD,
        )
    return list(merged.values())


def without_bought(lines: Sequence[Line], bought: Mapping[tuple[str, str], int]) -> list[Line]:
    """The lines left once the bought units are taken out: a line keeps what exceeds the order's quantity
    (units the buyer added after checking out), a line bought whole goes, a line not bought stays as it is."""
    left = []
    for line in lines:
        quantity = line.quantity - bought.get(line.key, 0)
        if quantity > 0:
            left.append(line if quantity == line.quantity else replace(line, quantity=quantity))
    return left


# ---------------------------------------------------------------- storage
def _load(owner: CartOwner, now: datetime) -> Cart | None:
    """The live cart row (strongly consistent); an expired row DynamoDB has not swept yet reads as absent."""
    cart = _read_row(owner)
    if cart is None or _is_expired(cart, now):
        return None
    return cart


def _load_for_write(owner: CartOwner, now: datetime) -> Cart | None:
    """The row to write over: an expired row keeps its version (so the write stays conditional) but no lines."""
    cart = _read_row(owner)
    if cart is not None and _is_expired(cart, now):
        cart.lines = []  # the settled orders stay: a late retried confirmation must still find its order there
    return cart


def _read_row(owner: CartOwner) -> Cart | None:
    return find(Cart, owner.cart_id)


def _is_expired(cart: Cart, now: datetime) -> bool:
    return cart.expires_at is not None and cart.expires_at <= now


def _new_cart(owner: CartOwner) -> Cart:
    return Cart(owner.cart_id, user_id=owner.user_id, currency=cart_settings().currency, lines=[])


def _stamp(cart: Cart, owner: CartOwner, now: datetime) -> None:
    settings = cart_settings()
    ttl = settings.guest_cart_ttl_seconds if owner.is_guest else settings.user_cart_ttl_seconds
    cart.updated_at = clock.iso(now)
    cart.expires_at = now + timedelta(seconds=ttl)


def _mutate(owner: CartOwner, change: Callable[[Cart], None], now: datetime) -> Cart:
    """Read, change and conditionally write the cart (creating it), re-applying the change after a lost race."""
    for _ in range(WRITE_ATTEMPTS):
        cart = _load_for_write(owner, now) or _new_cart(owner)
        change(cart)
        _stamp(cart, owner, now)
        try:
            cart.save()  # conditional on the version read (or on the row not existing)
        except PutError as error:
            if not _lost_race(error):
                raise
            logger.info("cart write lost a race; retrying", extra={"cartId": owner.cart_id})
            continue
        return cart
    raise CartConflictError()


def _mutate_existing(owner: CartOwner, change: Callable[[Cart], bool], now: datetime) -> Cart | None:
    """Like _mutate for changes that never create a cart; change returns False when there is nothing to write."""
    for _ in range(WRITE_ATTEMPTS):
        cart = _load_for_write(owner, now)
        if cart is None or not change(cart):
            return cart
        _stamp(cart, owner, now)
        try:
            cart.save()
        except PutError as error:
            if not _lost_race(error):
                raise
            continue
        return cart
    raise CartConflictError()


def _lost_race(error: PutError | TransactWriteError) -> bool:
    if isinstance(error, TransactWriteError):
        cancelled = cancellation(error)
        return bool(cancelled.failed) or cancelled.busy
    return condition_failed(error)


def _put_line(cart: Cart, line: Line) -> None:
    rows = list(cart.lines)
    for index, row in enumerate(rows):
        if (row.item_id, row.variant_id) == line.key:
            rows[index] = _row(line)
            break
    else:
        if len(rows) >= MAX_LINES:
            raise CartFullError(details={"maxLines": MAX_LINES})
        rows.append(_row(line))
    cart.lines = rows


def _remove_line(cart: Cart, item_id: str, variant_id: str) -> None:
    cart.lines = [row for row in cart.lines if (row.item_id, row.variant_id) != (item_id, variant_id)]


def _apply_prices(cart: Cart, prices: Mapping[tuple[str, str], int], now: datetime, hold: timedelta) -> None:
    cart.lines = [_row(line) for line in reprice([_line(row) for row in cart.lines], prices, now=now, hold=hold)]


def _line(row: CartLine) -> Line:
    return Line(
        item_id=row.item_id,
        variant_id=row.variant_id,
        name=row.name,
        quantity=int(row.quantity),
        unit_price=int(row.unit_price),
        price_taken_at=clock.parse_iso(row.price_taken_at),
        low_stock=bool(row.low_stock),
    )


def _row(line: Line) -> CartLine:
    return CartLine(**line.stored())  # type: ignore[no-untyped-call]  # pynamodb leaves MapAttribute.__init__ untyped


# ---------------------------------------------------------------- items on sale
# Two pools: an offer (on _OFFERS) waits for its stock read (on _STOCK_READS). Were they one pool, offers of
# more lines than it has threads would hold every thread while their stock reads queue behind them: a merge
# or a checkout of five lines or more hung until the function's timeout.
_OFFERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cart-offer")
_STOCK_READS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cart-stock")


def _offer(item_id: str, variant_id: str) -> Offer:
    """The variant as on sale now; raises ItemNotFoundError / ItemUnavailableError / ValidationFailedError."""
    if not is_id(item_id, ITEM_ID_PREFIX):
        raise ItemNotFoundError(details={"itemId": item_id})
    # Independent reads, overlapped: one round trip of latency on the add-to-cart path.
    stock = _STOCK_READS.submit(available_units, item_id, variant_id)
    item = load_item(item_id)
    if item.status != "ACTIVE":
        raise ItemUnavailableError(details={"itemId": item_id, "status": item.status})
    name, price = item.name, int(item.price)
    if item.variants:
        if variant_id == DEFAULT_VARIANT:
            raise ValidationFailedError.of_field("variantId", "this item has variants; choose one", "missing")
        variant = next((v for v in item.variants if v.variant_id == variant_id), None)
        if variant is None:
            raise _no_such_variant(item_id, variant_id)
        price = int(variant.price)
        facts = [str(value) for value in variant.attributes.attribute_values.values()]
        name = f"{item.name} ({', '.join(facts) if facts else variant_id})"
    elif variant_id != DEFAULT_VARIANT:
        raise _no_such_variant(item_id, variant_id)
    return Offer(item_id, variant_id, name, price, item.currency, stock.result())


def _no_such_variant(item_id: str, variant_id: str) -> ItemNotFoundError:
    return ItemNotFoundError("no such variant of this item", details={"itemId": item_id, "variantId": variant_id})


def _offers(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Offer | None]:
    """Today's offer per line key, or None for what can no longer be bought (unknown, withdrawn, variant gone)."""

    def offer_or_none(key: tuple[str, str]) -> Offer | None:
        try:
            return _offer(*key)
        except (ItemNotFoundError, ItemUnavailableError, ValidationFailedError):
            return None

    unique = list(dict.fromkeys(keys))
    return dict(zip(unique, _OFFERS.map(offer_or_none, unique), strict=True))


# ---------------------------------------------------------------- views and policy
def pricing_policy() -> PricingPolicy:
    settings = cart_settings()
    return PricingPolicy(
        tax_rates_bps=settings.tax_rates_bps,
        default_region=settings.default_tax_region,
        shipping_flat_fee=settings.shipping_flat_fee,
        free_shipping_threshold=settings.free_shipping_threshold,
        price_hold=timedelta(seconds=settings.price_hold_seconds),
    )


def _region(policy: PricingPolicy, region: str | None) -> str:
    try:
        return _region_of(policy, region)
    except UnknownRegionError:
        known = ", ".join(sorted(policy.tax_rates_bps))
        message = f"no tax rate for region {region!r}; known: {known}"
        raise ValidationFailedError.of_field("region", message, "unknown_region") from None


def _view(cart: Cart | None, owner: CartOwner, policy: PricingPolicy, region: str) -> CartView:
    lines = [_line(row) for row in cart.lines] if cart is not None else []
    totals = cart_totals(lines, policy, region)
    return CartView(
        cart_id=owner.cart_id or None,
        lines=[CartLineView(**line.stored(), line_total=line.total) for line in lines],
        totals=TotalsView(subtotal=totals.subtotal, tax=totals.tax, shipping=totals.shipping, total=totals.total),
        currency=cart.currency if cart is not None else cart_settings().currency,
        region=region,
    )


def _guest_view(view: CartView, cart_token: str | None) -> GuestCartView:
    values: dict[str, Any] = dict(view)
    return GuestCartView(**values, cart_token=cart_token)
