"""What sellers send to list, change, import and illustrate items, and what anyone reads back about them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError

from shop.inventory import DEFAULT_VARIANT
from shop.validation import AttributeMap, RequestModel, Text, ViewModel, null_only_for

MAX_PRICE = 10_000_000_00  # minor units: 10 million in the major unit
MAX_QUANTITY = 1_000_000
# DynamoDB's TransactWriteItems takes at most 100 actions: the item plus one stock row per variant.
MAX_VARIANTS = 99

Price = Annotated[int, Field(gt=0, le=MAX_PRICE, description="Integer minor units: 999 is 9.99.")]
Units = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
ItemName = Annotated[str, Text(1, 200)]
Description = Annotated[str, Text(0, 5000, multiline=True)]
Sku = Annotated[str, Text(1, 64)]
Label = Annotated[str, Text(1, 100)]
# Brands keep the seller's casing ("iPhone", "JBL", "de'Longhi" would be mangled by title-casing); categories
# are a controlled vocabulary, lower-cased so facets and price rules never split on case.
Brand = Annotated[str, Text(1, 100), Field(description="Kept as given (whitespace normalised).")]
Category = Annotated[str, Text(1, 100, case="lower"), Field(description="Lower-cased.")]
Currency = Annotated[str, Text(3, 3, case="upper", pattern="^[A-Z]{3}$"), Field(description="ISO 4217 code.")]
Tag = Annotated[str, Text(1, 40, case="lower")]
VariantId = Annotated[str, Text(1, 64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


def _distinct(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Tags = Annotated[list[Tag], Field(max_length=20), AfterValidator(_distinct)]


class NewVariant(RequestModel):
    variant_id: VariantId | None = Field(
        default=None, description=f"Unique within the item; generated when absent. '{DEFAULT_VARIANT}' is reserved."
    )
    sku: Sku | None = None
    attributes: AttributeMap = Field(default_factory=dict, description='e.g. {"color": "red", "size": "M"}')
    price: Price | None = Field(default=None, description="Defaults to the item's price.")
    stock: Units


class NewItem(RequestModel):
    name: ItemName
    description: Description
    price: Price
    quantity: Units = Field(description="Units in stock; with variants, the sum of their stock.")
    currency: Currency = "USD"
    sku: Sku | None = None
    brand: Brand | None = None
    category: Category | None = None
    tags: Tags = Field(default_factory=list, description="Lower-cased and de-duplicated.")
    attributes: AttributeMap = Field(default_factory=dict)
    specifications: AttributeMap = Field(default_factory=dict)
    variants: list[NewVariant] = Field(default_factory=list, max_length=MAX_VARIANTS)

    @model_validator(mode="after")
    def _variants_are_consistent(self) -> Self:
        errors: list[InitErrorDetails] = []
        seen_ids: set[str] = set()
        seen_skus: set[str] = set()
        for index, variant in enumerate(self.variants):
            if variant.variant_id == DEFAULT_VARIANT:
                errors.append(_error(("variants", index, "variantId"), "reserved", f"'{DEFAULT_VARIANT}' is reserved"))
            elif variant.variant_id is not None:
                if variant.variant_id in seen_ids:
                    errors.append(_error(("variants", index, "variantId"), "duplicate", "variantId repeats"))
                seen_ids.add(variant.variant_id)
            if variant.sku is not None:
                if variant.sku in seen_skus:
                    errors.append(_error(("variants", index, "sku"), "duplicate", "sku repeats"))
                seen_skus.add(variant.sku)
        total = sum(variant.stock for variant in self.variants)
        if self.variants and self.quantity != total:
            errors.append(
                _error(
                    ("quantity",), "quantity_mismatch", f"quantity must equal the sum of the variants' stock ({total})"
                )
            )
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self


def _error(loc: tuple[str | int, ...], kind: str, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=None)


# ---------------------------------------------------------------- images (POST /items/{itemId}/images)
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


# An item view's `images` field (ItemView below): it takes the stored entries (pynamodb ItemImage
# maps) and renders them as ImageView, so to the type checker it accepts any list.
if TYPE_CHECKING:
    StoredImages = list[Any]
else:
    StoredImages = Annotated[list[ImageView], BeforeValidator(image_views)]


# ---------------------------------------------------------------- reading an item (GET /items/{itemId})
class VariantView(ViewModel):
    variant_id: str
    sku: str | None
    attributes: dict[str, str | int | float | bool]
    price: int
    available: int


class ItemView(ViewModel):
    item_id: str
    seller_id: str
    name: str
    description: str
    price: int
    currency: str
    sku: str | None
    brand: str | None
    category: str | None
    tags: list[str]
    attributes: dict[str, str | int | float | bool]
    specifications: dict[str, str | int | float | bool]
    variants: list[VariantView]
    images: StoredImages  # [{imageId, status, reason?, url?, renditions?}]
    status: str
    version: int
    created_at: str
    updated_at: str
    available: int = Field(description="Units available now: the sum over the item's stock rows.")


# ---------------------------------------------------------------- changing an item (PATCH /items/{itemId})
_CLEARABLE = frozenset({"brand", "category"})


class VariantPriceChange(RequestModel):
    variant_id: str = Field(description="An existing variant of the item.")
    price: Price


def _document_item_changes(schema: dict[str, Any]) -> None:
    """Say in ItemChanges' schema what its validator refuses: `version` alone (no_changes), and null for any
    field but the clearable ones (not_nullable; the Python type is `X | None` only to tell absent apart)."""
    schema["minProperties"] = 2
    null_only_for(schema, _CLEARABLE)


class ItemChanges(RequestModel):
    """A partial update: fields present replace the stored ones (maps and lists whole); stock is not here.

    `version` is the item's version as the seller last read it; the change applies only to that version.
    brand and category may be set to null to clear them.
    """

    model_config = ConfigDict(json_schema_extra=lambda schema, _: _document_item_changes(schema))

    version: Annotated[int, Field(ge=1, description="The item's current version (optimistic concurrency).")]
    name: ItemName | None = None
    description: Description | None = None
    price: Price | None = None
    brand: Brand | None = None
    category: Category | None = None
    tags: Tags | None = None
    attributes: AttributeMap | None = None
    specifications: AttributeMap | None = None
    variants: list[VariantPriceChange] | None = Field(
        default=None, max_length=MAX_VARIANTS, description="New prices of existing variants."
    )

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        changed = self.changed_fields()
        errors = [
            _error((to_camel(name),), "not_nullable", "this field cannot be cleared")
            for name in sorted(changed - _CLEARABLE)
            if getattr(self, name) is None
        ]
        if not changed:
            errors.append(_error(("body",), "no_changes", "send at least one field to change besides version"))
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def changed_fields(self) -> set[str]:
        return self.model_fields_set - {"version"}


# ---------------------------------------------------------------- bulk onboarding (POST /imports)
ImportFormat = Literal["jsonl", "csv"]
ImportStatus = Literal["PENDING", "PROCESSING", "COMPLETED", "FAILED"]


class NewImport(RequestModel):
    format: ImportFormat = Field(description="jsonl: one item body per line; csv: see docs/api.md for its columns.")


class ImportStarted(ViewModel):
    import_id: str
    status: ImportStatus
    upload: UploadForm = Field(description="A presigned S3 POST for the file (the same form as image uploads).")


class RowErrorView(ViewModel):
    row: int = Field(description="1-based: the line of a JSONL file; the data row of a CSV file (header excluded).")
    field: str | None
    code: str
    message: str


class ImportView(ViewModel):
    import_id: str
    format: ImportFormat
    status: ImportStatus
    total: int
    created: int
    failed: int
    errors: list[RowErrorView]
    errors_truncated: bool = Field(description="More rows failed than the report keeps.")
    failure_reason: str | None = Field(description="Why a FAILED import created nothing (e.g. too many rows).")
    created_at: str
    updated_at: str
