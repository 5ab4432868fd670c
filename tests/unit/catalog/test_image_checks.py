"""The image checks of shop.catalog.images on in-memory images: what is accepted, how it is cleaned, what is refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from shop.catalog.images import ImageRejected, Limits, inspect_image, make_renditions

LIMITS = Limits(max_bytes=10 * 1024 * 1024, max_pixels=50_000_000)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def reason(data: bytes, limits: Limits = LIMITS) -> str:
    with pytest.raises(ImageRejected) as rejected:
        inspect_image(data, limits)
    return rejected.value.reason


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_accepted_formats_give_renditions_no_larger_than_their_size(fmt: str) -> None:
    renditions = make_renditions(inspect_image(encode(Image.new("RGB", (1200, 600), "red"), fmt), LIMITS))
    sizes = {size: Image.open(io.BytesIO(body)).size for size, body in renditions.items()}
    assert sizes == {800: (800, 400), 200: (200, 100)}
    assert all(Image.open(io.BytesIO(body)).format == "WEBP" for body in renditions.values())


def test_small_images_are_not_upscaled() -> None:
    renditions = make_renditions(inspect_image(encode(Image.new("RGB", (150, 90), "blue"), "PNG"), LIMITS))
    assert {size: Image.open(io.BytesIO(body)).size for size, body in renditions.items()} == {
        800: (150, 90), 200: (150, 90),
    }  # fmt: skip


def test_metadata_is_stripped_and_orientation_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "SecretCam"  # Make
    data = encode(Image.new("RGB", (400, 200), "green"), "JPEG", exif=exif.tobytes(), comment=b"gps here")
    image = inspect_image(data, LIMITS)
    assert image.size == (200, 400)
    for body in make_renditions(image).values():
        rendition = Image.open(io.BytesIO(body))
        assert not rendition.getexif()
        assert "exif" not in rendition.info and "icc_profile" not in rendition.info and "xmp" not in rendition.info


def test_alpha_survives() -> None:
    image = inspect_image(encode(Image.new("RGBA", (64, 64), (255, 0, 0, 0)), "PNG"), LIMITS)
    assert image.mode == "RGBA"


def test_text_is_not_an_image() -> None:
    assert reason(b"hello, I am a text file pretending to be a .jpg\n") == "NOT_AN_IMAGE"
    assert reason(b"") == "NOT_AN_IMAGE"


def test_truncated_image_is_not_an_image() -> None:
    data = encode(Image.effect_noise((300, 300), 50).convert("RGB"), "PNG")
    assert reason(data[: len(data) // 2]) == "NOT_AN_IMAGE"


def test_other_formats_are_unsupported() -> None:
    assert reason(encode(Image.new("RGB", (10, 10)), "GIF")) == "UNSUPPORTED_FORMAT"
    assert reason(encode(Image.new("RGB", (10, 10)), "BMP")) == "UNSUPPORTED_FORMAT"


def test_too_many_bytes() -> None:
    assert reason(encode(Image.new("RGB", (100, 100)), "PNG"), Limits(max_bytes=50, max_pixels=10**6)) == "TOO_LARGE"


def test_pixel_bomb_is_refused_before_decoding() -> None:
    bomb = encode(Image.new("1", (20_000, 20_000)), "PNG")  # 400 Mpx in a few tens of KB
    assert len(bomb) < 200_000
    assert reason(bomb) == "TOO_MANY_PIXELS"


def test_pixel_limit_is_exact() -> None:
    data = encode(Image.new("RGB", (100, 100)), "PNG")
    assert inspect_image(data, Limits(10**6, 10_000)).size == (100, 100)
    assert reason(data, Limits(10**6, 9_999)) == "TOO_MANY_PIXELS"


def test_the_pixel_limit_applies_to_the_upload_only() -> None:
    before = Image.MAX_IMAGE_PIXELS
    assert reason(encode(Image.new("RGB", (200, 200)), "PNG"), Limits(max_bytes=10_000_000, max_pixels=100))
    inspect_image(encode(Image.new("RGB", (20, 20)), "PNG"), Limits(max_bytes=10_000_000, max_pixels=1_000))
    after = Image.MAX_IMAGE_PIXELS
    assert after == before  # Pillow's global limit is left as it was
