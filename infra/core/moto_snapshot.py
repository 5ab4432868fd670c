"""moto's state on disk, for a persisted cloud (`python -m infra run --persist DIR`); runs in the moto server.

moto keeps every service's state in plain Python objects: one backend per (service, account, region),
held by a BackendDict per service. A snapshot is those backends pickled into one file, written atomically
(a temporary file, then a rename) when the server is stopped (SIGTERM: the cloud's stop, or the cloud's
death through PR_SET_PDEATHSIG) and every few seconds while something changed, so a crash loses at most
that much. On start the file's backends are put back before the server answers.

Pickling is moto's own state as it is: S3 objects (moto's FakeKey pickles its bytes), SQS queues with
their messages (in flight ones come back when their visibility timeout ends), the Cognito user pools with
their users, groups, password hashes and signing keys (tokens issued before a restart still verify), SES's
sent mail, secrets, EventBridge buses and rules, SNS topics, Step Functions state machines and executions.
What is not data is rebuilt: locks (a new, free lock), the user pools' keys (kept as PEM), and what the
services' reducers say (infra.moto_server passes Step Functions': an execution's worker thread becomes its
history, and a running execution is resumed, infra.stepfunctions.resume); a pickling error names what
could not be kept.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("infra.persist")

SNAPSHOT_ENV = "LOCAL_PERSIST_FILE"  # where the snapshot lives; unset: nothing is persisted
INTERVAL_SECONDS = float(os.environ.get("LOCAL_PERSIST_INTERVAL", "2"))
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
_RLOCK_TYPE = type(threading.RLock())
_save_lock = threading.Lock()
# What the services add (infra.moto_server): reducers for objects that are not data (an execution's worker
# thread), each answering like Pickler.reducer_override, and what to do once the state is back.
Reducer = Callable[[Any], Any]
_REDUCERS: list[Reducer] = []


class _Changes:
    """Requests that may have changed state since start, and how many of them the last snapshot holds."""

    made = 0
    saved = -1


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK_TYPES):
            return (threading.RLock if isinstance(obj, _RLOCK_TYPE) else threading.Lock), ()
        if type(obj).__module__.startswith("cryptography.") and hasattr(obj, "private_bytes"):
            return _private_key, (_pem(obj),)  # a user pool's signing key, as PEM
        for reducer in _REDUCERS:
            reduced = reducer(obj)
            if reduced is not NotImplemented:
                return reduced
        return NotImplemented


def _pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))  # fmt: skip


def _private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem, password=None)


def _backend_dicts() -> list[Any]:
    from moto.core.base_backend import BackendDict

    return list(BackendDict._instances)  # type: ignore[misc]


def snapshot() -> bytes:
    """Every loaded service's backends: [(backend class, service name, {account: {region: backend}})]."""
    state = [
        (backends.backend, backends.service_name,
         {account: dict(regions.items()) for account, regions in backends.items()})
        for backends in _backend_dicts() if len(backends)
    ]  # fmt: skip
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
    return buffer.getvalue()


def save(path: Path) -> None:
    """Write the snapshot atomically. State can change while it is pickled (the server answers on other
    threads), which makes pickle fail with "changed size during iteration": it is simply taken again."""
    with _save_lock:
        changes = _Changes.made
        for attempt in range(5):
            try:
                data = snapshot()
                break
            except RuntimeError:  # a dict or set changed size while it was read
                if attempt == 4:
                    raise
                time.sleep(0.05)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, path)
        _Changes.saved = changes


def restore(path: Path) -> int:
    """Put the snapshot's backends back; returns how many were restored."""
    state = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, written by save()
    from moto.core.base_backend import BackendDict

    restored = 0
    for backend_class, service_name, accounts in state:
        # The module that defines the backend holds its BackendDict (unpickling imported it).
        module = sys.modules[backend_class.__module__]
        target = next(value for value in vars(module).values()
                      if isinstance(value, BackendDict) and value.backend is backend_class
                      and value.service_name == service_name)  # fmt: skip
        for account, regions in accounts.items():
            for region, backend in regions.items():
                target[account][region] = backend
                restored += 1
    return restored


def count_changes(app: Any) -> Any:
    """WSGI middleware: every request but a read (GET, HEAD) counts as a change worth a snapshot."""

    def counted(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            _Changes.made += 1
        return app(environ, start_response)

    return counted


def _save_while_running(path: Path) -> None:
    while True:
        time.sleep(INTERVAL_SECONDS)
        if _Changes.made != _Changes.saved:
            try:
                save(path)
            except Exception:
                log.exception("snapshot of moto's state failed")


def install(reducers: Sequence[Reducer] = (), after_restore: Callable[[], object] | None = None) -> Path | None:
    """In the moto server, before it serves: restore the snapshot named by LOCAL_PERSIST_FILE (then start
    `after_restore` in a thread), save it on SIGTERM/SIGINT and every INTERVAL_SECONDS while it changes, with
    `reducers` for what is not data. Returns the path, or None (not persisted)."""
    if not os.environ.get(SNAPSHOT_ENV):
        return None
    _REDUCERS[:] = reducers
    path = Path(os.environ[SNAPSHOT_ENV])
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        began = time.monotonic()
        try:
            restored = restore(path)
        except Exception as error:  # e.g. written by another moto version: say which file, not just a traceback
            raise SystemExit(f"cannot restore moto's state from {path} ({type(error).__name__}: {error}); "
                             "delete the persist folder to start afresh") from error  # fmt: skip
        log.info("restored %d moto backends from %s in %.2f s", restored, path, time.monotonic() - began)
        if after_restore is not None:
            threading.Thread(target=after_restore, name="after-restore", daemon=True).start()

    def save_and_exit(signum: int, frame: Any) -> None:
        try:
            save(path)
        finally:
            os._exit(0)

    # moto's main() installs its own handler (which exits without saving) by this name, and builds its WSGI
    # app inside main(): both are replaced by name here, before main() runs.
    import moto.server

    original_run_simple = moto.server.run_simple  # type: ignore[attr-defined]
    moto.server.signal_handler = save_and_exit
    moto.server.run_simple = lambda host, port, app, **options: original_run_simple(  # type: ignore[attr-defined]
        host, port, count_changes(app), **options
    )
    signal.signal(signal.SIGTERM, save_and_exit)
    signal.signal(signal.SIGINT, save_and_exit)
    threading.Thread(target=_save_while_running, args=(path,), name="snapshot", daemon=True).start()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))  # deep object graphs (ASL histories)
    return path
