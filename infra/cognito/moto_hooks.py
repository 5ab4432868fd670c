"""A version-pinned fix of moto 5.2.5's Cognito user pools, installed in the moto server process.

moto's Cognito backend takes no lock, and its server answers requests on many threads: a sign-up adding a
user while another request looks users up by iterating the pool's OrderedDict fails that request with
"OrderedDict mutated during iteration" (a 500 to the registering buyer; seen when 200 buyers register at
once). Every Cognito request now runs under one lock: the pools are small, the requests fast, and
Cognito is not on any hot path of the shop (tokens are verified by the gateway, not by asking Cognito).

The version assert makes an upgrade of moto fail loudly at start-up instead of silently running
unpatched code; infra.moto_server installs it.
"""

from __future__ import annotations

import threading
from typing import Any

PINNED_MOTO = "5.2.5"
_LOCK = threading.RLock()
_ORIGINALS: dict[str, Any] = {}


def install() -> None:
    """Serialize moto's Cognito requests; installing again re-wraps moto's own method, never a patched one."""
    import moto
    from moto.cognitoidp.responses import CognitoIdpResponse

    assert moto.__version__ == PINNED_MOTO, (
        f"infra/cognito/moto_hooks.py patches moto {PINNED_MOTO}'s Cognito backend, but moto {moto.__version__} "
        f"is installed: pin moto[server]=={PINNED_MOTO} or re-check the patch"
    )
    original = _ORIGINALS.setdefault("call_action", CognitoIdpResponse.call_action)

    def call_action(self: Any) -> Any:
        with _LOCK:
            return original(self)

    CognitoIdpResponse.call_action = call_action  # type: ignore[method-assign]
