"""Checking downloaded bytes: the real format, the pixel cap before decoding, a full decode."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image, ImageFile, PngImagePlugin

from core.imports.errors import DownloadRefused
from core.imports.reasons import FailureReason
from core.imports.validate import ImageLimits, InspectedImage, inspect_image
from tests.support.image_hosts import huge_png, image_bytes

LIMITS = ImageLimits()
HTML = b"<!DOCTYPE html><html><body>Please log in</body></html>"


def refusal(data: bytes, declared_type: str | None, limits: ImageLimits = LIMITS) -> FailureReason:
    with pytest.raises(DownloadRefused) as caught:
        inspect_image(data, declared_type, limits)
    return caught.value.reason


@pytest.mark.parametrize(
    ("image_format", "extension", "content_type"),
    [
        ("JPEG", "jpg", "image/jpeg"),
        ("PNG", "png", "image/png"),
        ("WEBP", "webp", "image/webp"),
        ("GIF", "gif", "image/gif"),
    ],
)
def test_a_kept_format_is_described_from_its_bytes(
    image_format: str, extension: str, content_type: str
) -> None:
    data = image_bytes(image_format, 120, 80)

    inspected = inspect_image(data, content_type, LIMITS)

    assert inspected == InspectedImage(
        format=image_format,
        extension=extension,
        content_type=content_type,
        width=120,
        height=80,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
    )


@pytest.mark.parametrize(
    "declared", ["text/html; charset=utf-8", "application/octet-stream", None, "image/jpeg"]
)
def test_the_bytes_decide_the_format_whatever_was_declared(declared: str | None) -> None:
    inspected = inspect_image(image_bytes("PNG", 10, 10), declared, LIMITS)

    assert (inspected.format, inspected.content_type) == ("PNG", "image/png")


@pytest.mark.parametrize("declared", ["image/jpeg", "text/html", "application/octet-stream", None])
def test_html_is_not_an_image_whatever_it_was_sent_as(declared: str | None) -> None:
    assert refusal(HTML, declared) is FailureReason.NOT_AN_IMAGE


def test_nothing_at_all_is_not_an_image() -> None:
    assert refusal(b"", "image/png") is FailureReason.NOT_AN_IMAGE


@pytest.mark.parametrize("image_format", ["BMP", "TIFF", "PPM"])
def test_an_image_in_another_format_is_unsupported(image_format: str) -> None:
    data = image_bytes(image_format, 20, 20)

    assert refusal(data, "image/jpeg") is FailureReason.UNSUPPORTED_FORMAT


def test_an_image_type_no_reader_knows_is_unsupported_rather_than_not_an_image() -> None:
    heic_like = b"\x00\x00\x00\x18ftypheic" + bytes(64)

    assert refusal(heic_like, "image/heic") is FailureReason.UNSUPPORTED_FORMAT


def test_more_pixels_than_the_limit_are_refused() -> None:
    data = image_bytes("PNG", 100, 100)

    assert refusal(data, "image/png", ImageLimits(max_pixels=9_999)) is (
        FailureReason.TOO_MANY_PIXELS
    )
    assert inspect_image(data, "image/png", ImageLimits(max_pixels=10_000)).width == 100


def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never(self: object) -> None:
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", never)
    monkeypatch.setattr(PngImagePlugin.PngImageFile, "verify", never)
    # 64 million pixels: over our cap, under Pillow's own warning threshold.
    bomb = huge_png(8_000, 8_000)
    assert len(bomb) < 64 * 1024

    with pytest.raises(DownloadRefused) as caught:
        inspect_image(bomb, "image/png", LIMITS)

    assert caught.value.reason is FailureReason.TOO_MANY_PIXELS
    assert "8000x8000" in str(caught.value)


@pytest.mark.parametrize("side", [12_000, 14_000])
def test_pillows_own_bomb_limits_count_as_too_many_pixels(side: int) -> None:
    # Pillow warns (12000²) or refuses (14000²) on its own while opening, before our cap.
    generous = ImageLimits(max_pixels=10**10)

    assert refusal(huge_png(side, side), "image/png", generous) is FailureReason.TOO_MANY_PIXELS


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "GIF"])
def test_a_cut_off_image_is_corrupt(image_format: str) -> None:
    noisy = Image.effect_noise((200, 150), 60).convert("RGB")
    buffer = io.BytesIO()
    noisy.save(buffer, format=image_format)
    data = buffer.getvalue()

    assert refusal(data[: len(data) * 2 // 3], None) is FailureReason.CORRUPT_IMAGE
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_more_bytes_than_the_limit_are_refused_before_reading_them() -> None:
    data = image_bytes("PNG", 50, 50)

    assert refusal(data, "image/png", ImageLimits(max_bytes=len(data) - 1)) is (
        FailureReason.TOO_LARGE
    )


def thumbnail_of(data: bytes, side: int = 384) -> Image.Image:
    preview = inspect_image(data, None, LIMITS, thumbnail_side=side).thumbnail
    assert preview is not None
    thumbnail = Image.open(io.BytesIO(preview))
    assert (thumbnail.format, thumbnail.mode) == ("WEBP", "RGB")
    return thumbnail


@pytest.mark.parametrize(
    ("size", "expected"),
    [((1000, 500), (384, 192)), ((300, 900), (128, 384)), ((2000, 1500), (384, 288))],
)
def test_a_thumbnail_keeps_the_aspect(size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert thumbnail_of(image_bytes("JPEG", *size)).size == expected


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_a_small_upright_image_is_its_own_thumbnail(image_format: str) -> None:
    inspected = inspect_image(image_bytes(image_format, 100, 50), None, LIMITS, thumbnail_side=384)

    assert inspected.thumbnail is None and (inspected.width, inspected.height) == (100, 50)


def test_a_cut_off_jpeg_is_refused_when_decoded_at_thumbnail_scale() -> None:
    noisy = Image.effect_noise((1600, 1200), 60).convert("RGB")
    buffer = io.BytesIO()
    noisy.save(buffer, format="JPEG")
    cut = buffer.getvalue()[: buffer.tell() * 2 // 3]

    with pytest.raises(DownloadRefused) as refused:
        inspect_image(cut, "image/jpeg", LIMITS, thumbnail_side=384)
    assert refused.value.reason is FailureReason.CORRUPT_IMAGE


def test_a_thumbnail_is_upright() -> None:
    image = Image.new("RGB", (200, 100), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)

    assert thumbnail_of(buffer.getvalue()).size == (100, 200)


def test_a_gif_thumbnail_is_its_first_frame() -> None:
    frames = [Image.new("RGB", (64, 64), color) for color in [(255, 0, 0), (0, 0, 255)]]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100)

    first = thumbnail_of(buffer.getvalue(), side=32).getpixel((16, 16))
    assert first == pytest.approx((255, 0, 0), abs=40)


def test_transparency_becomes_white() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(buffer, format="PNG")

    assert thumbnail_of(buffer.getvalue(), side=20).getpixel((10, 10)) == pytest.approx(
        (255, 255, 255), abs=3
    )
