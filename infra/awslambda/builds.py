"""What `sam build` makes of a function's CodeUri and a layer's ContentUri, so that a worker imports what
would deploy rather than the local cloud's own packages.

sam build installs a folder's requirements.txt (`pip install -r requirements.txt --target <artifact>`) beside
its code. Here the code stays where it is (edits show at the next cold start) and the installed packages go
to a folder of their own under the build cache (.local/cache/builds), named after the source folder and keyed
by the requirements file's hash and this interpreter's version: a start whose requirements did not change
installs nothing, and the many clouds of a test session share one install. Besides the standard library,
the Lambda Python runtime ships boto3 and what it requires; `runtime_packages` models that with a folder of
links to this interpreter's copies, which a worker puts last on its path, so a function's own boto3 wins.

Concurrent clouds (several test sessions, several worktrees' CI) may start on a cold cache at once: each
build holds a lock file while it installs into a private folder, then renames it into place.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

log = logging.getLogger("infra.awslambda")

REQUIREMENTS = "requirements.txt"
COMPLETE = ".build.json"  # written last into a finished build: a folder without it is not one
# The Lambda Python runtime's own packages besides the standard library: boto3 and what it requires.
RUNTIME_PROVIDED = ("boto3",)
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_DIST_INFO = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)\.dist-info$")


FolderContents = tuple[frozenset[str], dict[str, str]]  # top-level module names; {distribution: version}


class BuildError(Exception):
    """pip could not install a folder's requirements; the message has pip's own words."""


@dataclass(frozen=True)
class Build:
    source: Path  # the CodeUri / ContentUri folder
    packages: Path | None  # where its requirements are installed (None: it has no requirements.txt)
    installed: bool  # pip ran for this start (False: the build cache had it)
    seconds: float

    def describe(self, root: Path) -> dict[str, object]:
        def shown(path: Path) -> str:
            return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)

        return {
            "source": shown(self.source),
            "packages": shown(self.packages) if self.packages else None,
            "installed": self.installed,
            "seconds": round(self.seconds, 2),
        }


def interpreter_tag() -> str:
    """What a build is only valid for: the interpreter (wheels are per Python version) and the machine."""
    return f"{sys.implementation.cache_tag}-{platform.machine()}"


def install_requirements(source: Path, cache_dir: Path) -> Build:
    """sam build's dependency step for `source`: its requirements.txt installed with this Python's pip into
    a cached folder, reused while the file and the interpreter are unchanged."""
    requirements = source / REQUIREMENTS
    if not requirements.is_file():
        return Build(source, None, False, 0.0)
    text = requirements.read_bytes()
    key = hashlib.sha256(text + interpreter_tag().encode()).hexdigest()[:16]
    target = cache_dir / f"{source.name}-{key}"
    if (target / COMPLETE).exists():
        return Build(source, target, False, 0.0)
    began = time.monotonic()
    with _building(target) as partial:
        if partial is None:  # another process finished it while this one waited for the lock
            return Build(source, target, False, time.monotonic() - began)
        log.info("build: pip install -r %s (cached in %s)", requirements, target)
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
            "-r", str(requirements), "--target", str(partial),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BuildError(f"pip install -r {requirements} failed:\n{done.stderr.strip()[-3000:]}")
        shutil.rmtree(partial / "bin", ignore_errors=True)  # console scripts: not importable, not on Lambda's path
        manifest = {"requirements": text.decode(errors="replace"), "interpreter": interpreter_tag()}
        (partial / COMPLETE).write_text(json.dumps(manifest, indent=1))
    seconds = time.monotonic() - began
    log.info("build: %s installed in %.1f s", requirements, seconds)
    return Build(source, target, True, seconds)


def runtime_packages(cache_dir: Path) -> Path:
    """A folder with what the Lambda Python runtime provides besides the standard library (boto3, botocore
    and their requirements), linked from this interpreter's installed copies: on AWS they come last on
    sys.path, after the function's code and its layers, so a function that bundles its own boto3 uses it."""
    distributions = _requirement_closure(RUNTIME_PROVIDED)
    versions = sorted(f"{canonical_name(d.metadata['Name'])}=={d.version}" for d in distributions)
    sites = sorted({str(Path(str(d.locate_file(""))).resolve()) for d in distributions})  # what the links point at
    key = hashlib.sha256(json.dumps([versions, sites, interpreter_tag()]).encode()).hexdigest()[:16]
    target = cache_dir / f"lambda-runtime-{key}"
    if (target / COMPLETE).exists():
        return target
    with _building(target) as partial:
        if partial is not None:
            for distribution in distributions:
                site = Path(str(distribution.locate_file(""))).resolve()
                for entry in _top_level_entries(distribution):
                    os.symlink(site / entry, partial / entry)
            (partial / COMPLETE).write_text(json.dumps({"provides": versions, "interpreter": interpreter_tag()}))
    return target


