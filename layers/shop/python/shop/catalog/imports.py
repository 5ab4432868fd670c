"""Bulk onboarding: a seller uploads a JSONL or CSV file of items; each good row becomes an item.

1. start_import: an ImportJob (PENDING) and a presigned S3 POST for imports/<sellerId>/<importId>.<ext>.
2. The upload's S3 notification runs process_import_upload: every row is validated with the same schema
   as POST /items (NewItem) and onboarded through the same path (compliance, SKU claim, one transaction).
3. get_import: progress, counts and per-row errors, for the seller who started it.

One import is processed by one invocation: processing claims the import with a conditional write
(PENDING -> PROCESSING, recording the invocation's id), so a second S3 event for it (a duplicate
notification, or the seller uploading again with the same form while the first file is imported) is
logged and skipped, and a finished import takes no other file. Only Lambda's own retry of the claiming
invocation (same request id) goes on with the job. Redelivery creates nothing twice anyway: row n of an
import always gets the same item id (derived from the import id and n), and the item is written only if
that id does not exist yet.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from pydantic import ValidationError
from pynamodb.exceptions import UpdateError

from shop import aws, clock
from shop.catalog.items import onboard_item_once
from shop.catalog.schemas import ImportStarted, ImportView, NewImport, NewItem, RowErrorView, UploadForm
from shop.catalog.tables import ITEM_ID_PREFIX, ImportJob, ImportRowError
from shop.config import catalog_settings, required
from shop.dynamodb import condition_failed, find
from shop.errors import ImportNotFoundError, ShopError
from shop.identity import Caller, require_seller
from shop.ids import derived_id, is_id, new_id
from shop.validation import field_name

logger = Logger(child=True)

IMPORT_ID_PREFIX = "imp"
KEY_PREFIX = "imports/"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
MAX_STORED_ERRORS = 1_000  # keeps the report far below DynamoDB's 400 KB item limit
MAX_MESSAGE_CHARS = 300
UPLOAD_EXPIRES_SECONDS = 900
REPORT_RETENTION = timedelta(days=30)
PROGRESS_EVERY_SECONDS = 1.0
WRITERS = 8  # rows created in parallel: each is one small transaction, bound by latency, not CPU

PENDING, PROCESSING, COMPLETED, FAILED = "PENDING", "PROCESSING", "COMPLETED", "FAILED"
_TERMINAL = frozenset({COMPLETED, FAILED})

CSV_COLUMNS = ("name", "description", "price", "quantity", "sku", "brand", "category", "tags")
CSV_REQUIRED = frozenset({"name", "description", "price", "quantity"})
_INTEGER = re.compile(r"^[+-]?\d+$")
_KEY = re.compile(r"^imports/(?P<seller>[^/]+)/(?P<import_id>imp_[0-9A-Z]{26})\.(?P<ext>jsonl|csv)$")


@dataclass(frozen=True)
class RowError:
    row: int
    code: str
    message: str
    field: str | None = None


@dataclass
class ParsedRow:
    row: int
    item: NewItem | None
    errors: list[RowError] = field(default_factory=list)


class ImportFileError(Exception):
    """The file as a whole cannot be imported (nothing is created); the import ends FAILED with this reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------- starting and reading an import
def start_import(seller: Caller, request: NewImport) -> ImportStarted:
    """Record a PENDING import and hand back the presigned POST that uploads its file."""
    require_seller(seller, "import items")
    import_id = new_id(IMPORT_ID_PREFIX)
    key = f"{KEY_PREFIX}{seller.user_id}/{import_id}.{request.format}"
    now = clock.now()
    ImportJob(
        import_id,
        seller_id=seller.user_id,
        format=request.format,
        object_key=key,
        status=PENDING,
        created_at=clock.iso(now),
        updated_at=clock.iso(now),
        expires_at=now + REPORT_RETENTION,
    ).save(condition=ImportJob.import_id.does_not_exist())
    post = aws.s3().generate_presigned_post(
        Bucket=_bucket(),
        Key=key,
        Conditions=[["content-length-range", 1, MAX_UPLOAD_BYTES]],
        ExpiresIn=UPLOAD_EXPIRES_SECONDS,
    )
    return ImportStarted(
        import_id=import_id,
        status="PENDING",
        upload=UploadForm(
            url=post["url"],
            method="POST",
            fields={str(name): str(value) for name, value in post["fields"].items()},
            headers={},
            expires_in=UPLOAD_EXPIRES_SECONDS,
            max_bytes=MAX_UPLOAD_BYTES,
        ),
    )


