"""The Lambda API (the part boto3, the AWS CLI and Step Functions use) in front of the function workers.

    POST /2015-03-31/functions/{FunctionName}/invocations   Invoke (RequestResponse, Event, DryRun)
    GET  /2015-03-31/functions/                              ListFunctions
    GET  /2015-03-31/functions/{FunctionName}                GetFunction
    GET  /2015-03-31/functions/{FunctionName}/configuration  GetFunctionConfiguration

Errors use Lambda's wire format: JSON {"Type": "User", "message": ...} with the error code in the
x-amzn-ErrorType header, which is what botocore turns into client.exceptions.<Code>.

A function is named by name, partial or full ARN, qualified or not (`name:live`, `...:function:name:3`,
`:$LATEST`), or with ?Qualifier=; an unknown function or qualifier is a ResourceNotFoundException.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from infra.awslambda.models import LATEST, FunctionSpec, function_reference
from infra.awslambda.workers import FunctionNotFound, FunctionRuntime
from infra.core.aws import ACCOUNT_ID

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

log = logging.getLogger("infra.awslambda")

PREFIX = "/2015-03-31/functions"
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024  # Lambda's invocation payload quotas
MAX_EVENT_PAYLOAD = 1024 * 1024


class LambdaError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class LambdaApi:
    def __init__(self, runtime: FunctionRuntime) -> None:
        self.runtime = runtime
        self.started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        try:
            status, headers, body = await self._handle(scope, receive)
        except LambdaError as error:
            status = error.status
            headers = [(b"content-type", b"application/json"), (b"x-amzn-errortype", error.code.encode())]
            body = json.dumps({"Type": "User", "message": error.message}).encode()
        except Exception:
            log.exception("Lambda API failure on %s %s", scope["method"], scope["path"])
            status = 500
            headers = [(b"content-type", b"application/json"), (b"x-amzn-errortype", b"ServiceException")]
            body = json.dumps({"Type": "Service", "message": "internal error of the local Lambda API"}).encode()
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, Headers, bytes]:
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if raw else scope["path"]
        if not path.startswith(PREFIX):
            raise LambdaError(404, "UnknownOperationException", f"Unknown operation {scope['method']} {path}")
        parts = [unquote(part) for part in path[len(PREFIX) :].split("/") if part]
        method = scope["method"]
        query = {key: values[0] for key, values in parse_qs(scope.get("query_string", b"").decode()).items()}
        if method == "GET" and not parts:
            return _json({"Functions": [self._configuration(spec) for spec in self.runtime.functions.values()]})
        if not parts:
            raise LambdaError(404, "UnknownOperationException", f"Unknown operation {method} {path}")
        name = parts[0]
        if "Qualifier" in query:
            derived = function_reference(name).partition(":")[2]
            if derived and derived != query["Qualifier"]:
                raise LambdaError(
                    400,
                    "InvalidParameterValueException",
                    "The derived qualifier from the function name does not match the specified qualifier.",
                )
            name = name if derived else f"{name}:{query['Qualifier']}"
        if method == "POST" and parts[1:] == ["invocations"]:
            return await self._invoke(scope, receive, name)
        if method == "GET" and parts[1:] == []:
            return _json(self._get_function(name))
        if method == "GET" and parts[1:] == ["configuration"]:
            return _json(self._configuration(self._resolve(name)))
        raise LambdaError(404, "UnknownOperationException", f"Unknown operation {method} {path}")

    def _resolve(self, name: str) -> FunctionSpec:
        try:
            return self.runtime.resolve(name)
        except FunctionNotFound:
            arn = name
            if not name.startswith("arn:"):
                region = self.runtime.endpoints.region
                arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
            raise LambdaError(404, "ResourceNotFoundException", f"Function not found: {arn}") from None

    async def _invoke(self, scope: Scope, receive: Receive, name: str) -> tuple[int, Headers, bytes]:
        function = self._resolve(name)
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
        payload = await _read_body(receive)
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise LambdaError(400, "InvalidParameterValueException", f"Unsupported invocation type: {invocation_type}")
        limit = MAX_EVENT_PAYLOAD if invocation_type == "Event" else MAX_SYNC_PAYLOAD
        if len(payload) > limit:
            raise LambdaError(
                413,
                "RequestTooLargeException",
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
            )
        if not payload.strip():
            payload = b"{}"  # an invocation without payload gets an empty event, as on AWS
        try:
            json.loads(payload)
        except ValueError as error:
            raise LambdaError(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: Could not parse payload into json: {error}",
            ) from None
        version = [(b"x-amz-executed-version", function.version.encode())]
        if invocation_type == "DryRun":
            return 204, version, b""
        if invocation_type == "Event":
            request_id = await self.runtime.invoke_event(name, payload)
            return 202, [(b"x-amzn-requestid", request_id.encode())], b""
        tail = headers.get("x-amz-log-type") == "Tail"
        result = await self.runtime.invoke(name, payload, capture_log=tail)
        response = [(b"content-type", b"application/json"), (b"x-amzn-requestid", result.request_id.encode())]
        response += version
        if result.function_error:
            response.append((b"x-amz-function-error", result.function_error.encode()))
        if tail and result.log_tail is not None:
            response.append((b"x-amz-log-result", base64.b64encode(result.log_tail)))
        return 200, response, result.payload

    def _configuration(self, spec: FunctionSpec) -> dict[str, Any]:
        configuration: dict[str, Any] = {
            "FunctionName": spec.name,
            "FunctionArn": spec.arn if spec.version == LATEST else spec.qualified_arn,
            "Runtime": spec.runtime,
            "Role": f"arn:aws:iam::{ACCOUNT_ID}:role/{spec.name}Role",
            "Handler": spec.handler,
            "CodeSize": 0,
            "Description": "",
            "Timeout": spec.timeout_seconds,
            "MemorySize": spec.memory_mb,
            "LastModified": self.started,
            "CodeSha256": "",
            "Version": spec.version,
            "Environment": {"Variables": dict(spec.environment)},
            "TracingConfig": {"Mode": "PassThrough"},
            "Layers": [{"Arn": f"local:{path}", "CodeSize": 0} for path in spec.layer_dirs],
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
            "EphemeralStorage": {"Size": 512},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{spec.name}"},
        }
        return configuration

    def _get_function(self, name: str) -> dict[str, Any]:
        spec = self._resolve(name)
        result: dict[str, Any] = {
            "Configuration": self._configuration(spec),
            "Code": {"RepositoryType": "Local", "Location": spec.code_dir.as_uri()},
            "Tags": {},
        }
        if spec.reserved_concurrency is not None:
            result["Concurrency"] = {"ReservedConcurrentExecutions": spec.reserved_concurrency}
        return result


def _json(data: Any) -> tuple[int, Headers, bytes]:
    return 200, [(b"content-type", b"application/json")], json.dumps(data).encode()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def create_lambda_api_app(runtime: FunctionRuntime) -> LambdaApi:
    return LambdaApi(runtime)
