"""The shop layer pins the versions the local cloud's environment runs: its functions' workers are forked from a
fork server that imports those libraries from the layer's build, and share its memory, only while the two agree
(infra.awslambda.builds.fork_refusal); a layer pin that drifts from the venv's shows up here first, not as
every shop worker starting by exec."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LAYER_REQUIREMENTS = ROOT / "layers" / "shop" / "python" / "requirements.txt"


def _pins(requirements: Path) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement and not requirement.startswith("-"):
            name, version = requirement.split("==")
            pins[re.sub(r"[-_.]+", "-", name.split("[", 1)[0]).lower()] = version.strip()
    return pins


def test_the_venv_installs_the_layer_requirements_themselves() -> None:
    includes = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("-r")]
    assert "-r layers/shop/python/requirements.txt" in includes


def test_every_layer_pin_is_the_version_the_venv_runs() -> None:
    pins = _pins(LAYER_REQUIREMENTS)
    assert pins  # the file is read: a parse of nothing would prove nothing
    installed = {name: metadata.version(name) for name in pins}
    assert installed == pins
