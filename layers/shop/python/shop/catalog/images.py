"""Item images: a seller asks to upload one, S3 receives the file, the image pipeline checks and serves it.

1. `request_image_upload`: the owning seller gets a presigned S3 POST form for uploads/<itemId>/<imageId>
   (S3's policy limits the size and the content type) and the item gets an image entry {imageId, PENDING}.
2. S3 notifies ImageProcessorFunction of the new object; `process_image_upload` checks that it is a real JPEG, PNG or
   WebP within the byte and pixel limits (decompression bombs included), re-encodes it without metadata
   as renditions/<itemId>/<imageId>/<size>.webp (200 and 800 px on the longest side, never upscaled),
   marks the entry READY with their URLs and publishes ItemImageReady; a bad upload becomes REJECTED
   with a reason and produces no rendition. The original is deleted either way: only renditions are served.

Every change of the item's image list is a conditional write on the item's version (re-read and retried
on conflict), and a transition only happens from PENDING, so S3 redelivering an event changes nothing.
The original object doubles as the "not finished" marker: it is deleted last, so a run that died after
marking the entry READY is completed by the retry (the event is re-published with the same id).

Pillow is imported by the functions that decode images only, so importing the catalog (every function
that reads items does) does not load it.
"""

from __future__ import annotations

import io
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from pynamodb.exceptions import UpdateError

from shop import aws, clock, events
from shop.catalog.items import load_item
from shop.catalog.schemas import ImageUploadView, RejectionReason, UploadForm
from shop.catalog.tables import ITEM_ID_PREFIX, Item, ItemImage
from shop.config import media_settings
from shop.dynamodb import condition_failed, find
from shop.errors import ForbiddenError, ItemChangedError, ItemNotFoundError, TooManyImagesError
from shop.identity import Caller, require_seller
from shop.ids import is_id, new_id

if TYPE_CHECKING:
    from PIL import Image

logger = Logger(child=True)

IMAGE_ID_PREFIX = "img"
UPLOAD_PREFIX = "uploads/"
RENDITION_PREFIX = "renditions/"
RENDITION_SIZES = (800, 200)  # longest side in pixels, largest first: each is made from the one before
RENDITION_FORMAT, RENDITION_EXTENSION, RENDITION_CONTENT_TYPE = "WEBP", "webp", "image/webp"
RENDITION_QUALITY = 82
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
# Renditions never change once written (a new upload gets a new imageId), so caches may keep them forever.
RENDITION_CACHE_CONTROL = "public, max-age=31536000, immutable"
KEPT_REJECTIONS = 5  # older REJECTED entries are pruned when a new image is added
PROCESSING_GRACE = timedelta(minutes=15)  # after the form expires, how long an upload may still be in flight
ATTEMPTS = 5  # optimistic writes retried on a concurrent change of the item

PENDING: Final = "PENDING"
READY: Final = "READY"
REJECTED: Final = "REJECTED"
SOURCE = "shop.media"  # ItemImageReady's source, as consumers match it (older than this package's name)


# ---------------------------------------------------------------- the image checks (pure, no I/O)
class ImageRejected(Exception):
    def __init__(self, reason: RejectionReason, message: str) -> None:
        super().__init__(message)
        self.reason: RejectionReason = reason


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int


