"""GET, PATCH and DELETE /me: the signed-in user's account (user pool) and profile (Profiles table) as one.

Deleting an account (DELETE /me) removes the personal data this context holds and keeps the orders for the
books without it, in an order that a retry can always finish:
1. the profile row becomes DELETING (phone and address pointers removed, a tombstone TTL set): from then on
   no write of the profile or the address book succeeds, whatever token it comes with;
2. the address rows are deleted;
3. the caller's orders are anonymised (shop.orders.personal_data);
4. the user is deleted from the user pool (name, email, password): sign-in fails from here on;
5. the profile row becomes DELETED, which the Profiles stream announces as AccountDeleted {userId}
   (shop.accounts.events), so that the other contexts erase what they hold of the user.
A request cut off half-way answers an error; the same DELETE /me (the access token stays valid for its
lifetime at the gateway even once the user is gone) carries on from where it stopped.
"""

from __future__ import annotations

import time

from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from shop import aws, clock
from shop.accounts import profiles
from shop.accounts.profiles import DELETED, DELETING, PROFILE, AddressRow, ProfileRow
from shop.accounts.schemas import ProfileChange, ProfileView
from shop.accounts.user_pool import _access_token_required, _attributes, _raise_translated, _user_pool
from shop.dynamodb import condition_failed, find
from shop.errors import UnauthorizedError, ValidationFailedError
from shop.identity import Caller
from shop.orders.personal_data import anonymise_orders_of

# How long a deleted account's tombstone (user id and dates only) refuses writes: far longer than an access
# token lives (60 minutes), after which the gateway refuses the token itself.
TOMBSTONE_SECONDS = 7 * 86_400


def me(caller: Caller, access_token: str) -> ProfileView:
    profile = profiles.load_profile(caller.user_id)
    attributes = _attributes(access_token)
    return ProfileView(
        user_id=caller.user_id,
        email=attributes.get("email", caller.email or ""),
        name=attributes.get("name"),
        role=caller.role,
        email_verified=attributes.get("email_verified") == "true",
        phone=profile.phone,
        default_address_id=profile.default_address_id,
    )


def change_me(caller: Caller, access_token: str, change: ProfileChange) -> ProfileView:
    """Change the name (a user pool attribute, changed with the user's own token) and the phone number."""
    profiles.load_profile(caller.user_id)
    if "name" in change.model_fields_set and change.name is None:
        raise ValidationFailedError.of_field("name", "Field required: the name can be changed, not removed", "missing")
    if change.name is not None:
        try:
            aws.cognito().update_user_attributes(
                AccessToken=access_token, UserAttributes=[{"Name": "name", "Value": change.name}]
            )
        except ClientError as error:
            _raise_translated(error, {"NotAuthorizedException": _access_token_required()})
    if "phone" in change.model_fields_set:
        profiles.set_phone(caller.user_id, change.phone)
    return me(caller, access_token)


def delete_me(caller: Caller, access_token: str) -> None:
    """Delete the account and its personal data; the orders stay, anonymised. Idempotent (see the module)."""
    user_id = caller.user_id
    profile = find(ProfileRow, user_id, PROFILE)
    if profile is not None and profile.status == DELETED:
        return
    resuming = profile is not None and profile.status == DELETING
    try:
        email: str | None = _attributes(access_token).get("email")
    except UnauthorizedError:
        # The pool refuses the token once the user is gone: only a deletion under way may carry on without it.
        if not resuming:
            raise
        email = None
    if not _mark(user_id, DELETING):
        return
    for row in AddressRow.query(user_id, AddressRow.sk.startswith(profiles.ADDRESS_PREFIX), consistent_read=True):
        row.delete()
    anonymise_orders_of(user_id)
    if email:
        _delete_pool_user(email)
    _mark(user_id, DELETED)


def _mark(user_id: str, status: str) -> bool:
    """Move the profile row to DELETING (dropping its personal fields) or from DELETING to DELETED; False when
    a concurrent DELETE /me finished first."""
    now = clock.now_iso()
    actions: list[Action] = [ProfileRow.status.set(status), ProfileRow.updated_at.set(now)]
    if status == DELETING:
        actions += [ProfileRow.phone.remove(), ProfileRow.default_address_id.remove(),
                    ProfileRow.address_count.remove(), ProfileRow.created_at.set(ProfileRow.created_at | now),
                    ProfileRow.expires_at.set(int(time.time()) + TOMBSTONE_SECONDS)]  # fmt: skip
        condition = ProfileRow.status.does_not_exist() | (ProfileRow.status != DELETED)
    else:
        condition = ProfileRow.status == DELETING
    try:
        ProfileRow(user_id, PROFILE).update(actions=actions, condition=condition)
    except UpdateError as error:
        if not condition_failed(error):
            raise
        return False
    return True


def _delete_pool_user(email: str) -> None:
    pool_id, _ = _user_pool()
    try:
        aws.cognito().admin_delete_user(UserPoolId=pool_id, Username=email)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "UserNotFoundException":  # deleted by an earlier try
            raise
