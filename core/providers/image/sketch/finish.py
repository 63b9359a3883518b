"""The sketch's last steps: the reference image showing through, the corner label."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

LABEL = "offline sketch · not AI"
SHORT_LABEL = "sketch"
# How much of the (blurred) reference shows through the finished sketch.
REFERENCE_OPACITY = 0.3


def blend_reference(image: Image.Image, reference: Image.Image) -> Image.Image:
    """Let a softened, cover-cropped copy of the reference show through the sketch."""
    fitted = ImageOps.fit(reference, image.size, Image.Resampling.BILINEAR)
    softened = fitted.filter(ImageFilter.GaussianBlur(max(1.0, image.width / 128)))
    return Image.blend(image, softened, REFERENCE_OPACITY)


def draw_label(image: Image.Image) -> None:
    """Say in the corner that this is an offline sketch, not an AI image (if it fits)."""
    size = max(9, round(min(image.size) / 42))
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(image, "RGBA")
    for text in (LABEL, SHORT_LABEL):
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        pad = size // 2
        box_width, box_height = right - left + 2 * pad, bottom - top + 2 * pad
        if box_width <= image.width * 0.9:
            x, y = image.width - box_width - pad, image.height - box_height - pad
            draw.rounded_rectangle(
                (x, y, x + box_width, y + box_height), radius=pad, fill=(0, 0, 0, 120)
            )
            draw.text((x + pad - left, y + pad - top), text, font=font, fill=(255, 255, 255, 230))
            return