def inspect_image(data: bytes, limits: Limits) -> Image.Image:
    """The decoded image, upright, in sRGB, RGB or RGBA, with no metadata; ImageRejected when it is not
    a JPEG, PNG or WebP within the limits.

    The pixel count is checked on the header before anything is decoded, and Pillow's own bomb check
    (MAX_IMAGE_PIXELS, its warning turned into an error) backs it up for formats whose header lies.
    """
    from PIL import Image, UnidentifiedImageError

    if len(data) > limits.max_bytes:
        raise ImageRejected("TOO_LARGE", f"{len(data)} bytes is over the limit of {limits.max_bytes}")
    if not data:
        raise ImageRejected("NOT_AN_IMAGE", "the upload is empty")
    # Pillow's limit is a module global: set for this image only, so it never leaks into other code of the
    # process (a test run decoding its own images after a unit test's tiny limit failed that way).
    previous_limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, limits.max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                _check_header(probe, limits)
                probe.verify()  # walks the whole file: truncated or corrupt data fails here
            image = Image.open(io.BytesIO(data))  # verify() leaves the image unusable: open it again
            _check_header(image, limits)
            image.draft("RGB", (RENDITION_SIZES[0], RENDITION_SIZES[0]))  # JPEG: decode at a reduced scale
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageRejected("TOO_MANY_PIXELS", str(error)) from None
        except UnidentifiedImageError:
            raise ImageRejected("NOT_AN_IMAGE", "the file is not an image Pillow can read") from None
        except ImageRejected:
            raise
        except (OSError, SyntaxError, ValueError, EOFError) as error:  # what Pillow raises for broken data
            raise ImageRejected("NOT_AN_IMAGE", f"the image data is broken: {error}") from None
        finally:
            Image.MAX_IMAGE_PIXELS = previous_limit
    return _clean(image)


def _check_header(image: Image.Image, limits: Limits) -> None:
    if image.format not in ACCEPTED_FORMATS:
        raise ImageRejected("UNSUPPORTED_FORMAT", f"{image.format} is not one of JPEG, PNG, WebP")
    width, height = image.size
    if width * height > limits.max_pixels:
        raise ImageRejected("TOO_MANY_PIXELS", f"{width}x{height} is over the limit of {limits.max_pixels} pixels")


def _clean(image: Image.Image) -> Image.Image:
    """Upright (EXIF orientation applied), converted to sRGB, RGB or RGBA: a new image carrying no metadata."""
    from PIL import Image, ImageCms, ImageOps

    icc = image.info.get("icc_profile")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    upright = ImageOps.exif_transpose(image) or image
    converted = upright.convert("RGBA" if has_alpha else "RGB")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            converted = ImageCms.profileToProfile(converted, source, srgb, outputMode=converted.mode) or converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            logger.info("embedded colour profile unreadable; keeping the pixel values as they are")
    # A fresh image from the pixels alone: no EXIF, XMP, ICC or comments survive into the renditions.
    clean = Image.new(converted.mode, converted.size)
    clean.paste(converted)
    return clean


def make_renditions(image: Image.Image) -> dict[int, bytes]:
    """WebP files per longest side in RENDITION_SIZES; an image smaller than a size is kept at its own size."""
    from PIL import Image

    renditions: dict[int, bytes] = {}
    current = image
    for size in RENDITION_SIZES:
        current = current.copy()
        current.thumbnail((size, size), Image.Resampling.LANCZOS)  # keeps the aspect ratio, never upscales
        out = io.BytesIO()
        current.save(out, RENDITION_FORMAT, quality=RENDITION_QUALITY, method=4)
        renditions[size] = out.getvalue()
    return renditions


# ---------------------------------------------------------------- 1. asking to upload
def request_image_upload(caller: Caller, item_id: str) -> ImageUploadView:
    """A presigned POST form for one image of the caller's own item; the item gets a PENDING entry."""
    require_seller(caller, "add images to items")
    if not is_id(item_id, ITEM_ID_PREFIX):
        raise ItemNotFoundError(details={"itemId": item_id})
    config = media_settings()
    image_id = new_id(IMAGE_ID_PREFIX)
    now = clock.now()
    for _ in range(ATTEMPTS):
        item = load_item(item_id)
        if item.seller_id != caller.user_id:
            raise ForbiddenError("only the item's seller adds images to it", details={"itemId": item_id})
        images = _pruned(item.images, now, config.upload_expires_seconds)
        if sum(1 for entry in images if entry.status != REJECTED) >= config.max_images_per_item:
            raise TooManyImagesError(details={"itemId": item_id, "maxImages": config.max_images_per_item})
        stamp = clock.iso(now)
        images.append(ItemImage(image_id=image_id, status=PENDING, created_at=stamp, updated_at=stamp))  # type: ignore[no-untyped-call]
        if _write_images(item, images, stamp):
            break
    else:
        raise ItemChangedError(details={"itemId": item_id})
    logger.info("image upload requested", extra={"itemId": item_id, "imageId": image_id})
    return ImageUploadView(image_id=image_id, status=PENDING, upload=_upload_form(item_id, image_id))


