"""Profiles and address books (the Profiles table), and the address that decides a buyer's tax and shipping.

ProfilesTable holds, per user (pk userId, sk kind):
- "PROFILE": phone, defaultAddressId, addressCount and status (ACTIVE; DELETING then DELETED once DELETE /me
  runs, see shop.accounts.deletion). The name and email stay in the user pool, their one home.
- "ADDRESS#<addressId>": one shipping address.

One attribute, defaultAddressId, names the default, so there is never more than one; every write that adds
or removes an address updates the profile row in the same transaction, so the first address becomes the
default, deleting the default promotes the oldest remaining one, and addressCount bounds the book
(MAX_ADDRESSES). Every write is conditional on the profile not being deleted: a token that outlives its
account (DELETE /me) cannot write personal data back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from shop import clock, ids
from shop.accounts.addresses import ShippingCountryNotServed, check_address, phone_problem, tax_region_of
from shop.accounts.schemas import AddressBook, AddressChange, AddressView, NewAddress
from shop.config import account_settings, cart_settings
from shop.dynamodb import TableName, cancellation, condition_failed, find, transaction
from shop.errors import (
    AccountDeletedError,
    AddressNotFoundError,
    DefaultAddressRequiredError,
    ProfileChangedError,
    ShippingCountryNotServedError,
    TooManyAddressesError,
    ValidationFailedError,
)

MAX_ADDRESSES = 20  # enough for home, work, family and gift addresses; one Query reads the whole book
PROFILE = "PROFILE"
ADDRESS_PREFIX = "ADDRESS#"
ADDRESS_ID_PREFIX = "adr"
ACTIVE, DELETING, DELETED = "ACTIVE", "DELETING", "DELETED"
# What an address row stores besides its keys (camelCase, like the API).
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "region", "postalCode", "country", "phone")


class ProfileRow(Model):
    class Meta:
        table_name = TableName(account_settings, "profiles_table")

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True, default=PROFILE)
    status = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    default_address_id = UnicodeAttribute(attr_name="defaultAddressId", null=True)
    address_count = NumberAttribute(attr_name="addressCount", null=True)
    created_at = UnicodeAttribute(attr_name="createdAt", null=True)
    updated_at = UnicodeAttribute(attr_name="updatedAt", null=True)
    expires_at = NumberAttribute(attr_name="expiresAt", null=True)  # a deleted account's tombstone only


class AddressRow(Model):
    class Meta:
        table_name = TableName(account_settings, "profiles_table")

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True)
    address_id = UnicodeAttribute(attr_name="addressId")
    name = UnicodeAttribute()
    line1 = UnicodeAttribute()
    line2 = UnicodeAttribute(null=True)
    city = UnicodeAttribute()
    region = UnicodeAttribute(null=True)
    postal_code = UnicodeAttribute(attr_name="postalCode")
    country = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")

    def fields(self) -> dict[str, Any]:
        return {"name": self.name, "line1": self.line1, "line2": self.line2, "city": self.city,
                "region": self.region, "postalCode": self.postal_code, "country": self.country,
                "phone": self.phone}  # fmt: skip


def _address_key(address_id: str) -> str:
    return f"{ADDRESS_PREFIX}{address_id}"


def _not_deleted() -> Condition:
    not_deleted: Condition = ProfileRow.status.does_not_exist() | (ProfileRow.status == ACTIVE)
    return not_deleted


def _tax_rates() -> Mapping[str, int]:
    return cart_settings().tax_rates_bps


# ---------------------------------------------------------------- profile
def load_profile(user_id: str) -> ProfileRow:
    """The user's profile row (an empty one when they never wrote any); 401 ACCOUNT_DELETED after DELETE /me."""
    row = find(ProfileRow, user_id, PROFILE) or ProfileRow(user_id, PROFILE)
    if row.status in (DELETING, DELETED):
        raise AccountDeletedError()
    return row


def set_phone(user_id: str, phone: str | None) -> ProfileRow:
    """Store (or, with None, remove) the profile's phone number, in E.164."""
    if phone is not None:
        phone, wrong = phone_problem(None, phone)
        if wrong is not None:
            raise ValidationFailedError(details={"fields": [wrong.entry()]})
    now = clock.now_iso()
    row = ProfileRow(user_id, PROFILE)
    actions: list[Action] = [
        ProfileRow.phone.set(phone) if phone else ProfileRow.phone.remove(), ProfileRow.updated_at.set(now),
        ProfileRow.created_at.set(ProfileRow.created_at | now), ProfileRow.status.set(ProfileRow.status | ACTIVE),
    ]  # fmt: skip
    try:
        row.update(actions=actions, condition=_not_deleted())
    except UpdateError as error:
        if condition_failed(error):
            raise AccountDeletedError() from error
        raise
    return row


