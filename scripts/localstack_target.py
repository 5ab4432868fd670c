"""Deploy template.yaml to a LocalStack-compatible endpoint through its CloudFormation API, then run the
integration suite against that stack (`make test-localstack`).

    python scripts/localstack_target.py [--stack-name shop-ls] [--deploy-only] [-- PYTEST ARGS...]

The steps are those of `sam build && sam package && sam deploy`, done with boto3 against AWS_ENDPOINT_URL
(default http://127.0.0.1:4566), so nothing here needs Docker or aws-sam-cli:

1. build: each function's CodeUri folder is zipped; the layer is its ContentUri folder (layers/shop/python)
   under python/, plus `pip install -r layers/shop/python/requirements.txt --target python/` (what `sam build`
   does for BuildMethod python3.11), the local cloud's build (infra.awslambda.builds, .local/cache/builds),
   installed once until the requirements change;
2. package: the zips and the state machine's DefinitionUri go to an artifacts bucket on the endpoint's S3
   under content-hash keys, and the template, with those s3:// URIs in place of the local paths, follows
   them: it is over CloudFormation's 51,200-byte inline limit, so it is deployed by TemplateURL;
3. deploy: CreateStack (CAPABILITY_IAM, CAPABILITY_AUTO_EXPAND; a stack of the same name is deleted first)
   and wait; the endpoint's CloudFormation runs SAM's transform;
4. routes: if the HTTP API came up without routes (MiniStack ignores the OpenAPI body SAM generates for
   an HttpApi), they are created through the apigatewayv2 API from that same body, as SAM translates it
   here: one AWS_PROXY integration (payload 2.0) per function, the Cognito JWT authorizer, one route per
   operation; a note says so. Operations under a Condition (`Fn::If`: the diagnostics routes, which the
   tests use only on the local cloud) are not created;
5. test: pytest tests/integration with SHOP_API_URL, SHOP_STACK_OUTPUTS (read with DescribeStacks by stack
   name), AWS_ENDPOINT_URL, AWS_REGION, SHOP_TARGET (tests/support/known_gaps.py marks the target's known
   gaps as strict expected failures) and dummy credentials.

Not part of `make test` or CI; docs/localstack.md holds how to run it and its last result.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.awslambda.builds import COMPLETE, install_requirements  # noqa: E402 - after ROOT is importable

BUILD = ROOT / ".local" / "localstack-build"
BUILD_CACHE = ROOT / ".local" / "cache" / "builds"  # the local cloud's: one install of the layer's requirements
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
REGION = "us-east-1"
# The session clouds of `make test` raise the edge's per-address limits the same way (tests/conftest.py):
# every test calls from one address.
TEST_PARAMETERS = {"SensitiveRateLimit": "1000000", "AddressRateLimit": "10000000", "ClientRateLimit": "1000000"}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same files make the same zip, hence the same key
# An integration's function: ${Fn.Arn}, or ${FnAlias<name>} for one with AutoPublishAlias (SAM points its
# routes at the alias, so the route invokes the version the alias names).
_FUNCTION_ARN = re.compile(r"\$\{(\w+?)(?:\.Arn|Alias(\w+))\}")


def _zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    """Zip `folder`'s files (no __pycache__) under `prefix`, deterministically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_dir() or "__pycache__" in path.parts:
                continue
            info = zipfile.ZipInfo(prefix + path.relative_to(folder).as_posix(), _ZIP_TIME)
            info.external_attr = (path.stat().st_mode & 0o777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return target


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:32]


def build_layer(content_uri: str) -> Path:
    """The layer as `sam build` makes it: python/ holds the shop package and its pinned requirements, installed
    by the local cloud's build step (infra.awslambda.builds) into the cache it shares with the local cloud."""
    source = ROOT / content_uri
    build = install_requirements(source, BUILD_CACHE)
    if build.installed:
        print(f"build: pip install -r {content_uri}/requirements.txt ({build.seconds:.0f} s, cached until it changes)")
    staged = BUILD / "layer"
    shutil.rmtree(staged, ignore_errors=True)
    if build.packages is not None:
        shutil.copytree(build.packages, staged / "python", ignore=shutil.ignore_patterns("__pycache__", COMPLETE))
    # ContentUri is the folder Lambda puts on sys.path (/opt/python): its contents go under the zip's python/.
    shutil.copytree(source, staged / "python", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "requirements.txt"))  # fmt: skip
    return _zip_folder(staged, BUILD / "layer.zip")