def _upload_form(item_id: str, image_id: str) -> UploadForm:
    config = media_settings()
    key = upload_key(item_id, image_id)
    post = aws.s3().generate_presigned_post(
        config.bucket,
        key,
        Conditions=[
            ["content-length-range", 1, config.max_upload_bytes],
            ["starts-with", "$Content-Type", "image/"],
        ],
        ExpiresIn=config.upload_expires_seconds,
    )
    return UploadForm(
        url=post["url"],
        method="POST",
        fields={str(name): str(value) for name, value in post["fields"].items()},
        headers={},
        expires_in=config.upload_expires_seconds,
        max_bytes=config.max_upload_bytes,
    )


def _pruned(images: Iterable[ItemImage], now: datetime, expires_seconds: int) -> list[ItemImage]:
    """The entries worth keeping: abandoned PENDING ones (form expired, nothing arrived) and all but the
    newest KEPT_REJECTIONS rejections go, so neither can use up the item's image slots for good."""
    abandoned_before = now - timedelta(seconds=expires_seconds) - PROCESSING_GRACE
    kept = [e for e in images if not (e.status == PENDING and clock.parse_iso(e.created_at) < abandoned_before)]
    rejected = [e.image_id for e in kept if e.status == REJECTED]
    dropped = set(rejected[: max(0, len(rejected) - KEPT_REJECTIONS)])
    return [e for e in kept if e.image_id not in dropped]


# ---------------------------------------------------------------- 2. processing an upload
Outcome = Literal["READY", "REJECTED", "IGNORED"]


def upload_key(item_id: str, image_id: str) -> str:
    return f"{UPLOAD_PREFIX}{item_id}/{image_id}"


def rendition_key(item_id: str, image_id: str, size: int) -> str:
    return f"{RENDITION_PREFIX}{item_id}/{image_id}/{size}.{RENDITION_EXTENSION}"


def process_image_upload(bucket: str, event_key: str) -> Outcome:
    """Handles one S3 ObjectCreated record for uploads/<itemId>/<imageId> (the key as S3 encodes it)."""
    key = unquote_plus(event_key)
    parts = key.split("/")
    s3 = aws.s3()
    if len(parts) != 3 or not is_id(parts[1], ITEM_ID_PREFIX) or not is_id(parts[2], IMAGE_ID_PREFIX):
        logger.warning("not an image upload key; deleting the object", extra={"key": key})
        s3.delete_object(Bucket=bucket, Key=key)
        return "IGNORED"
    item_id, image_id = parts[1], parts[2]
    context = {"itemId": item_id, "imageId": image_id}
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as error:
        if _not_found(error):
            # Processed already (the original is deleted last): a redelivered event changes nothing.
            logger.info("upload already processed", extra=context)
            return "IGNORED"
        raise
    entry = _entry(item_id, image_id)
    if entry is None or entry.status != PENDING:
        return _finish_repeat(bucket, key, item_id, image_id, entry)

    config = media_settings()
    limits = Limits(config.max_upload_bytes, config.max_pixels)
    try:
        if int(head["ContentLength"]) > limits.max_bytes:  # never download what is too large to keep
            raise ImageRejected("TOO_LARGE", f"{head['ContentLength']} bytes is over the limit of {limits.max_bytes}")
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read(limits.max_bytes + 1)
        renditions = make_renditions(inspect_image(data, limits))
    except ImageRejected as rejection:
        logger.info("upload rejected", extra={**context, "reason": rejection.reason, "why": str(rejection)})
        _transition(item_id, image_id, status=REJECTED, reason=rejection.reason)
        s3.delete_object(Bucket=bucket, Key=key)
        return "REJECTED"

    urls: dict[str, str] = {}
    for size, body in renditions.items():
        rendition = rendition_key(item_id, image_id, size)
        s3.put_object(
            Bucket=bucket, Key=rendition, Body=body, ContentType=RENDITION_CONTENT_TYPE,
            CacheControl=RENDITION_CACHE_CONTROL,
        )  # fmt: skip
        urls[str(size)] = f"{config.cdn_base_url}/{rendition}"
    if _transition(item_id, image_id, status=READY, urls=urls):
        _publish_ready(item_id, image_id, urls)
        s3.delete_object(Bucket=bucket, Key=key)
        logger.info("image ready", extra=context)
        return "READY"
    # Another run finished this image while we worked (a concurrent duplicate event): follow its result.
    return _finish_repeat(bucket, key, item_id, image_id, _entry(item_id, image_id))