def get_import(caller: Caller, import_id: str) -> ImportView:
    """The import's report; another seller's import answers 404, as if it did not exist."""
    require_seller(caller, "read imports")
    job = _load(import_id)
    if job is None or job.seller_id != caller.user_id:
        raise ImportNotFoundError(details={"importId": import_id})
    return _view(job)


# ---------------------------------------------------------------- processing an upload
def process_import_upload(bucket: str, key: str, etag: str, size: int, *, invocation_id: str) -> ImportView | None:
    """Import the file an S3 notification reports; None when the object is no import's, or its import is
    being processed by another invocation or is finished.

    `invocation_id` names the invocation that processes it (the Lambda request id, which Lambda keeps when it
    retries an asynchronous invocation), so a retry of the claiming invocation resumes the job.
    """
    key = unquote_plus(key)
    match = _KEY.match(key)
    job = _load(match["import_id"]) if match else None
    if match is None or job is None or job.seller_id != match["seller"] or job.object_key != key:
        logger.warning("upload matches no import; ignored", extra={"key": key})
        return None
    etag = etag.strip('"')
    if job.status in _TERMINAL:
        # One import takes one file. The same file again (a redelivered notification, a re-upload) was
        # imported already; a different file needs a new import, so its rows are not mixed into this report.
        logger.info("import already finished; upload ignored", extra={"importId": job.import_id, "eTag": etag})
        return None
    if not _claim(job, invocation_id):
        logger.info(
            "import is being processed by another invocation; upload ignored",
            extra={"importId": job.import_id, "eTag": etag, "processedBy": job.processed_by},
        )
        return None
    try:
        if size > MAX_UPLOAD_BYTES:
            raise ImportFileError("FILE_TOO_LARGE", f"the file is {size} bytes; at most {MAX_UPLOAD_BYTES} are taken")
        body = aws.s3().get_object(Bucket=bucket, Key=key)["Body"].read(MAX_UPLOAD_BYTES + 1)
        rows = parse_file(job.format, body)
    except ImportFileError as error:
        _mark(job, status=FAILED, failure_reason=f"{error.code}: {error.message}", total=0, created=0, failed=0)
        return _view(job)
    created_ms = int(clock.parse_iso(job.created_at).timestamp() * 1000)
    report = _create_rows(job, rows, created_ms)
    _mark(
        job,
        status=COMPLETED,
        total=len(rows),
        created=report.created,
        failed=report.failed,
        errors=report.errors,
    )
    logger.info(
        "import completed",
        extra={
            "importId": job.import_id,
            "rows": len(rows),
            "createdItems": report.created,
            "failedRows": report.failed,
        },
    )
    return _view(job)


@dataclass
class _Report:
    created: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)


def _create_rows(job: ImportJob, rows: list[ParsedRow], created_ms: int) -> _Report:
    report = _Report()
    to_create: list[ParsedRow] = []
    for parsed in rows:
        if parsed.errors:
            report.failed += 1
            report.errors.extend(parsed.errors)
        else:
            to_create.append(parsed)

    def create(parsed: ParsedRow) -> RowError | None:
        assert parsed.item is not None
        item_id = derived_id(ITEM_ID_PREFIX, f"{job.import_id}:{parsed.row}", created_ms)
        try:
            onboard_item_once(job.seller_id, parsed.item, item_id=item_id)
        except ShopError as error:
            return RowError(parsed.row, error.code, error.message, _field_of(error))
        return None

    last_progress = time.monotonic()
    with ThreadPoolExecutor(WRITERS, thread_name_prefix="import") as pool:
        futures = [pool.submit(create, parsed) for parsed in to_create]
        for future in as_completed(futures):
            problem = future.result()  # anything but a row's own error fails the invocation: S3 retries it
            if problem is None:
                report.created += 1
            else:
                report.failed += 1
                report.errors.append(problem)
            if time.monotonic() - last_progress >= PROGRESS_EVERY_SECONDS:
                last_progress = time.monotonic()
                _progress(job, total=len(rows), created=report.created, failed=report.failed)
    report.errors.sort(key=lambda error: (error.row, error.field or ""))
    return report


