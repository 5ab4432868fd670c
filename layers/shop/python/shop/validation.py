"""Building blocks of request and response schemas: strict models, normalised text, attribute maps.

Requests are strict: unknown fields are rejected, and JSON types are never coerced (9.99, "5" and true
are not integers). Text is normalised before its length is checked, so limits apply to what is stored.
"""

from __future__ import annotations

import functools
import math
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
    WrapValidator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema


class RequestModel(BaseModel):
    """A request body: camelCase JSON names only, no unknown fields, no type coercion."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
    )


class ViewModel(BaseModel):
    """A response body: camelCase JSON names (and readable back from them, e.g. an idempotent replay)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
    )


_BLANK_LINES = re.compile(r"\n{3,}")


# Bidirectional controls reorder what is displayed (an override can make "gpj.exe" read "exe.jpg"): refused in
# single-line text such as names, removed from descriptions.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Zero-width (non-)joiners are kept in stored text: Indic and Persian spelling and emoji sequences need them.
_JOINERS = frozenset("\u200c\u200d")
# Default-ignorable code points that are not format characters (Cf): invisible fillers and selectors.
_IGNORABLE_FILLERS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u3164\uffa0")


def is_default_ignorable(ch: str) -> bool:
    """Invisible when displayed (Unicode's Default_Ignorable_Code_Point, as far as text here needs it):
    format characters (soft hyphen, zero-width space, joiners, bidi controls, tags), fillers, variation
    selectors."""
    code = ord(ch)
    return (
        unicodedata.category(ch) == "Cf" or ch in _IGNORABLE_FILLERS
        or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF
    )  # fmt: skip


def normalise_line(value: str) -> str:
    """NFC, control and invisible format characters removed (soft hyphens, zero-width spaces, bidi controls;
    joiners and variation selectors kept), every run of whitespace (line breaks included) made one space."""
    value = unicodedata.normalize("NFC", value)
    kept = "".join(ch if ch.isspace() or not _removed(ch) else "" for ch in value)
    return " ".join(kept.split())


def normalise_paragraphs(value: str) -> str:
    """Like normalise_line, but keeps line breaks (at most one blank line in a row) for long text."""
    lines = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return _BLANK_LINES.sub("\n\n", "\n".join(normalise_line(line) for line in lines)).strip()


def _removed(ch: str) -> bool:
    # Cc: C0/C1 controls; Cs: lone surrogates, which JSON "\ud800" escapes can produce and UTF-8 cannot encode;
    # invisible format characters and fillers, which can hide a word from screening or spoof a name.
    if unicodedata.category(ch) in ("Cc", "Cs"):
        return True
    return is_default_ignorable(ch) and ch not in _JOINERS and not 0xFE00 <= ord(ch) <= 0xFE0F


@functools.cache
def invisible_characters() -> frozenset[str]:
    """Every character normalise_line drops or turns into a separator (whitespace, controls, invisible format
    characters): text made only of these is empty once normalised. Computed once, for JSON schemas only."""
    return frozenset(ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isspace() or _removed(ch))


def _character_class(characters: Iterable[str]) -> str:
    """The inside of a regex character class holding exactly `characters`, as ranges, written so that both
    Python's re and ECMA-262 (JSON Schema's pattern dialect) read it alike."""
    codes = sorted(map(ord, characters))
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))

    def one(code: int) -> str:
        if code < 0x10000:
            return f"\\u{code:04x}"
        return chr(code)  # astral characters as themselves: JSON carries them and both dialects read them

    return "".join(one(low) if low == high else f"{one(low)}-{one(high)}" for low, high in ranges)


@dataclass(frozen=True)
class Text:
    """Annotated[str, Text(...)]: normalise a string, then check its length (and, optionally, a pattern)."""

    min_length: int
    max_length: int
    multiline: bool = False
    case: Literal["lower", "upper"] | None = None
    pattern: str | None = None
    pattern_message: str = "String should match pattern '{pattern}'"
    # The pattern the JSON schema shows instead of `pattern`, when the raw text has to be described more strictly
    # than the normalised text is checked (normalising may remove characters `pattern` allows).
    documented_pattern: str | None = None

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.normalise, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(minLength=self.min_length, maxLength=self.max_length)
        if self.documented_pattern or self.pattern:
            json_schema["pattern"] = self.documented_pattern or self.pattern
        elif self.min_length or not self.multiline:
            json_schema["pattern"] = self.schema_pattern()
        return json_schema

    def schema_pattern(self) -> str:
        """What normalising asks of the raw text, as a JSON Schema pattern: at least min_length characters that
        normalising keeps (a space or a zero-width space alone is not a name), and no bidi control in single-line
        text. Stricter than normalise only in that spaces between kept characters do not count to min_length."""
        kept = f"[^{_character_class(invisible_characters())}]"
        if self.multiline:
            return f"^(?:[\\s\\S]*?{kept}){{{self.min_length}}}"
        not_bidi = f"[^{_character_class(BIDI_CONTROLS)}]*"
        return f"^{not_bidi}(?:{kept}{not_bidi}){{{self.min_length}}}$"

    def normalise(self, value: str) -> str:
        if not self.multiline and any(ch in BIDI_CONTROLS for ch in value):
            raise PydanticCustomError(
                "bidi_control", "Text must not contain bidirectional control characters (they reorder what is shown)"
            )
        value = normalise_paragraphs(value) if self.multiline else normalise_line(value)
        if self.case == "lower":
            value = value.lower()
        elif self.case == "upper":
            value = value.upper()
        if len(value) < self.min_length:
            raise PydanticCustomError(
                "string_too_short",
                "String should have at least {min_length} character(s) once trimmed",
                {"min_length": self.min_length},
            )
        if len(value) > self.max_length:
            raise PydanticCustomError(
                "string_too_long",
                "String should have at most {max_length} characters once normalised",
                {"max_length": self.max_length},
            )
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise PydanticCustomError("string_pattern_mismatch", self.pattern_message, {"pattern": self.pattern})
        return value


