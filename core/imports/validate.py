"""Checking that a downloaded file is an image we keep, and making its thumbnail.

What a server says (`Content-Type`) is only a hint: the format is read from the bytes. The
pixel count is read from the header and refused before anything is decoded, because a few
kilobytes of PNG can announce gigabytes of pixels. Then the first frame is decoded in full, so a
cut-off or damaged file is refused here and not later in a thumbnail. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from core.imports.errors import DownloadRefused
from core.imports.reasons import FailureReason

THUMBNAIL_QUALITY = 80
_ORIENTATION = 0x0112


@dataclass(frozen=True)
class _Kept:
    format: str
    extension: str
    content_type: str


# Pillow's format name -> how we keep it. A camera's multi-picture JPEG opens as MPO.
_KEPT = {
    "JPEG": _Kept("JPEG", "jpg", "image/jpeg"),
    "MPO": _Kept("JPEG", "jpg", "image/jpeg"),
    "PNG": _Kept("PNG", "png", "image/png"),
    "WEBP": _Kept("WEBP", "webp", "image/webp"),
    "GIF": _Kept("GIF", "gif", "image/gif"),
}
_KEPT_TYPES = frozenset(kept.content_type for kept in _KEPT.values())


@dataclass(frozen=True)
class ImageLimits:
    max_pixels: int = 50_000_000
    max_bytes: int = 20 * 1024 * 1024


@dataclass(frozen=True)
class InspectedImage:
    format: str
    extension: str
    content_type: str
    width: int
    height: int
    sha256: str
    size_bytes: int
    # A WebP preview within the asked side; None when none was asked, or when the image
    # already fits (upright, within the side) and is its own preview.
    thumbnail: bytes | None = None


def inspect_image(
    data: bytes,
    declared_type: str | None,
    limits: ImageLimits,
    *,
    thumbnail_side: int | None = None,
) -> InspectedImage:
    """What `data` really is; raises `DownloadRefused` when it is not an image we keep.

    With `thumbnail_side`, the one full decode that checks the file also gives the preview: a
    JPEG is decoded straight at the preview's scale, which still reads every byte of it."""
    if len(data) > limits.max_bytes:
        raise DownloadRefused(
            FailureReason.TOO_LARGE, f"{len(data)} bytes, {limits.max_bytes} allowed"
        )
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own limit; a warning must stop us too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kept = _KEPT.get(probe.format or "")
                if kept is None:
                    raise DownloadRefused(FailureReason.UNSUPPORTED_FORMAT, str(probe.format))
                width, height = probe.size
                if width * height > limits.max_pixels:
                    raise DownloadRefused(
                        FailureReason.TOO_MANY_PIXELS,
                        f"{width}x{height}, {limits.max_pixels} pixels allowed",
                    )
                probe.verify()
            # `verify` leaves the image unusable; decoding needs a fresh open.
            with Image.open(io.BytesIO(data)) as image:
                if thumbnail_side:
                    image.draft("RGB", (thumbnail_side, thumbnail_side))
                image.load()
                thumbnail = _preview(image, thumbnail_side) if thumbnail_side else None
    except UnidentifiedImageError:
        raise _unreadable(declared_type) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise DownloadRefused(FailureReason.TOO_MANY_PIXELS, str(error)) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
        raise DownloadRefused(
            FailureReason.CORRUPT_IMAGE, str(error) or type(error).__name__
        ) from None
    return InspectedImage(
        format=kept.format,
        extension=kept.extension,
        content_type=kept.content_type,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        thumbnail=thumbnail,
    )


def _unreadable(declared_type: str | None) -> DownloadRefused:
    """Bytes no image reader knows: an image type we do not keep, or no image at all."""
    declared = (declared_type or "").split(";", 1)[0].strip().lower()
    if declared.startswith("image/") and declared not in _KEPT_TYPES:
        return DownloadRefused(FailureReason.UNSUPPORTED_FORMAT, f"sent as {declared}")
    return DownloadRefused(FailureReason.NOT_AN_IMAGE, f"sent as {declared or 'no type'}")


def _preview(image: Image.Image, side: int) -> bytes | None:
    """A WebP within side x side, aspect kept, upright, on white; a GIF's first frame."""
    upright = image.getexif().get(_ORIENTATION, 1) == 1
    if upright and image.width <= side and image.height <= side:
        return None
    frame = _on_white(ImageOps.exif_transpose(image))
    frame.thumbnail((side, side))
    buffer = io.BytesIO()
    # The fastest method: a preview is drawn small and replaced by the original when opened.
    frame.save(buffer, format="WEBP", quality=THUMBNAIL_QUALITY, method=0)
    return buffer.getvalue()


def _on_white(image: Image.Image) -> Image.Image:
    if not image.has_transparency_data:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
