"""The README's curl journey, run as written against the test session's cloud, so the README stays true."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from infra.launcher import ROOT


def _readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- readme-journey -->\s*```sh\n(.*?)```\s*<!-- /readme-journey -->", text, re.S)
    assert match, "the README lost its journey block"
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_curl_journey_works_as_written(stack):
    script = _readme_block() + '\necho "ITEM=$ITEM"\n'
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], env={**os.environ, "API": stack.api_url},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    item_id = lines[-1].removeprefix("ITEM=")
    assert item_id.startswith("itm_")
    item = json.loads(next(line for line in lines if '"itemId"' in line and '"available"' in line))
    assert item["itemId"] == item_id
    assert item["available"] == 100
