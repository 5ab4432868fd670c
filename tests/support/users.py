"""Helpers the integration and end-to-end tests share: an HTTP client and registered users."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "Correct-Horse-9"


@dataclass
class User:
    email: str
    password: str
    role: str
    user_id: str
    access_token: str
    id_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def register(client: httpx.Client, role: str, *, email: str | None = None) -> User:
    email = email or unique_email(role)
    created = client.post(
        "/auth/register", json={"email": email, "password": PASSWORD, "name": f"Test {role}", "role": role}
    )
    assert created.status_code == 201, created.text
    tokens = client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    return User(
        email, PASSWORD, role, created.json()["userId"], body["accessToken"], body["idToken"],
        body["refreshToken"],
    )


def new_item(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": "Wireless Mouse",
        "description": "Ergonomic Bluetooth Mouse",
        "price": 999,
        "quantity": 100,
    }
    item.update(overrides)
    return item


def error_code(response: httpx.Response) -> str | None:
    """The API's error code; None for an answer the gateway gave on its own ({"message": ...}: no route,
    throttled, or the function failed or timed out)."""
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    return str(error["code"]) if isinstance(error, dict) else None
