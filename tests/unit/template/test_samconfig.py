"""samconfig.toml's deploy environments (`make deploy ENV=dev|prod`) can deploy template.yaml as it is."""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path

import pytest

from infra.cloudformation.provision import resolve_parameters
from infra.cloudformation.template import load_template

ROOT = Path(__file__).resolve().parents[3]
# CloudFormation takes a template inline (TemplateBody) only up to this many bytes; larger ones by TemplateURL.
INLINE_TEMPLATE_LIMIT = 51_200
ENVIRONMENTS = ("dev", "prod")


def _deploy_parameters(environment: str) -> dict[str, object]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    return dict(config[environment]["deploy"]["parameters"])


def _overrides(environment: str) -> dict[str, str]:
    pairs = shlex.split(str(_deploy_parameters(environment).get("parameter_overrides", "")))
    return dict(pair.split("=", 1) for pair in pairs)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_a_template_over_the_inline_limit_is_uploaded_to_s3(environment: str) -> None:
    """sam deploy hands CloudFormation the template by S3 URL only when it has a bucket: resolve_s3 (a bucket SAM
    manages) or s3_bucket. Without one, a template over the limit fails to deploy."""
    size = len((ROOT / "template.yaml").read_bytes())
    parameters = _deploy_parameters(environment)
    if size > INLINE_TEMPLATE_LIMIT:
        assert parameters.get("resolve_s3") is True or parameters.get("s3_bucket"), (
            f"template.yaml is {size} bytes, over the {INLINE_TEMPLATE_LIMIT}-byte inline limit, and samconfig "
            f"[{environment}.deploy] names no S3 bucket (resolve_s3 = true or s3_bucket)"
        )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_environment_deploys_its_own_stack_with_valid_parameters(environment: str) -> None:
    parameters = _deploy_parameters(environment)
    assert parameters["stack_name"] == f"marketplace-{environment}"
    # the SAM transform (AUTO_EXPAND) and the roles it makes for each function (IAM)
    assert set(str(parameters["capabilities"]).split()) >= {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    overrides = _overrides(environment)
    resolved = resolve_parameters(load_template(ROOT / "template.yaml"), overrides)  # names and allowed values
    assert resolved["Stage"] == environment
    assert resolved["SearchEngine"] == "opensearch"  # a tantivy index on one function's disk is not shared on AWS


def test_prod_asks_before_it_changes_and_reserves_checkout_concurrency() -> None:
    assert _deploy_parameters("prod")["confirm_changeset"] is True
    assert int(_overrides("prod")["CheckoutReservedConcurrency"]) > 0
    assert _overrides("prod")["EnableDiagnostics"] == "false"
