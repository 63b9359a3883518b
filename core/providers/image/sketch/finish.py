"""The sketch's last steps: the style's treatment, the reference image, the corner label."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

from core.providers.image.sketch.palette import Palette
from core.providers.image.styles import Treatment

LABEL = "offline sketch · not AI"
SHORT_LABEL = "sketch"
# How much of the (blurred) reference shows through the finished sketch.
REFERENCE_OPACITY = 0.3


def apply_treatment(
    image: Image.Image, treatment: Treatment, palette: Palette, rng: np.random.Generator
) -> Image.Image:
    if treatment == "pixels":
        return _pixelate(image)
    if treatment == "ink":
        return _ink(image, palette)
    if treatment == "wash":
        return _wash(image, rng)
    if treatment == "film":
        return _film(image)
    return image


def _pixelate(image: Image.Image) -> Image.Image:
    block = max(4, image.width // 64)
    small = image.resize(
        (max(1, image.width // block), max(1, image.height // block)), Image.Resampling.BOX
    )
    limited = small.quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    return limited.convert("RGB").resize(image.size, Image.Resampling.NEAREST)


def _ink(image: Image.Image, palette: Palette) -> Image.Image:
    """Shape outlines in ink on paper, over a faint wash of the original colours."""
    edges = image.convert("L").filter(ImageFilter.FIND_EDGES)
    if image.width >= 768:
        edges = edges.filter(ImageFilter.MaxFilter(3))
    lines = edges.point(lambda value: 255 if value > 10 else 0)
    paper = Image.blend(Image.new("RGB", image.size, palette.paper), image, 0.15)
    return Image.composite(Image.new("RGB", image.size, palette.ink), paper, lines)


def _wash(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Soft edges and blotchy pigment, like paint on paper."""
    softened = image.filter(ImageFilter.GaussianBlur(max(1.0, image.width / 256)))
    blotches = rng.uniform(0.86, 1.0, (max(2, image.height // 48), max(2, image.width // 48)))
    texture = Image.fromarray((blotches * 255).astype(np.uint8)).resize(
        image.size, Image.Resampling.BICUBIC
    )
    pigment = np.asarray(softened, dtype=np.float32) * (np.asarray(texture)[..., None] / 255)
    return Image.fromarray(np.clip(pigment + 10, 0, 255).astype(np.uint8))


# A gentle S-curve (smoothstep mixed with identity) for more contrast, as a lookup table.
_FILM_CURVE = [
    round(255 * (0.65 * t + 0.35 * t * t * (3 - 2 * t))) for t in (i / 255 for i in range(256))
]


def _film(image: Image.Image) -> Image.Image:
    """A gentle contrast curve and a vignette, like a photograph."""
    # The vignette is smooth: compute it small, scale it up.
    small = (max(2, image.width // 8), max(2, image.height // 8))
    ys, xs = np.ogrid[-1 : 1 : complex(0, small[1]), -1 : 1 : complex(0, small[0])]
    shade = (1 - 0.32 * np.clip(xs**2 + ys**2, 0, 2) / 2) * 255
    vignette = Image.fromarray(shade.astype(np.uint8)).resize(image.size, Image.Resampling.BILINEAR)
    curved = image.point(_FILM_CURVE * 3)
    return ImageChops.multiply(curved, Image.merge("RGB", (vignette, vignette, vignette)))


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