# ---------------------------------------------------------------- attribute maps
# Free-form item facts such as {"color": "red", "weight": 1.5, "wireless": true}. Numbers are bounded so
# that every value fits DynamoDB's number type and survives a round trip through JavaScript clients.
MAX_SAFE_INTEGER = 2**53 - 1
FLOAT_DECIMALS = 9

AttributeName = Annotated[str, Text(1, 50)]
_ATTRIBUTE_TEXT = Text(1, 500)


def _attribute_value(value: object) -> str | int | float | bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _ATTRIBUTE_TEXT.normalise(value)
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise PydanticCustomError(
                "number_out_of_range", "Integer should be within ±{limit}", {"limit": MAX_SAFE_INTEGER}
            )
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) > MAX_SAFE_INTEGER:
            raise PydanticCustomError(
                "number_out_of_range", "Number should be finite and within ±{limit}", {"limit": MAX_SAFE_INTEGER}
            )
        # Tiny magnitudes (1e-200) are beyond DynamoDB's number range; nine decimals is plenty for facts.
        return round(value, FLOAT_DECIMALS)
    raise PydanticCustomError("attribute_value_type", "Value should be a string, a number or a boolean")


# What _attribute_value takes, for the JSON schema: text as _ATTRIBUTE_TEXT, numbers within ±MAX_SAFE_INTEGER.
_ATTRIBUTE_VALUE_INPUT = (
    Annotated[str, _ATTRIBUTE_TEXT] | Annotated[float, Field(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER)] | bool
)
AttributeValue = Annotated[
    str | int | float | bool,
    PlainValidator(_attribute_value, json_schema_input_type=_ATTRIBUTE_VALUE_INPUT),
]


def _distinct_after_normalising(value: Any, handler: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    result = handler(value)
    if isinstance(value, dict) and len(result) != len(value):
        raise PydanticCustomError("duplicate_name", "Names should stay distinct once normalised")
    return result


class _NamesAsPropertyNames:
    """pydantic documents a dict whose keys have a pattern as patternProperties, which lets keys that miss
    the pattern through with any value; an attribute name is checked, so the schema says propertyNames."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        by_pattern = json_schema.pop("patternProperties", {})
        if len(by_pattern) == 1:
            ((pattern, values),) = by_pattern.items()
            json_schema["propertyNames"] = {**json_schema.get("propertyNames", {}), "pattern": pattern}
            json_schema["additionalProperties"] = values
        return json_schema


AttributeMap = Annotated[
    dict[AttributeName, AttributeValue],
    Field(max_length=50),
    WrapValidator(_distinct_after_normalising),
    _NamesAsPropertyNames,
]


# ---------------------------------------------------------------- where a validation error points
_PARAMETER_LOCATIONS = frozenset({"body", "path", "query", "header", "cookie"})


def field_name(loc: Iterable[str | int]) -> str:
    """("body", "variants", 0, "stock") -> "variants[0].stock"; the body itself is "body"."""
    parts = list(loc)
    if parts and parts[0] in _PARAMETER_LOCATIONS:
        parts = parts[1:]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
    return name or "body"


def null_only_for(schema: dict[str, Any], clearable: Iterable[str]) -> None:
    """Say in a partial update's JSON schema that only the `clearable` properties take null. The Python type
    of the others is `X | None` only to tell an absent field apart; their validation refuses null."""
    keep = set(clearable)
    for name, field_schema in schema["properties"].items():
        branches = [branch for branch in field_schema.get("anyOf", []) if branch != {"type": "null"}]
        if name not in keep and "anyOf" in field_schema and len(branches) == 1:
            del field_schema["anyOf"]
            field_schema.update(branches[0])
