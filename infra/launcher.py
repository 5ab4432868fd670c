"""Starting a local cloud as a child process and waiting for it: used by the tests and the benchmarks."""

from __future__ import annotations

import atexit
import contextlib
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.core.clients import sdk_client

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunningCloud:
    """A local cloud started by launch(); every one still running is listed in RUNNING (for diagnostics)."""

    process: subprocess.Popen[bytes]
    state: dict[str, Any]
    workdir: Path
    seconds_to_ready: float

    @property
    def log_dir(self) -> Path:
        return self.workdir / "logs"

    def stop(self, timeout: float = 30) -> int:
        if self in RUNNING:
            RUNNING.remove(self)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def client(self, service: str) -> Any:
        """A boto3 client for `service` pointed at this cloud (the endpoint `python -m infra env` names)."""
        return sdk_client(service, self.state["environment"])

    def log_tails(self, characters: int = 3000) -> dict[str, str]:
        """The end of the cloud's console output and of each log file: what a failing test should show."""
        files = [self.workdir / "cloud.out", *sorted(self.log_dir.glob("*.log"))]
        return {
            str(path.relative_to(self.workdir)): path.read_text(errors="replace")[-characters:]
            for path in files
            if path.exists() and path.stat().st_size
        }


RUNNING: list[RunningCloud] = []


@atexit.register
def _stop_the_rest() -> None:
    """A test that fails before stopping its cloud, or a benchmark that raises, leaves no cloud running:
    a cloud is not a child that dies with this process (only the cloud's own children do)."""
    for cloud in list(RUNNING):
        with contextlib.suppress(Exception):
            cloud.stop(timeout=10)


def launch(
    workdir: Path, *, overrides: list[str] | None = None, seed: bool = False, timeout: float = 120,
    extra_args: list[str] | None = None, strict: bool = False,
) -> RunningCloud:
    """Run `python -m infra run` on free ports with its state and logs under workdir; wait for `ready:`.
    `strict`: `--strict`, the cloud refuses a template using what it does not fully emulate (RuntimeError
    here, with its list)."""
    workdir.mkdir(parents=True, exist_ok=True)
    state_file, output_file = workdir / "cloud.json", workdir / "cloud.out"
    command = [
        sys.executable, "-m", "infra", "run", "--port", "0", "--lambda-port", "0", "--rest-port", "0",
        "--state-file", str(state_file), "--log-dir", str(workdir / "logs"), *(extra_args or []),
    ]
    if not seed:
        command.append("--no-seed")
    if strict:
        command.append("--strict")
    if overrides:
        command += ["--parameter-overrides", *overrides]
    began = time.monotonic()
    with output_file.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    deadline = began + timeout
    while b"ready: " not in output_file.read_bytes():
        if process.poll() is not None:
            raise RuntimeError(f"the local cloud exited:\n{output_file.read_text()[-4000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the local cloud was not ready in {timeout} s:\n{output_file.read_text()[-4000:]}")
        time.sleep(0.02)
    ready = time.monotonic() - began
    cloud = RunningCloud(process, json.loads(state_file.read_text()), workdir, ready)
    RUNNING.append(cloud)
    return cloud