def _field_of(error: ShopError) -> str | None:
    value = error.details.get("field")
    if value is None and "sku" in error.details:
        return "sku"
    return str(value) if value is not None else None


# ---------------------------------------------------------------- parsing
def parse_file(file_format: str, body: bytes) -> list[ParsedRow]:
    """Every row of the file, validated; ImportFileError when the file as a whole is unusable."""
    if len(body) > MAX_UPLOAD_BYTES:
        raise ImportFileError("FILE_TOO_LARGE", f"at most {MAX_UPLOAD_BYTES} bytes are taken")
    try:
        text = body.decode("utf-8-sig")  # a spreadsheet's BOM is not part of the first column's name
    except UnicodeDecodeError as error:
        raise ImportFileError("NOT_UTF8", f"the file is not UTF-8 text (byte {error.start})") from None
    records = _jsonl_records(text) if file_format == "jsonl" else _csv_records(text)
    rows: list[ParsedRow] = []
    for row, record in records:
        if len(rows) == MAX_ROWS:
            raise ImportFileError("TOO_MANY_ROWS", f"a file may hold at most {MAX_ROWS} rows; split it")
        rows.append(_validated(row, record))
    if not rows:
        raise ImportFileError("EMPTY_FILE", "the file has no rows")
    _refuse_repeated_skus(rows)
    return rows


def _jsonl_records(text: str) -> Iterator[tuple[int, Mapping[str, Any] | RowError]]:
    """(line number, the line's object or why it is not one); blank lines are skipped, not rows."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as error:
            yield number, RowError(number, "MALFORMED_JSON", _short(f"the line is not JSON: {error}"))
            continue
        if not isinstance(value, dict):
            yield number, RowError(number, "MALFORMED_JSON", "the line must be a JSON object")
            continue
        yield number, value


def _csv_records(text: str) -> Iterator[tuple[int, Mapping[str, Any] | RowError]]:
    """(data row number, the row as an item body); the header is row 0 and must name known columns."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return
    except csv.Error as error:
        raise ImportFileError("MALFORMED_CSV", f"the header cannot be read: {error}") from None
    unknown = [name for name in header if name not in CSV_COLUMNS]
    missing = sorted(CSV_REQUIRED - set(header))
    if unknown or missing or len(set(header)) != len(header):
        raise ImportFileError(
            "BAD_CSV_HEADER",
            f"columns must be among {', '.join(CSV_COLUMNS)} without repeats; "
            f"unknown: {unknown or 'none'}, missing: {missing or 'none'}",
        )
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            number += 1
            yield number, RowError(number, "MALFORMED_CSV", _short(str(error)))
            continue
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        number += 1
        if len(cells) != len(header):
            yield number, RowError(number, "MALFORMED_CSV", f"the row has {len(cells)} cells; the header {len(header)}")
            continue
        yield number, csv_item(dict(zip(header, cells, strict=True)))


def csv_item(cells: Mapping[str, str]) -> dict[str, Any]:
    """A CSV row as the JSON body POST /items takes: integers parsed, empty optional cells left out."""
    body: dict[str, Any] = {}
    for name, cell in cells.items():
        value = cell.strip()
        if name in ("price", "quantity"):
            if value:
                # Only plain integers become numbers; "9.99" stays text, so the schema refuses it as for JSON.
                body[name] = int(value) if _INTEGER.match(value) else value
        elif name == "tags":
            tags = [tag for tag in (part.strip() for part in value.split(";")) if tag]
            if tags:
                body[name] = tags
        elif name in ("name", "description") or value:
            body[name] = cell
    return body


