"""The cursor signing key comes from the stack's generated secret; there is no key written in the code."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from shop.errors import InvalidCursorError
from shop.search import cursor, settings


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("SEARCH_CURSOR_KEY_SECRET_ARN", raising=False)
    settings.search_settings.cache_clear()
    parameters.clear_caches()
    yield
    settings.search_settings.cache_clear()
    parameters.clear_caches()


def test_the_key_is_the_stacks_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        secret = boto3.client("secretsmanager").create_secret(Name="search-cursor-key", SecretString="s" * 64)
        monkeypatch.setenv("SEARCH_CURSOR_KEY_SECRET_ARN", secret["ARN"])
        assert settings.cursor_key() == b"s" * 64


def test_without_a_secret_the_key_is_random_for_the_process() -> None:
    key = settings.cursor_key()
    assert key == settings.cursor_key()
    # The key that used to ship as a default cannot sign a cursor this process accepts.
    forged = cursor.encode(b"local-only-search-cursor-key", "q", (1,))
    with pytest.raises(InvalidCursorError):
        cursor.decode(key, "q", forged)
