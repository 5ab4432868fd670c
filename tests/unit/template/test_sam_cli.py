"""AWS's own SAM CLI accepts the template and builds what `sam deploy` uploads (both offline).

`sam validate --lint` checks the template as AWS reads it; `sam build` (no container) copies every function's
CodeUri and builds the shop layer with its pinned requirements installed for Lambda's Python 3.11 on x86_64.
The CLI lives in its own virtualenv (.local/sam-venv, from requirements-sam.txt, made by `make install`):
it pins its own botocore and cfn-lint. Its build cache (.aws-sam/cache, .aws-sam/deps) is reused across
runs, so after the first build only changed code is copied again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.cloudformation.template import load_template

ROOT = Path(__file__).resolve().parents[3]
SAM = ROOT / ".local" / "sam-venv" / "bin" / "sam"
LAYER_REQUIREMENTS = ROOT / "layers" / "shop" / "python" / "requirements.txt"

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def sam() -> Path:
    if not SAM.exists():
        message = f"{SAM.relative_to(ROOT)} is missing: `make install` creates it from requirements-sam.txt"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: a missing CLI there is a broken install, not a skip
        pytest.skip(message)
    return SAM


def _run_sam(sam: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0", "SAM_CLI_DISABLE_UPDATE_CHECK": "1"}
    return subprocess.run(
        [str(sam), *args], cwd=ROOT, env=environment, capture_output=True, text=True, check=False, timeout=540
    )


@pytest.fixture(scope="module")
def build_dir(sam: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # samconfig.toml's [default.build] turns on the cache and parallel builds, as for `make deploy`
    target = tmp_path_factory.mktemp("sam") / "build"
    result = _run_sam(sam, "build", "--build-dir", str(target))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    yield target
    shutil.rmtree(target)  # about 130 MB, mostly the layer's dependencies (the cache keeps them)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _pinned(requirements: Path) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            name, version = requirement.split("==")
            pins[_canonical(name.split("[", 1)[0])] = version.strip()
    return pins


def test_sam_validate_with_lint_accepts_the_template(sam: Path) -> None:
    result = _run_sam(sam, "validate", "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_sam_build_holds_every_function_code_uri(build_dir: Path) -> None:
    functions = {
        name: resource["Properties"]["CodeUri"]
        for name, resource in load_template(ROOT / "template.yaml")["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    built_template = load_template(build_dir / "template.yaml")
    for name, code_uri in functions.items():
        source = {path.relative_to(ROOT / code_uri) for path in (ROOT / code_uri).rglob("*.py")}
        built = {path.relative_to(build_dir / name) for path in (build_dir / name).rglob("*.py")}
        assert source and source <= built, name
        assert built_template["Resources"][name]["Properties"]["CodeUri"] == name


def test_sam_build_makes_the_layer_lambda_imports(build_dir: Path) -> None:
    """Lambda puts the layer's python/ on sys.path: shop must be right there, with every pinned requirement
    installed beside it as a wheel for Lambda's Python 3.11 on Linux x86_64."""
    site = build_dir / "ShopLayer" / "python"
    assert (site / "shop" / "__init__.py").is_file()
    assert not (site / "python").exists()  # the layer folder copied one level too deep (python/python/shop)
    installed = {
        _canonical(match.group(1)): match.group(2)
        for path in site.glob("*.dist-info")
        if (match := re.fullmatch(r"(.+)-([^-]+)\.dist-info", path.name))
    }
    for name, version in _pinned(LAYER_REQUIREMENTS).items():
        assert installed.get(name) == version, (name, version, installed.get(name))
    native = [path.name for path in (site / "pydantic_core").glob("*.so")]
    assert native and all("cpython-311-x86_64-linux-gnu" in name for name in native), native
