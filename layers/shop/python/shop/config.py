"""Every environment variable the shop reads, in one place.

template.yaml sets these per function (Globals for the tables, the function's own Environment for the
rest). AWS endpoints and credentials are not here on purpose: boto3 and pynamodb resolve them the standard
way (AWS_REGION, AWS_ENDPOINT_URL_<SERVICE>, ...), which is what points them at the local cloud.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache


class ConfigurationError(RuntimeError):
    """The function's environment lacks a variable it needs (a deployment bug, never a client error)."""


@dataclass(frozen=True)
class Settings:
    items_table: str
    inventory_table: str
    idempotency_table: str
    idempotency_ttl_seconds: int
    # Only the users function is given the user pool.
    user_pool_id: str | None
    user_pool_client_id: str | None


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read the settings from an environment mapping; raises ConfigurationError naming what is missing."""
    required = ("ITEMS_TABLE", "INVENTORY_TABLE", "IDEMPOTENCY_TABLE", "IDEMPOTENCY_TTL_SECONDS")
    missing = [name for name in required if not environ.get(name)]
    if missing:
        raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")
    ttl = environ["IDEMPOTENCY_TTL_SECONDS"]
    if not ttl.isdigit() or int(ttl) == 0:
        raise ConfigurationError(f"IDEMPOTENCY_TTL_SECONDS must be a positive integer, got {ttl!r}")
    return Settings(
        items_table=environ["ITEMS_TABLE"],
        inventory_table=environ["INVENTORY_TABLE"],
        idempotency_table=environ["IDEMPOTENCY_TABLE"],
        idempotency_ttl_seconds=int(ttl),
        user_pool_id=environ.get("USER_POOL_ID") or None,
        user_pool_client_id=environ.get("USER_POOL_CLIENT_ID") or None,
    )


@cache
def settings() -> Settings:
    """The settings of this process, read once (tests that change the environment call cache_clear())."""
    return load_settings(os.environ)


def require_verified_seller_email(environ: Mapping[str, str] | None = None) -> bool:
    """REQUIRE_VERIFIED_SELLER_EMAIL ("true"/"false", default false): whether a seller must have verified
    their email address before listing (template parameter RequireVerifiedSellerEmail; on in prod)."""
    text = (os.environ if environ is None else environ).get("REQUIRE_VERIFIED_SELLER_EMAIL") or "false"
    if text.lower() not in ("true", "false"):
        raise ConfigurationError(f"REQUIRE_VERIFIED_SELLER_EMAIL must be true or false, got {text!r}")
    return text.lower() == "true"


# ---------------------------------------------------------------- profiles and addresses (shop.accounts)
@dataclass(frozen=True)
class AccountSettings:
    # Given to the functions that read or write profiles: users, cart, checkout.
    profiles_table: str | None


@cache
def account_settings() -> AccountSettings:
    return AccountSettings(profiles_table=os.environ.get("PROFILES_TABLE") or None)


# ---------------------------------------------------------------- cart and pricing (shop.cart)
@dataclass(frozen=True)
class CartSettings:
    carts_table: str
    guest_cart_ttl_seconds: int
    user_cart_ttl_seconds: int
    price_hold_seconds: int
    tax_rates_bps: Mapping[str, int]  # shipping region -> tax in basis points (825 = 8.25 %)
    default_tax_region: str
    shipping_flat_fee: int  # minor units
    free_shipping_threshold: int  # minor units: a subtotal at or above it ships free
    currency: str


def load_cart_settings(environ: Mapping[str, str]) -> CartSettings:
    """The cart's settings; only CARTS_TABLE is required, the policy values have documented defaults."""
    import json

    if not environ.get("CARTS_TABLE"):
        raise ConfigurationError("missing environment variables: CARTS_TABLE")

    def number(name: str, default: int, *, positive: bool = False) -> int:
        text = environ.get(name) or str(default)
        if not text.isdigit() or (positive and int(text) == 0):
            raise ConfigurationError(f"{name} must be a {'positive' if positive else 'non-negative'} integer")
        return int(text)

    try:
        rates = json.loads(environ.get("TAX_RATES_BPS") or '{"US": 0}')
    except ValueError as error:
        raise ConfigurationError(f"TAX_RATES_BPS is not JSON: {error}") from None
    if not isinstance(rates, dict) or not all(
        isinstance(bps, int) and not isinstance(bps, bool) and 0 <= bps <= 10_000 for bps in rates.values()
    ):
        raise ConfigurationError("TAX_RATES_BPS must map regions to integer basis points between 0 and 10000")
    region = environ.get("DEFAULT_TAX_REGION") or "US"
    if region not in rates:
        raise ConfigurationError(f"DEFAULT_TAX_REGION {region!r} has no rate in TAX_RATES_BPS")
    return CartSettings(
        carts_table=environ["CARTS_TABLE"],
        guest_cart_ttl_seconds=number("GUEST_CART_TTL_SECONDS", 86_400, positive=True),
        user_cart_ttl_seconds=number("USER_CART_TTL_SECONDS", 2_592_000, positive=True),
        price_hold_seconds=number("PRICE_HOLD_SECONDS", 1_800),
        tax_rates_bps={str(name).upper(): int(bps) for name, bps in rates.items()},
        default_tax_region=region.upper(),
        shipping_flat_fee=number("SHIPPING_FLAT_FEE", 499),
        free_shipping_threshold=number("FREE_SHIPPING_THRESHOLD", 5_000),
        currency=(environ.get("CART_CURRENCY") or "USD").upper(),
    )


