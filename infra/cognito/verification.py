"""Cognito's attribute verification for moto 5.2.5, installed in the moto server process (infra.moto_server).

moto's user pools have neither GetUserAttributeVerificationCode nor VerifyUserAttribute, and send no mail at
all. These hooks add both actions so the shop calls the same Cognito APIs locally as on AWS:

- GetUserAttributeVerificationCode (access token, AttributeName=email) makes a 6-digit code and sends it as an
  email through moto's SES backend (it lands in the backend's sent messages), from the pool's
  EmailConfiguration sender or Cognito's default one, with the pool's verification subject and message.
  Like Cognito, a new code replaces the previous one, a code lasts CODE_LIFETIME, and a user who asks for
  codes too often gets LimitExceededException.
- VerifyUserAttribute checks the code (CodeMismatchException, ExpiredCodeException; LimitExceededException
  after MAX_FAILED_ATTEMPTS wrong ones) and sets email_verified to "true".
- SignUp records email_verified "false" next to a new email, as Cognito does, so GetUser and ID tokens say
  false rather than nothing.
- ID tokens carry email and email_verified: Cognito puts every readable attribute in them, and an app
  client without ReadAttributes may read all of them; moto puts none.
- GET /moto-api/local/ses-sent-messages answers the sent messages of every SES backend as JSON, which the
  gateway serves as GET /_local/mail (infra.cognito.mail).

The requests run under infra.cognito.moto_hooks' lock like every other Cognito request.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from infra.cognito.moto_hooks import PINNED_MOTO

CODE_LIFETIME_SECONDS = 24 * 3600  # Cognito's attribute verification codes are valid for 24 hours
MAX_FAILED_ATTEMPTS = 5  # wrong codes before the current code stops being accepted
MAX_CODES_PER_HOUR = 5  # codes one user may ask for in an hour before LimitExceededException
DEFAULT_SENDER = "no-reply@verificationemail.com"  # Cognito's own sender (EmailSendingAccount COGNITO_DEFAULT)
DEFAULT_SUBJECT = "Your verification code"
DEFAULT_MESSAGE = "Your verification code is {####}. "
CODE_PLACEHOLDER = "{####}"
SENT_MESSAGES_PATH = "/moto-api/local/ses-sent-messages"


@dataclass
class _PendingCode:
    code: str
    issued_at: float
    failed_attempts: int = 0


@dataclass
class _Codes:
    """Per (pool id, username, attribute): the code in force, and when codes were asked for (the last hour)."""

    pending: dict[tuple[str, str, str], _PendingCode] = field(default_factory=dict)
    requested: dict[tuple[str, str, str], deque[float]] = field(default_factory=dict)


_CODES = _Codes()
_ORIGINALS: dict[str, Any] = {}


def install() -> None:
    """Add the actions, the sign-up default, the ID token claims and the mailbox route; idempotent."""
    import moto
    from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.moto_api._internal import urls as moto_api_urls

    assert moto.__version__ == PINNED_MOTO, f"infra/cognito/verification.py is written for moto {PINNED_MOTO}"
    CognitoIdpResponse.get_user_attribute_verification_code = _get_user_attribute_verification_code  # type: ignore[attr-defined]
    CognitoIdpResponse.verify_user_attribute = _verify_user_attribute  # type: ignore[attr-defined]

    sign_up = _ORIGINALS.setdefault("sign_up", CognitoIdpBackend.sign_up)

    def sign_up_with_unverified_email(self: Any, *args: Any, **kwargs: Any) -> Any:
        user, details = sign_up(self, *args, **kwargs)
        if "email" in user.attribute_lookup and "email_verified" not in user.attribute_lookup:
            user.update_attributes([{"Name": "email_verified", "Value": "false"}])
        return user, details

    CognitoIdpBackend.sign_up = sign_up_with_unverified_email  # type: ignore[method-assign]

    readable_fields = _ORIGINALS.setdefault("get_user_extra_data", CognitoIdpUserPool.get_user_extra_data_by_client_id)

    def id_token_claims(self: Any, client_id: str, username: str) -> dict[str, Any]:
        claims: dict[str, Any] = readable_fields(self, client_id, username)
        client = self.clients.get(client_id)
        if client is not None and not client.get_readable_fields():
            attributes = self._get_user(username).attribute_lookup
            claims.update({name: attributes[name] for name in ("email", "email_verified") if name in attributes})
        return claims

    CognitoIdpUserPool.get_user_extra_data_by_client_id = id_token_claims  # type: ignore[method-assign]
    moto_api_urls.url_paths["{0}" + SENT_MESSAGES_PATH] = _sent_messages


def _get_user_attribute_verification_code(self: Any) -> str:
    """The action GetUserAttributeVerificationCode: a new code, sent by email through moto's SES."""
    attribute = self._get_param("AttributeName")
    pool, user = _signed_in_user(self._get_param("AccessToken"))
    if attribute != "email":
        raise _invalid_parameter(f"verification by {attribute!r} is not supported locally; only email is")
    address = user.attribute_lookup.get("email")
    if not address:
        raise _invalid_parameter("the user has no email attribute")
    key = (pool.id, user.username, attribute)
    now = time.time()
    requested = _CODES.requested.setdefault(key, deque())
    while requested and requested[0] <= now - 3600:
        requested.popleft()
    if len(requested) >= MAX_CODES_PER_HOUR:
        raise _limit_exceeded()
    requested.append(now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    _CODES.pending[key] = _PendingCode(code, now)
    _send(pool, address, code)
    return json.dumps(
        {
            "CodeDeliveryDetails": {
                "Destination": _masked(address),
                "DeliveryMedium": "EMAIL",
                "AttributeName": attribute,
            }
        }
    )


def _verify_user_attribute(self: Any) -> str:
    """The action VerifyUserAttribute: the code in force for the attribute verifies it."""
    from moto.cognitoidp.exceptions import CodeMismatchException, ExpiredCodeException

    attribute = self._get_param("AttributeName")
    pool, user = _signed_in_user(self._get_param("AccessToken"))
    key = (pool.id, user.username, attribute)
    pending = _CODES.pending.get(key)
    if pending is None:
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    if time.time() - pending.issued_at > CODE_LIFETIME_SECONDS:
        del _CODES.pending[key]
        raise ExpiredCodeException("Invalid code provided, please request a code again.")
    if pending.failed_attempts >= MAX_FAILED_ATTEMPTS:
        raise _limit_exceeded()
    if not secrets.compare_digest(pending.code, str(self._get_param("Code") or "")):
        pending.failed_attempts += 1
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    del _CODES.pending[key]
    user.update_attributes([{"Name": f"{attribute}_verified", "Value": "true"}])
    return "{}"


def _signed_in_user(access_token: str) -> tuple[Any, Any]:
    """The pool and user an access token belongs to, as moto's GetUser finds them (NotAuthorized otherwise)."""
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.models import cognitoidp_backends

    for account in cognitoidp_backends.values():
        for region, backend in account.items():
            if region == "global":
                continue
            for pool in backend.user_pools.values():
                if access_token in pool.access_tokens:
                    return pool, backend.get_user(access_token)
    raise NotAuthorizedError("Invalid Access Token")


def _send(pool: Any, address: str, code: str) -> None:
    """Send the code as Cognito would, through the SES backend of the pool's account and region."""
    from moto.ses.models import ses_backends

    config = pool.extended_config
    template = config.get("VerificationMessageTemplate") or {}
    subject = template.get("EmailSubject") or config.get("EmailVerificationSubject") or DEFAULT_SUBJECT
    message = template.get("EmailMessage") or config.get("EmailVerificationMessage") or DEFAULT_MESSAGE
    sender = (config.get("EmailConfiguration") or {}).get("From") or DEFAULT_SENDER
    ses = ses_backends[pool.account_id][pool.region]
    # On AWS the sender is Cognito's own address or an SES identity the template names; both are verified.
    ses.verify_email_identity(sender)
    ses.send_email(sender, subject, message.replace(CODE_PLACEHOLDER, code), {"ToAddresses": [address]})


def _sent_messages(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    """GET /moto-api/local/ses-sent-messages: {"messages": [{"id", "source", "destinations", "subject",
    "body"}]} across every SES backend, oldest first within a backend."""
    from moto.ses.models import ses_backends

    messages = []
    for account in ses_backends.values():
        for backend in list(account.values()):
            for message in list(backend.sent_messages):
                messages.append(
                    {
                        "id": message.id,
                        "source": message.source,
                        "destinations": getattr(message, "destinations", {}),
                        "subject": getattr(message, "subject", None),
                        "body": getattr(message, "body", None) or getattr(message, "raw_data", None),
                    }
                )
    return 200, {"Content-Type": "application/json"}, json.dumps({"messages": messages})


def _masked(address: str) -> str:
    """Cognito's masked destination: the first letter of each part, e.g. a***@e***."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain[:1]}***"


def _invalid_parameter(message: str) -> Exception:
    from moto.cognitoidp.exceptions import InvalidParameterException

    return InvalidParameterException(message)


def _limit_exceeded() -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("LimitExceededException", "Attempt limit exceeded, please try after some time.")