# ---------------------------------------------------------------- address book
def address_book(user_id: str) -> AddressBook:
    profile = load_profile(user_id)
    rows = list(AddressRow.query(user_id, AddressRow.sk.startswith(ADDRESS_PREFIX), consistent_read=True))
    rows.sort(key=lambda row: str(row.address_id))  # ids sort by creation time: oldest first
    return AddressBook(
        addresses=[_view(row, profile.default_address_id) for row in rows],
        default_address_id=profile.default_address_id,
        max_addresses=MAX_ADDRESSES,
    )


def get_address(user_id: str, address_id: str) -> AddressView:
    profile = load_profile(user_id)
    return _view(_load_address(user_id, address_id), profile.default_address_id)


def _load_address(user_id: str, address_id: str) -> AddressRow:
    row = find(AddressRow, user_id, _address_key(address_id)) if ids.is_id(address_id, ADDRESS_ID_PREFIX) else None
    if row is None:
        raise AddressNotFoundError(details={"addressId": address_id})
    return row


def _view(row: AddressRow, default_address_id: str | None) -> AddressView:
    try:
        tax_region: str | None = tax_region_of(row.country, row.region, _tax_rates())
    except ShippingCountryNotServed:
        tax_region = None
    return AddressView(
        address_id=row.address_id, **_snake(row.fields()), default=row.address_id == default_address_id,
        tax_region=tax_region, created_at=row.created_at, updated_at=row.updated_at,
    )  # fmt: skip


