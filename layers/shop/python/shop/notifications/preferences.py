"""Per-user preferences: a channel (in-app, email) or a kind of notification can be turned off.

No row means everything is on; PUT replaces the whole set (what it leaves out is on).
"""

from __future__ import annotations

from shop import clock
from shop.dynamodb import find, plain_map
from shop.notifications.schemas import CHANNELS, KINDS, Preferences, PreferencesView
from shop.notifications.tables import PREFS, PreferencesRow


def get(user_id: str) -> PreferencesView:
    row = find(PreferencesRow, user_id, PREFS)
    if row is None:
        return _view(Preferences(), None)
    return PreferencesView(
        channels={name: bool(plain_map(row.channels).get(name, True)) for name in CHANNELS},
        kinds={name: bool(plain_map(row.kinds).get(name, True)) for name in KINDS},
        updated_at=row.updated_at,
    )


def put(user_id: str, preferences: Preferences) -> PreferencesView:
    view = _view(preferences, clock.now_iso())
    PreferencesRow(user_id, PREFS, channels=view.channels, kinds=view.kinds, updated_at=view.updated_at).save()
    return view


def wants(preferences: PreferencesView, channel: str, kind: str) -> bool:
    """Whether the user takes notices of this kind on this channel (both must be on)."""
    return preferences.channels.get(channel, True) and preferences.kinds.get(kind, True)


def _view(preferences: Preferences, updated_at: str | None) -> PreferencesView:
    return PreferencesView(
        channels=preferences.channels.model_dump(by_alias=True),
        kinds=preferences.kinds.model_dump(by_alias=True),
        updated_at=updated_at,
    )