@cache
def cart_settings() -> CartSettings:
    """The cart settings of this process, read once (tests that change the environment call cache_clear())."""
    return load_cart_settings(os.environ)


# ---------------------------------------------------------------- checkout, orders, payments
@dataclass(frozen=True)
class CheckoutSettings:
    orders_table: str
    payments_table: str
    # The local payment provider's ledger (its own records, shared by every worker); only the functions that
    # call the provider are given it.
    provider_ledger_table: str | None
    state_machine_arn: str | None  # only the checkout function starts executions
    payment_window_seconds: int
    fulfilment_delay_seconds: int
    event_bus_name: str | None
    # Test-only behaviour of the local payment provider (a card that kills its worker once); never in prod.
    payment_test_hooks: bool
    fraud_max_amount: int
    fraud_velocity_limit: int  # payment attempts per user ...
    fraud_velocity_window_seconds: int  # ... within this window
    fraud_blocked_fingerprints: frozenset[str]
    # The Secrets Manager secret whose value keys the checkout's HMACs (request fingerprints, order ids).
    checkout_key_secret_arn: str | None
    # The payment reconciler leaves younger payments alone: a saga, a cancel or an expiry may hold them.
    reconcile_older_than_seconds: int
    # A finished order is archived to S3 (the TTL service deletes its row) this long after it ended.
    archive_after_seconds: int
    order_archive_bucket: str | None  # only the functions that read or write the archive are given it


def load_checkout_settings(environ: Mapping[str, str]) -> CheckoutSettings:
    missing = [name for name in ("ORDERS_TABLE", "PAYMENTS_TABLE") if not environ.get(name)]
    if missing:
        raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")
    return CheckoutSettings(
        orders_table=environ["ORDERS_TABLE"],
        payments_table=environ["PAYMENTS_TABLE"],
        provider_ledger_table=environ.get("PROVIDER_LEDGER_TABLE") or None,
        state_machine_arn=environ.get("CHECKOUT_STATE_MACHINE_ARN") or None,
        payment_window_seconds=int(environ.get("PAYMENT_WINDOW_SECONDS") or 300),
        fulfilment_delay_seconds=int(environ.get("FULFILMENT_DELAY_SECONDS") or 60),
        event_bus_name=environ.get("EVENT_BUS_NAME") or None,
        # The template already keeps the hooks out of prod; the code refuses them there too, should a hand-set
        # variable ever say otherwise.
        payment_test_hooks=environ.get("PAYMENT_TEST_HOOKS", "false").lower() == "true"
        and environ.get("STAGE") != "prod",
        fraud_max_amount=int(environ.get("FRAUD_MAX_AMOUNT") or 1_000_000),
        fraud_velocity_limit=int(environ.get("FRAUD_VELOCITY_LIMIT") or 10),
        fraud_velocity_window_seconds=int(environ.get("FRAUD_VELOCITY_WINDOW_SECONDS") or 600),
        fraud_blocked_fingerprints=frozenset(
            part.strip()
            for part in (environ.get("FRAUD_BLOCKED_FINGERPRINTS") or "local-0341").split(",")
            if part.strip()
        ),
        checkout_key_secret_arn=environ.get("CHECKOUT_KEY_SECRET_ARN") or None,
        reconcile_older_than_seconds=int(environ.get("RECONCILE_OLDER_THAN_SECONDS") or 120),
        archive_after_seconds=int(environ.get("ARCHIVE_AFTER_SECONDS") or 365 * 24 * 3600),
        order_archive_bucket=environ.get("ORDER_ARCHIVE_BUCKET") or None,
    )


@cache
def checkout_settings() -> CheckoutSettings:
    return load_checkout_settings(os.environ)


def payment_provider_faults() -> str:
    """PAYMENT_PROVIDER_FAULTS (e.g. "fail=0.05,timeout=0.02,slow=0.1"): the faults the local payment
    provider injects, parsed by shop.payments.provider. Read on every call, unlike every other setting, so
    the local cloud's fault injection can turn faults on and off in a running worker; absent on AWS."""
    return os.environ.get("PAYMENT_PROVIDER_FAULTS", "")


# ---------------------------------------------------------------- catalog onboarding and imports (shop.catalog)
@dataclass(frozen=True)
class CatalogSettings:
    # Each is None where the template does not give it to the function; the code that needs one says so.
    sku_claims_table: str | None
    imports_table: str | None
    imports_bucket: str | None


