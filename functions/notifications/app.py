"""Notifications API: the caller's inbox (newest first, with the unread count), marking one read, and the
caller's preferences (channels and kinds to opt out of)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop import http, notifications
from shop.notifications import NotificationPage, Preferences, PreferencesView, ReadReceipt

logger = Logger()
app = http.create_app()


@app.get("/notifications", summary="The caller's notifications, newest first, and how many are unread",
         tags=["notifications"], security=http.BEARER_AUTH,
         responses=http.documented_responses(200, "A page of notifications", [401, 422]))  # fmt: skip
def list_notifications(
    cursor: Annotated[str | None, Query(max_length=256)] = None,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> NotificationPage:
    return notifications.page(http.authenticated_caller(app), cursor=cursor, size=size)


@app.post("/notifications/<notificationId>/read", summary="Mark a notification read (a repeat answers the same)",
          tags=["notifications"], security=http.BEARER_AUTH,
          responses=http.documented_responses(200, "The notification is read", [401, 404, 422]))  # fmt: skip
def mark_read(notification_id: Annotated[str, Path(alias="notificationId", max_length=64)]) -> ReadReceipt:
    return notifications.mark_read(http.authenticated_caller(app), notification_id)


@app.get("/notifications/preferences", summary="The caller's notification preferences",
         tags=["notifications"], security=http.BEARER_AUTH,
         responses=http.documented_responses(200, "The preferences (everything on until changed)", [401]))  # fmt: skip
def get_preferences() -> PreferencesView:
    return notifications.get_preferences(http.authenticated_caller(app).user_id)


@app.put("/notifications/preferences", summary="Replace the caller's preferences (what is left out is on)",
         tags=["notifications"], security=http.BEARER_AUTH,
         responses=http.documented_responses(200, "The preferences now", [400, 401, 422]))  # fmt: skip
def put_preferences(preferences: Annotated[Preferences, Body()]) -> PreferencesView:
    return notifications.put_preferences(http.authenticated_caller(app).user_id, preferences)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
