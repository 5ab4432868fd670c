"""The build step of infra.awslambda.builds: requirements installed once per content (real pip, on requirements
files that need no download), the runtime's packages, and when a function's build lets its worker be forked."""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

import pytest

from infra.awslambda.builds import BuildError, folder_contents, fork_refusal, install_requirements, runtime_packages


def test_a_folder_without_requirements_needs_no_build(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    build = install_requirements(tmp_path / "code", tmp_path / "cache")
    assert build.packages is None and not build.installed
    assert not (tmp_path / "cache").exists()


def test_requirements_are_installed_once_until_they_change(tmp_path: Path) -> None:
    source = tmp_path / "function"
    source.mkdir()
    (source / "requirements.txt").write_text("# nothing to install yet\n")
    cache = tmp_path / "cache"

    first = install_requirements(source, cache)
    assert first.installed and first.packages is not None
    assert first.packages.parent == cache and first.packages.name.startswith("function-")
    inode = os.stat(first.packages).st_ino

    again = install_requirements(source, cache)
    assert not again.installed
    assert again.packages == first.packages and os.stat(first.packages).st_ino == inode

    # Changed requirements are a new build; one pip cannot install fails with pip's words and leaves nothing.
    (source / "requirements.txt").write_text("./no-such-folder\n")
    with pytest.raises(BuildError, match="no-such-folder"):
        install_requirements(source, cache)
    assert [path.name for path in cache.iterdir() if not path.name.endswith(".lock")] == [first.packages.name]


def test_the_runtime_provides_boto3_and_its_requirements_only(tmp_path: Path) -> None:
    folder = runtime_packages(tmp_path)
    modules, versions = folder_contents(folder)
    assert {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"} <= modules
    assert versions["boto3"] == metadata.version("boto3")
    assert versions["botocore"] == metadata.version("botocore")
    assert "pydantic" not in modules and "aws_lambda_powertools" not in modules
    assert runtime_packages(tmp_path) == folder  # made once


def _folder(path: Path, modules: dict[str, str | None]) -> Path:
    """A sys.path folder with each module as a package, and its distribution's .dist-info when versioned."""
    path.mkdir()
    for module, version in modules.items():
        (path / module).mkdir()
        (path / module / "__init__.py").write_text("")
        if version:
            (path / f"{module}-{version}.dist-info").mkdir()
    return path


def test_a_worker_is_forked_only_if_its_path_finds_the_fork_servers_modules_at_their_versions(tmp_path: Path) -> None:
    preloaded = {"boto3": ("boto3", "1.44.8"), "pydantic_core": ("pydantic-core", "2.46.5")}
    runtime = _folder(tmp_path / "runtime", {"boto3": "1.44.8"})
    layer = _folder(tmp_path / "layer", {"pydantic_core": "2.46.5", "jinja2": "3.1.6"})
    code = _folder(tmp_path / "code", {})
    assert fork_refusal([code, layer, runtime], preloaded) is None

    old_sdk = _folder(tmp_path / "old", {"boto3": "1.26.165"})
    assert fork_refusal([code, old_sdk, layer, runtime], preloaded) == (
        "its boto3 is boto3 1.26.165, the fork server's 1.44.8"
    )
    assert fork_refusal([code, runtime], preloaded) == (
        "its build has no pydantic_core (pydantic-core 2.46.5), which the fork server imported"
    )
    vendored = _folder(tmp_path / "vendored", {"boto3": None})  # copied in without its metadata
    assert fork_refusal([vendored, layer, runtime], preloaded) == (
        "its boto3 is boto3 of no version, the fork server's 1.44.8"
    )