def _code_properties(template: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    for resource in template["Resources"].values():
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                yield properties, key


def package(template: dict[str, Any], s3: Any, bucket: str) -> dict[str, Any]:
    """Build and upload every local artifact; return the template with s3:// URIs in their place."""
    for properties, key in _code_properties(template):
        local = properties[key]
        if key == "ContentUri":
            artifact = build_layer(local)
        elif key == "CodeUri":
            artifact = _zip_folder(ROOT / local, BUILD / f"{Path(local).name}.zip")
        else:
            artifact = ROOT / local
        object_key = f"{_digest(artifact)}{''.join(artifact.suffixes)}"
        s3.upload_file(str(artifact), bucket, object_key)
        properties[key] = f"s3://{bucket}/{object_key}"
    return template


def _ensure_bucket(s3: Any, bucket: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=bucket)


def _stack_status(cloudformation: Any, name: str) -> str | None:
    try:
        return str(cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"])
    except cloudformation.exceptions.ClientError:
        return None


def _wait(cloudformation: Any, name: str, *, gone: bool = False, timeout: float = 600) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = _stack_status(cloudformation, name)
        if gone and status in (None, "DELETE_COMPLETE"):
            return None
        if not gone and status and not status.endswith("_IN_PROGRESS"):
            return status
        time.sleep(1)
    raise SystemExit(f"stack {name} still in progress after {timeout:.0f} s")


def deploy(cloudformation: Any, name: str, template_url: str, parameters: Mapping[str, str]) -> dict[str, str]:
    """CreateStack from the uploaded template (replacing a stack of that name) and return its outputs."""
    if _stack_status(cloudformation, name) not in (None, "DELETE_COMPLETE"):
        print(f"deploy: deleting the previous stack {name}", flush=True)
        cloudformation.delete_stack(StackName=name)
        _wait(cloudformation, name, gone=True)
    cloudformation.create_stack(
        StackName=name, TemplateURL=template_url,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )  # fmt: skip
    status = _wait(cloudformation, name)
    if status != "CREATE_COMPLETE":
        events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
        failed = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events
                  if e["ResourceStatus"].endswith("FAILED")]  # fmt: skip
        raise SystemExit(f"stack {name} ended {status}:\n  " + "\n  ".join(failed[:20]))
    described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def _physical_ids(cloudformation: Any, name: str) -> dict[str, str]:
    paginator = cloudformation.get_paginator("list_stack_resources")
    return {
        summary["LogicalResourceId"]: summary["PhysicalResourceId"]
        for page in paginator.paginate(StackName=name)
        for summary in page["StackResourceSummaries"]
    }


def _translated_api_body(parameters: Mapping[str, str]) -> dict[str, Any]:
    """The OpenAPI body SAM generates for the HttpApi, translated here as `sam deploy` would."""
    from infra.cloudformation.provision import resolve_parameters
    from infra.cloudformation.template import load_template, translate

    template = load_template(ROOT / "template.yaml")
    translated = translate(template, ROOT, resolve_parameters(template, dict(parameters)))
    return dict(translated["Resources"]["HttpApi"]["Properties"]["Body"])


def create_missing_routes(
    apigateway: Any, api_id: str, body: dict[str, Any], *, physical: Mapping[str, str], region: str, account: str,
    pool_id: str, client_id: str,
) -> int:
    """Create the HTTP API's routes from SAM's OpenAPI body when the target ignored it; return how many."""
    if apigateway.get_routes(ApiId=api_id, MaxResults="500")["Items"]:
        return 0
    authorizer_id = apigateway.create_authorizer(
        ApiId=api_id, Name="CognitoAuthorizer", AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": f"https://cognito-idp.{region}.amazonaws.com/{pool_id}", "Audience": [client_id]},
    )["AuthorizerId"]  # fmt: skip
    integrations: dict[str, str] = {}
    created = 0
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            integration = operation.get("x-amazon-apigateway-integration") if isinstance(operation, dict) else None
            if not isinstance(integration, dict):  # a path's shared `parameters`, not an operation
                continue
            function = _FUNCTION_ARN.search(json.dumps(integration["uri"]))
            if function is None:
                raise SystemExit(f"{method.upper()} {path}: no function in its integration {integration['uri']}")
            logical, alias = function.group(1), function.group(2)
            qualifier = f":{alias}" if alias else ""
            if logical not in integrations:
                arn = f"arn:aws:lambda:{region}:{account}:function:{physical[logical]}{qualifier}"
                integrations[logical] = apigateway.create_integration(
                    ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="2.0",
                    IntegrationMethod="POST",
                )["IntegrationId"]  # fmt: skip
            secured = any("CognitoAuthorizer" in scheme for scheme in operation.get("security", []))
            apigateway.create_route(
                ApiId=api_id, RouteKey=f"{method.upper()} {path}", Target=f"integrations/{integrations[logical]}",
                **({"AuthorizationType": "JWT", "AuthorizerId": authorizer_id} if secured else {}),
            )  # fmt: skip
            created += 1
    return created


def _api_url(endpoint: str, api_id: str) -> str:
    # LocalStack and MiniStack both serve an API at <endpoint>/_aws/execute-api/<apiId>/<stage>; the HttpApi's
    # stage is $default, which serves from the API's root.
    return f"{endpoint.rstrip('/')}/_aws/execute-api/{api_id}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL", DEFAULT_ENDPOINT))
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", REGION))
    parser.add_argument("--stack-name", default="shop-localstack")
    parser.add_argument("--bucket", default="shop-localstack-artifacts", help="where the artifacts are uploaded")
    parser.add_argument("--target", default=os.environ.get("SHOP_TARGET", "ministack"),
                        help="the target's name in tests/support/known_gaps.py (ministack, localstack)")
    parser.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--deploy-only", action="store_true", help="deploy and print the test environment")
    parser.add_argument("pytest_args", nargs="*", help="after --: arguments for pytest (default tests/integration)")
    args = parser.parse_args(argv)

    environment = {
        "AWS_ENDPOINT_URL": args.endpoint, "AWS_REGION": args.region, "AWS_DEFAULT_REGION": args.region,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    }  # fmt: skip
    os.environ.update(environment)
    import boto3

    from infra.cloudformation.template import load_template

    began = time.monotonic()
    s3 = boto3.client("s3")
    cloudformation = boto3.client("cloudformation")
    _ensure_bucket(s3, args.bucket)
    template = package(load_template(ROOT / "template.yaml"), s3, args.bucket)
    text = json.dumps(template).encode()
    template_key = f"template-{hashlib.sha256(text).hexdigest()[:32]}.json"
    s3.put_object(Bucket=args.bucket, Key=template_key, Body=text)
    print(f"package: {time.monotonic() - began:.1f} s; template {len(text):,} bytes, deployed by TemplateURL",
          flush=True)  # fmt: skip

    parameters = {**TEST_PARAMETERS, **dict(pair.split("=", 1) for pair in args.parameter_overrides)}
    deploying = time.monotonic()
    outputs = deploy(cloudformation, args.stack_name, f"{args.endpoint}/{args.bucket}/{template_key}", parameters)
    physical = _physical_ids(cloudformation, args.stack_name)
    print(f"deploy: {args.stack_name} CREATE_COMPLETE in {time.monotonic() - deploying:.1f} s, "
          f"{len(physical)} resources", flush=True)  # fmt: skip

    api_id = physical["HttpApi"]
    account = boto3.client("sts").get_caller_identity()["Account"]
    created = create_missing_routes(
        boto3.client("apigatewayv2"), api_id, _translated_api_body(parameters), physical=physical,
        region=args.region, account=account, pool_id=outputs["UserPoolId"], client_id=outputs["UserPoolClientId"],
    )  # fmt: skip
    if created:
        print(f"routes: the HTTP API came up without routes (the target ignores the OpenAPI body); "
              f"created {created} from SAM's translation through the apigatewayv2 API", flush=True)  # fmt: skip

    test_environment = {
        **environment, "SHOP_API_URL": _api_url(args.endpoint, api_id), "SHOP_STACK_OUTPUTS": json.dumps(outputs),
        "SHOP_TARGET": args.target,
    }  # fmt: skip
    if args.deploy_only:
        for key, value in test_environment.items():
            print(f"export {key}='{value}'")
        return 0
    command = [sys.executable, "-m", "pytest", *(args.pytest_args or ["tests/integration", "-p", "no:randomly"])]
    print("test:", " ".join(command), flush=True)
    code = subprocess.run(command, cwd=ROOT, env={**os.environ, **test_environment}, check=False).returncode
    print(f"make test-localstack: exit {code} after {time.monotonic() - began:.0f} s (package, deploy and tests)")
    return code


if __name__ == "__main__":
    sys.exit(main())