def _validated(row: int, record: Mapping[str, Any] | RowError) -> ParsedRow:
    if isinstance(record, RowError):
        return ParsedRow(row, None, [record])
    try:
        return ParsedRow(row, NewItem.model_validate(record))
    except ValidationError as error:
        problems: dict[str, RowError] = {}
        for detail in error.errors():
            name = field_name(detail["loc"])
            problems.setdefault(name, RowError(row, "VALIDATION_FAILED", _short(detail["msg"]), name))
        return ParsedRow(row, None, list(problems.values()))


def _refuse_repeated_skus(rows: list[ParsedRow]) -> None:
    # Decided here, in file order, so the report names the later row whatever order rows are written in.
    first: dict[str, int] = {}
    for parsed in rows:
        if parsed.item is None or parsed.item.sku is None:
            continue
        sku = parsed.item.sku.upper()
        if sku in first:
            parsed.errors.append(
                RowError(parsed.row, "DUPLICATE_SKU", f"SKU {parsed.item.sku!r} repeats row {first[sku]}", "sku")
            )
            parsed.item = None
        else:
            first[sku] = parsed.row


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 1] + "…"


# ---------------------------------------------------------------- storage
def _load(import_id: str) -> ImportJob | None:
    if not is_id(import_id, IMPORT_ID_PREFIX):
        return None
    return find(ImportJob, import_id)


def _claim(job: ImportJob, invocation_id: str) -> bool:
    """PENDING -> PROCESSING for this invocation, conditionally; True when this invocation may process the
    import (it claimed it now, or claimed it before and is being retried). `job` is refreshed either way."""
    try:
        job.update(
            actions=[ImportJob.status.set(PROCESSING), ImportJob.processed_by.set(invocation_id),
                     ImportJob.updated_at.set(clock.now_iso())],
            condition=(ImportJob.status == PENDING)
            | ((ImportJob.status == PROCESSING) & (ImportJob.processed_by == invocation_id)),
        )  # fmt: skip
    except UpdateError as error:
        if not condition_failed(error):
            raise
        job.refresh(consistent_read=True)
        return False
    return True


def _mark(job: ImportJob, *, status: str, errors: list[RowError] | None = None, **counts: Any) -> None:
    actions: list[Any] = [ImportJob.status.set(status), ImportJob.updated_at.set(clock.now_iso())]
    for name, value in counts.items():
        actions.append(getattr(ImportJob, name).set(value))
    if errors is not None:
        kept = errors[:MAX_STORED_ERRORS]
        stored = [_stored_error(error) for error in kept]
        actions.append(ImportJob.errors.set(stored))
        actions.append(ImportJob.errors_truncated.set(len(errors) > len(kept)))
    job.update(actions=actions)


def _stored_error(error: RowError) -> ImportRowError:
    return ImportRowError(  # type: ignore[no-untyped-call]  # pynamodb leaves MapAttribute.__init__ untyped
        row=error.row, field=error.field, code=error.code, message=error.message
    )


def _progress(job: ImportJob, **counts: int) -> None:
    try:
        job.update(
            actions=[getattr(ImportJob, name).set(value) for name, value in counts.items()]
            + [ImportJob.updated_at.set(clock.now_iso())],
            condition=ImportJob.status == PROCESSING,
        )
    except UpdateError:
        logger.warning("progress not recorded", extra={"importId": job.import_id}, exc_info=True)


def _view(job: ImportJob) -> ImportView:
    return ImportView(
        import_id=job.import_id,
        format=job.format,  # type: ignore[arg-type]  # written only from NewImport.format
        status=job.status,  # type: ignore[arg-type]
        total=int(job.total or 0),
        created=int(job.created or 0),
        failed=int(job.failed or 0),
        errors=[
            RowErrorView(row=int(error.row), field=error.field, code=error.code, message=error.message)
            for error in job.errors or []
        ],
        errors_truncated=bool(job.errors_truncated),
        failure_reason=job.failure_reason,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


def _bucket() -> str:
    return required(catalog_settings().imports_bucket, "IMPORTS_BUCKET")