def _finish_repeat(bucket: str, key: str, item_id: str, image_id: str, entry: ItemImage | None) -> Outcome:
    """The upload's entry is no longer PENDING (or is gone) but the original is still there: a previous
    run stopped before its last step, or the seller posted the form again. Complete what is missing."""
    if entry is not None and entry.status == READY:
        # The previous run may have died between marking READY and publishing: publish again with the same
        # event id (consumers deduplicate by id).
        renditions = entry.renditions.attribute_values if entry.renditions is not None else {}
        _publish_ready(item_id, image_id, {str(k): str(v) for k, v in renditions.items()})
    logger.info(
        "upload for an image that is not pending; deleting it",
        extra={"itemId": item_id, "imageId": image_id, "status": entry.status if entry else None},
    )
    aws.s3().delete_object(Bucket=bucket, Key=key)
    return "IGNORED"


def _transition(
    item_id: str, image_id: str, *, status: str, reason: str | None = None, urls: dict[str, str] | None = None
) -> bool:
    """PENDING -> status, as a write conditional on the item's version; False when the entry is not PENDING."""
    for _ in range(ATTEMPTS):
        item = find(Item, item_id)
        if item is None:
            return False
        images = list(item.images)
        index = next((i for i, e in enumerate(images) if e.image_id == image_id), None)
        if index is None or images[index].status != PENDING:
            return False
        stamp = clock.now_iso()
        entry = images[index]
        images[index] = ItemImage(  # type: ignore[no-untyped-call]
            image_id=image_id, status=status, reason=reason, created_at=entry.created_at, updated_at=stamp,
            url=urls[str(RENDITION_SIZES[0])] if urls else None, renditions=urls,
        )  # fmt: skip
        if _write_images(item, images, stamp):
            return True
    raise ItemChangedError(details={"itemId": item_id})


def _publish_ready(item_id: str, image_id: str, urls: dict[str, str]) -> None:
    events.publish(
        "ItemImageReady",
        {"itemId": item_id, "imageId": image_id, "url": urls.get(str(RENDITION_SIZES[0])), "renditions": urls},
        source=SOURCE,
        # One id per image, whichever run publishes it: a repeat is recognisably the same event.
        event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"shop:ItemImageReady:{item_id}:{image_id}")),
    )


# ---------------------------------------------------------------- persistence helpers
def _entry(item_id: str, image_id: str) -> ItemImage | None:
    item = find(Item, item_id)
    if item is None:
        return None
    return next((entry for entry in item.images if entry.image_id == image_id), None)


def _write_images(item: Item, images: list[ItemImage], stamp: str) -> bool:
    """Saves the image list if the item is still at the version read (pynamodb adds that condition and
    increments the version); False when someone changed the item in between."""
    try:
        item.update(actions=[Item.images.set(images), Item.updated_at.set(stamp)])
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def _not_found(error: Any) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in {"404", "NoSuchKey", "NotFound"}
