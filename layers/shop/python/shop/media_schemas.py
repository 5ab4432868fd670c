"""What a seller gets to upload an item image, and how an item's images read back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from shop.validation import ViewModel

ImageStatus = Literal["PENDING", "READY", "REJECTED"]
RejectionReason = Literal["NOT_AN_IMAGE", "TOO_LARGE", "TOO_MANY_PIXELS", "UNSUPPORTED_FORMAT"]


class UploadForm(ViewModel):
    """A presigned S3 POST form, for item images and for import files alike."""

    url: str = Field(description="Where to send the file.")
    method: Literal["POST"]
    fields: dict[str, str] = Field(
        description="Form fields to send, in this order, before the file field named `file` (multipart/form-data)."
    )
    headers: dict[str, str] = Field(description="Extra request headers (none for a form POST).")
    expires_in: int = Field(description="Seconds the form stays usable.")
    max_bytes: int = Field(description="The largest file accepted.")


class ImageUploadView(ViewModel):
    image_id: str
    status: ImageStatus
    upload: UploadForm


class ImageView(ViewModel):
    image_id: str
    status: ImageStatus
    reason: RejectionReason | None = Field(default=None, description="Why a REJECTED upload was refused.")
    url: str | None = Field(default=None, description="The largest rendition, once READY.")
    renditions: dict[str, str] | None = Field(
        default=None, description='Longest side in pixels -> URL, once READY: {"200": url, "800": url}.'
    )


def image_views(stored: Any) -> list[Any]:
    """The item's stored image entries (pynamodb ItemImage maps or plain dicts) as ImageView input.

    Older items stored no images or a list of strings; anything not an entry is skipped rather than failing
    the whole item read.
    """
    if not isinstance(stored, Iterable) or isinstance(stored, str | bytes):
        return []
    views: list[Any] = []
    for entry in stored:
        if isinstance(entry, ImageView):
            views.append(entry)
            continue
        values = entry if isinstance(entry, Mapping) else getattr(entry, "attribute_values", None)
        if not values:
            continue
        image_id = values.get("image_id") or values.get("imageId")
        if not image_id:
            continue
        renditions = values.get("renditions")
        if renditions is not None and not isinstance(renditions, Mapping):
            renditions = getattr(renditions, "attribute_values", None)
        views.append(
            ImageView(
                image_id=str(image_id),
                status=values.get("status", "PENDING"),
                reason=values.get("reason"),
                url=values.get("url"),
                renditions={str(k): str(v) for k, v in renditions.items()} if renditions else None,
            )
        )
    return views


# An item view's `images` field (shop.catalog_schemas.ItemView): it takes the stored entries (pynamodb ItemImage
# maps) and renders them as ImageView, so to the type checker it accepts any list.
if TYPE_CHECKING:
    StoredImages = list[Any]
else:
    StoredImages = Annotated[list[ImageView], BeforeValidator(image_views)]