def _snake(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {("postal_code" if name == "postalCode" else name): value for name, value in fields.items()}


def add_address(user_id: str, new: NewAddress) -> AddressView:
    """Add an address (409 TOO_MANY_ADDRESSES beyond MAX_ADDRESSES); the first one, or one sent with
    `default: true`, becomes the default."""
    fields = check_address(new.model_dump(by_alias=True, exclude={"default"}), _tax_rates())
    now = clock.now_iso()
    address_id = ids.new_id(ADDRESS_ID_PREFIX)
    row = AddressRow(user_id, _address_key(address_id), address_id=address_id, created_at=now, updated_at=now,
                     **_snake(fields))  # fmt: skip
    default = ProfileRow.default_address_id
    actions: list[Action] = [
        ProfileRow.address_count.add(1),
        default.set(address_id) if new.default else default.set(default | address_id),  # if_not_exists: the first
        ProfileRow.status.set(ProfileRow.status | ACTIVE), ProfileRow.created_at.set(ProfileRow.created_at | now),
        ProfileRow.updated_at.set(now),
    ]  # fmt: skip
    room = ProfileRow.address_count.does_not_exist() | (ProfileRow.address_count < MAX_ADDRESSES)
    try:
        with transaction() as writes:
            writes.save(row, condition=AddressRow.sk.does_not_exist())
            writes.update(ProfileRow(user_id, PROFILE), actions, condition=_not_deleted() & room)
    except TransactWriteError as error:
        if 1 not in cancellation(error).failed:
            raise
        load_profile(user_id)  # 401 ACCOUNT_DELETED if that is why
        raise TooManyAddressesError(details={"maxAddresses": MAX_ADDRESSES}) from error
    return _view(row, address_id if new.default else load_profile(user_id).default_address_id)


def change_address(user_id: str, address_id: str, change: AddressChange) -> AddressView:
    """Replace the fields sent, check the whole address again, and make it the default if asked."""
    row = _load_address(user_id, address_id)
    profile = load_profile(user_id)
    sent = change.model_dump(by_alias=True, include=change.model_fields_set)
    make_default = sent.pop("default", None)
    if make_default is False and profile.default_address_id == address_id:
        raise DefaultAddressRequiredError(details={"addressId": address_id})
    required = {"name", "line1", "city", "postalCode", "country"}
    cleared = sorted(name for name, value in sent.items() if value is None and name in required)
    if cleared:
        entries = [{"field": name, "message": "Field required: it cannot be cleared", "type": "missing"}
                   for name in cleared]  # fmt: skip
        raise ValidationFailedError(details={"fields": entries})
    fields = check_address({**row.fields(), **sent}, _tax_rates())
    now = clock.now_iso()
    updated = AddressRow(user_id, row.sk, address_id=address_id, created_at=row.created_at, updated_at=now,
                         **_snake(fields))  # fmt: skip
    try:
        with transaction() as writes:
            writes.save(updated, condition=AddressRow.sk.exists())
            profile_actions: list[Action] = [ProfileRow.updated_at.set(now)]
            if make_default:
                profile_actions.append(ProfileRow.default_address_id.set(address_id))
            writes.update(ProfileRow(user_id, PROFILE), profile_actions, condition=_not_deleted())
    except TransactWriteError as error:
        failed = cancellation(error).failed
        if 0 in failed:
            raise AddressNotFoundError(details={"addressId": address_id}) from error
        if 1 in failed:
            raise AccountDeletedError() from error
        raise
    return _view(updated, address_id if make_default else profile.default_address_id)


def delete_address(user_id: str, address_id: str) -> None:
    """Delete an address; when it was the default, the oldest remaining one becomes the default."""
    _load_address(user_id, address_id)
    profile = load_profile(user_id)
    now = clock.now_iso()
    actions: list[Action] = [ProfileRow.address_count.add(-1), ProfileRow.updated_at.set(now)]
    default = ProfileRow.default_address_id
    if profile.default_address_id == address_id:
        book = AddressRow.query(user_id, AddressRow.sk.startswith(ADDRESS_PREFIX), consistent_read=True)
        others = sorted(str(row.address_id) for row in book if row.address_id != address_id)
        actions.append(default.set(others[0]) if others else default.remove())
    # The default must still be the one read: a concurrent change of the default makes the client try again.
    unchanged = (default == profile.default_address_id) if profile.default_address_id else default.does_not_exist()
    try:
        with transaction() as writes:
            writes.delete(AddressRow(user_id, _address_key(address_id)), condition=AddressRow.sk.exists())
            writes.update(ProfileRow(user_id, PROFILE), actions, condition=_not_deleted() & unchanged)
    except TransactWriteError as error:
        failed = cancellation(error).failed
        if 0 in failed:
            raise AddressNotFoundError(details={"addressId": address_id}) from error
        if 1 in failed:
            load_profile(user_id)  # 401 ACCOUNT_DELETED if that is why
            raise ProfileChangedError() from error
        raise


# ---------------------------------------------------------------- the address that decides tax and shipping
@dataclass(frozen=True)
class Shipping:
    """Where a signed-in buyer's order ships: the tax region to price with (None: the configured default)
    and the default address as the order keeps a copy of it (None: the buyer has no address)."""

    region: str | None
    address: dict[str, Any] | None


def shipping_for(user_id: str, region: str | None = None) -> Shipping:
    """The buyer's default address decides the tax region; without one, `region` (or the default) does.

    With a default address, a `region` that disagrees with it is refused (422 naming `region`): the cart
    must show the total that checkout, which prices by the address, will charge. A deleted account (DELETE /me)
    is 401 ACCOUNT_DELETED: an order placed after its deletion would hold what the deletion erased."""
    profile = find(ProfileRow, user_id, PROFILE)
    if profile is not None and profile.status in (DELETING, DELETED):
        raise AccountDeletedError()  # no cart or order for a deleted account, however long its token lives
    if profile is None or not profile.default_address_id:
        return Shipping(region=region, address=None)
    row = find(AddressRow, user_id, _address_key(profile.default_address_id))
    if row is None:
        return Shipping(region=region, address=None)
    try:
        tax_region = tax_region_of(row.country, row.region, _tax_rates())
    except ShippingCountryNotServed:
        served = sorted({name.split("-", 1)[0] for name in _tax_rates()})
        raise ShippingCountryNotServedError(
            details={"addressId": row.address_id, "country": row.country, "servedCountries": served}
        ) from None
    if region and region.strip().upper() != tax_region:
        raise ValidationFailedError.of_field(
            "region", f"your default address ships at tax region {tax_region}; change the default address instead",
            "region_conflicts_with_address",
        )  # fmt: skip
    copy = {name: value for name, value in row.fields().items() if value is not None}
    return Shipping(region=tax_region, address={"addressId": row.address_id, **copy, "taxRegion": tax_region})