def fork_refusal(
    folders: Sequence[Path], preloaded: Mapping[str, tuple[str, str]], listed: dict[Path, FolderContents] | None = None
) -> str | None:
    """Why a worker whose sys.path is `folders` (its code, builds, layers and the runtime's packages) must not
    be forked from a fork server that imported `preloaded` ({top-level module: (distribution, version)}), or
    None if it may: every such module must be found first in a folder that has that distribution at that
    version, or the fork would run the fork server's copy where the function's own import would find another
    version, or nothing. `listed` caches folder listings across calls."""
    listed = {} if listed is None else listed
    for folder in folders:
        if folder not in listed:
            listed[folder] = folder_contents(folder)
    for module, (distribution, version) in sorted(preloaded.items()):
        for folder in folders:
            modules, versions = listed[folder]
            if module in modules:
                found = versions.get(canonical_name(distribution))
                if found != version:
                    return f"its {module} is {distribution} {found or 'of no version'}, the fork server's {version}"
                break
        else:
            return f"its build has no {module} ({distribution} {version}), which the fork server imported"
    return None


def folder_contents(folder: Path) -> FolderContents:
    """The top-level module names a sys.path folder provides, and its distributions' versions (by the
    canonical name), read from the folder listing alone (`name-version.dist-info`)."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return frozenset(), {}
    modules: set[str] = set()
    versions: dict[str, str] = {}
    for entry in entries:
        if entry.endswith(".dist-info"):
            match = _DIST_INFO.match(entry)
            if match:
                versions[canonical_name(match["name"])] = match["version"]
        elif entry.endswith(".py") or ".cpython-" in entry or entry.endswith(".so"):
            modules.add(entry.split(".", 1)[0])
        elif "." not in entry and entry != "__pycache__":
            modules.add(entry)  # a package (or a namespace package's folder)
    return frozenset(modules), versions


def canonical_name(name: str) -> str:
    """PEP 503's normalised project name: `Jinja2`, `jinja2` and `typing_extensions` compare as they should."""
    return re.sub(r"[-_.]+", "-", name).lower()


@contextlib.contextmanager
def _building(target: Path) -> Iterator[Path | None]:
    """Hold the build's lock; yield a fresh private folder to fill (renamed to `target` on success), or
    None when `target` was finished by another process meanwhile."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / COMPLETE).exists():
            yield None
            return
        partial = target.parent / f".{target.name}.{os.getpid()}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        try:
            yield partial
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        shutil.rmtree(target, ignore_errors=True)  # an unfinished folder left by a process that died
        os.replace(partial, target)


def _requirement_closure(names: tuple[str, ...]) -> list[metadata.Distribution]:
    """The installed distributions `names` need, with their requirements' requirements (extras left out)."""
    found: dict[str, metadata.Distribution] = {}
    waiting = list(names)
    while waiting:
        name = canonical_name(waiting.pop())
        if name in found:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another Python version or platform
        found[name] = distribution
        for requirement in distribution.requires or []:
            match = _REQUIREMENT_NAME.match(requirement)
            if match and "extra ==" not in requirement.replace("extra==", "extra =="):
                waiting.append(match.group(1))
    return list(found.values())


def _top_level_entries(distribution: metadata.Distribution) -> set[str]:
    """The files and folders a distribution puts at the top of its site-packages folder (its packages,
    modules and .dist-info), not the scripts it installs elsewhere nor the shared __pycache__."""
    entries = set()
    for file in distribution.files or []:
        first = file.parts[0]
        if first not in ("..", "__pycache__") and not first.endswith(".pth"):
            entries.add(first)
    return entries
