"""In-process moto with the local cloud's Cognito email verification (infra.cognito.verification), undone after
the test: the moto server installs it for good, a test process must not keep it."""

from __future__ import annotations

import pytest
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool
from moto.cognitoidp.responses import CognitoIdpResponse

from infra.cognito import verification


def install_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    """Install the hooks into this process for one test (call before mock_aws starts)."""
    monkeypatch.setattr(CognitoIdpBackend, "sign_up", CognitoIdpBackend.sign_up)
    monkeypatch.setattr(
        CognitoIdpUserPool, "get_user_extra_data_by_client_id", CognitoIdpUserPool.get_user_extra_data_by_client_id
    )
    for name in ("get_user_attribute_verification_code", "verify_user_attribute"):
        monkeypatch.setattr(CognitoIdpResponse, name, None, raising=False)
    monkeypatch.setattr(verification, "_ORIGINALS", {})
    monkeypatch.setattr(verification, "_CODES", verification._Codes())
    verification.install()