def load_catalog_settings(environ: Mapping[str, str]) -> CatalogSettings:
    return CatalogSettings(
        sku_claims_table=environ.get("SKU_CLAIMS_TABLE") or None,
        imports_table=environ.get("IMPORTS_TABLE") or None,
        imports_bucket=environ.get("IMPORTS_BUCKET") or None,
    )


@cache
def catalog_settings() -> CatalogSettings:
    return load_catalog_settings(os.environ)


def required(value: str | None, name: str) -> str:
    """A setting this code path cannot do without; its absence is a deployment bug."""
    if not value:
        raise ConfigurationError(f"missing environment variable: {name}")
    return value


# ---------------------------------------------------------------- item images (shop.catalog.images)
@dataclass(frozen=True)
class MediaSettings:
    bucket: str
    cdn_base_url: str  # renditions are served at <cdn_base_url>/<key>: CloudFront on AWS, the S3 endpoint locally
    max_upload_bytes: int
    max_pixels: int  # width x height of an upload; larger ones are refused before they are decoded
    max_images_per_item: int  # PENDING and READY images together
    upload_expires_seconds: int  # how long a presigned upload stays usable


def load_media_settings(environ: Mapping[str, str]) -> MediaSettings:
    """The media pipeline's settings: MEDIA_BUCKET and MEDIA_CDN_BASE_URL are required, limits have defaults."""
    missing = [name for name in ("MEDIA_BUCKET", "MEDIA_CDN_BASE_URL") if not environ.get(name)]
    if missing:
        raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")

    def positive(name: str, default: int) -> int:
        text = environ.get(name) or str(default)
        if not text.isdigit() or int(text) == 0:
            raise ConfigurationError(f"{name} must be a positive integer, got {text!r}")
        return int(text)

    return MediaSettings(
        bucket=environ["MEDIA_BUCKET"],
        cdn_base_url=environ["MEDIA_CDN_BASE_URL"].rstrip("/"),
        max_upload_bytes=positive("MEDIA_MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
        max_pixels=positive("MEDIA_MAX_PIXELS", 50_000_000),
        max_images_per_item=positive("MEDIA_MAX_IMAGES_PER_ITEM", 10),
        upload_expires_seconds=positive("MEDIA_UPLOAD_EXPIRES_SECONDS", 900),
    )


@cache
def media_settings() -> MediaSettings:
    """The media settings of this process, read once (tests that change the environment call cache_clear())."""
    return load_media_settings(os.environ)


def event_bus_name() -> str:
    """The stack's EventBridge bus (Globals: EVENT_BUS_NAME), where domain events are published."""
    name = os.environ.get("EVENT_BUS_NAME")
    if not name:
        raise ConfigurationError("missing environment variables: EVENT_BUS_NAME")
    return name


# ---------------------------------------------------------------- wishlist and notifications
@dataclass(frozen=True)
class NotifySettings:
    # Each is None where the template does not give it to the function; the code that needs one says so.
    wishlist_table: str | None
    notifications_table: str | None
    # The verified SES identity notification emails come from (template parameter NotificationEmailSource).
    email_source: str | None
    wishlist_max_items: int
    # Days a notification is kept once read (template parameter ReadNotificationRetentionDays; TTL deletes it).
    read_retention_days: int


def load_notify_settings(environ: Mapping[str, str]) -> NotifySettings:
    limit = environ.get("WISHLIST_MAX_ITEMS") or "100"
    if not limit.isdigit() or int(limit) == 0:
        raise ConfigurationError(f"WISHLIST_MAX_ITEMS must be a positive integer, got {limit!r}")
    retention = environ.get("READ_NOTIFICATION_RETENTION_DAYS") or "90"
    if not retention.isdigit() or int(retention) == 0:
        raise ConfigurationError(f"READ_NOTIFICATION_RETENTION_DAYS must be a positive integer, got {retention!r}")
    return NotifySettings(
        wishlist_table=environ.get("WISHLIST_TABLE") or None,
        notifications_table=environ.get("NOTIFICATIONS_TABLE") or None,
        email_source=environ.get("NOTIFICATION_EMAIL_SOURCE") or None,
        wishlist_max_items=int(limit),
        read_retention_days=int(retention),
    )


@cache
def notify_settings() -> NotifySettings:
    return load_notify_settings(os.environ)


# ---------------------------------------------------------------- recommendations (shop.recommendations)
@dataclass(frozen=True)
class RecommendationSettings:
    # Each is None where the template does not give it to the function; the code that needs one says so.
    lake_bucket: str | None  # the behaviour lake (the lake writer, the job)
    recommendations_table: str | None  # the versioned recommendations and the serving pointer


@cache
def recommendation_settings() -> RecommendationSettings:
    return RecommendationSettings(
        lake_bucket=os.environ.get("BEHAVIOUR_LAKE_BUCKET") or None,
        recommendations_table=os.environ.get("RECOMMENDATIONS_TABLE") or None,
    )
