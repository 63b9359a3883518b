from __future__ import annotations

import io

import pytest
from PIL import Image

from core.providers.image.decoding import UnreadableImage, decode_image, encode_png
from tests.providers.image.images import decode, jpeg_bytes, png_header_claiming


def test_a_jpeg_is_decoded_and_re_encoded_as_png_of_the_same_size() -> None:
    image = decode_image(jpeg_bytes((64, 48)))
    png = decode(encode_png(image))
    assert png.size == (64, 48)
    assert png.mode == "RGB"


def test_a_cut_off_jpeg_is_refused() -> None:
    data = jpeg_bytes((256, 256))
    with pytest.raises(UnreadableImage, match="damaged or cut off"):
        decode_image(data[: len(data) // 2])


def test_text_is_not_an_image() -> None:
    with pytest.raises(UnreadableImage, match="not a PNG, JPEG or WebP"):
        decode_image(b"<html><body>Service unavailable</body></html>")


def test_empty_bytes_are_refused() -> None:
    with pytest.raises(UnreadableImage, match="empty"):
        decode_image(b"")


@pytest.mark.parametrize("size", [(9000, 100), (5000, 5000)])
def test_a_decompression_bomb_is_refused_from_its_header(size: tuple[int, int]) -> None:
    with pytest.raises(UnreadableImage, match=f"{size[0]}x{size[1]} pixels, too large"):
        decode_image(png_header_claiming(*size))


def test_an_absurd_pillow_level_bomb_is_refused_too() -> None:
    with pytest.raises(UnreadableImage, match="too large"):
        decode_image(png_header_claiming(100_000, 100_000))


def test_exif_orientation_is_applied() -> None:
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    Image.new("RGB", (40, 20), "red").save(buffer, format="JPEG", exif=exif)
    assert decode_image(buffer.getvalue()).size == (20, 40)


def test_transparency_survives_as_rgba() -> None:
    image = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    assert decode(encode_png(image)).mode == "RGBA"
