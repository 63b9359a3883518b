"""How each style renders the finished sketch: one cheap pass per style, told apart at a glance
(tested as a measured pixel difference): film grain and vignette, a graded letterboxed still,
flat colours with outlines, a watercolour wash on paper, oil strokes, ink lines and hatching,
big pixels, soft 3D shading.

Per-pixel work stays in Pillow's C code (lookup tables, `ImageChops` blend modes); anything
smooth (blurs, textures, vignettes) is made small and scaled up. Full-size numpy arithmetic
cost about 5 ms per operation at 1024x1024, which is why there is so little of it here.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter

from core.providers.image.sketch.palette import Palette
from core.providers.image.styles import Treatment

Pass = Callable[[Image.Image, Palette, np.random.Generator], Image.Image]
# From this width on, edges and blurs are computed at half size and scaled back up.
HALF_SIZE_FROM = 768


def apply_treatment(
    image: Image.Image, treatment: Treatment, palette: Palette, rng: np.random.Generator
) -> Image.Image:
    return TREATMENTS[treatment](image, palette, rng)


def _lut(curve: Callable[[float, int], float]) -> list[int]:
    """A lookup table for `Image.point`: `curve(value 0..1, channel) -> 0..1` per RGB channel."""
    return [
        max(0, min(255, round(255 * curve(i / 255, channel))))
        for channel in range(3)
        for i in range(256)
    ]


def _s_curve(t: float) -> float:
    """A gentle S-curve (smoothstep mixed with identity): more contrast."""
    return 0.65 * t + 0.35 * t * t * (3 - 2 * t)


def _soft(image: Image.Image, radius: float) -> Image.Image:
    """A Gaussian blur; at large sizes done at half size (it looks the same, costs a quarter)."""
    if image.width < HALF_SIZE_FROM:
        return image.filter(ImageFilter.GaussianBlur(radius))
    small = image.reduce(2).filter(ImageFilter.GaussianBlur(radius / 2))
    return small.resize(image.size, Image.Resampling.BILINEAR)


def _find_edges(grey: Image.Image) -> Image.Image:
    return _without_frame(grey.filter(ImageFilter.FIND_EDGES), 0)


def _emboss(grey: Image.Image) -> Image.Image:
    return _without_frame(grey.filter(ImageFilter.EMBOSS), 128)


def _without_frame(filtered: Image.Image, neutral: int) -> Image.Image:
    """Pillow's edge and emboss filters leave a frame at the border (it showed as a line
    around every sketch): paint it over with the filter's neutral value."""
    frame = (0, 0, filtered.width - 1, filtered.height - 1)
    ImageDraw.Draw(filtered).rectangle(frame, outline=neutral)
    return filtered


def _edges(image: Image.Image, threshold: int) -> Image.Image:
    """A mask (L, 0 or 255) of the picture's shape outlines, about 2 px wide at large sizes."""
    grey = image.convert("L")
    if image.width >= HALF_SIZE_FROM:
        found = _find_edges(grey.reduce(2))
        found = found.resize(image.size, Image.Resampling.BILINEAR)
        threshold //= 2
    else:
        found = _find_edges(grey)
    return found.point(lambda value: 255 if value > threshold else 0)


def _rgb(grey: Image.Image) -> Image.Image:
    return Image.merge("RGB", (grey, grey, grey))


def _vignette(size: tuple[int, int], strength: float) -> Image.Image:
    """A multiplier (RGB): white in the middle, darker by `strength` in the corners."""
    small = (max(2, size[0] // 8), max(2, size[1] // 8))
    ys, xs = np.ogrid[-1 : 1 : complex(0, small[1]), -1 : 1 : complex(0, small[0])]
    shade = (1 - strength * np.clip(xs**2 + ys**2, 0, 2) / 2) * 255
    return _rgb(Image.fromarray(shade.astype(np.uint8)).resize(size, Image.Resampling.BILINEAR))


def _grain(size: tuple[int, int], rng: np.random.Generator, amount: float) -> Image.Image:
    """Mid-grey noise (RGB) for `ImageChops.overlay`, where 128 leaves a pixel as it is.

    Specks are 2x2 pixels in steps of 4 levels: smoothed or finer grain looked the same but
    made the PNG twice as large and twice as slow to encode (noise does not compress)."""
    small = (max(1, size[1] // 2), max(1, size[0] // 2))
    noise = np.round(rng.standard_normal(small, dtype=np.float32) * amount / 4) * 4 + 128
    specks = Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8))
    return _rgb(specks.resize(size, Image.Resampling.NEAREST))


def _plain(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    return image


# Warmer highlights and a little more contrast, like colour negative film.
_FILM = _lut(lambda t, channel: _s_curve(t) * (1.04, 1.0, 0.93)[channel])


def _film(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    """A photograph: contrast curve, warm tone, vignette and film grain."""
    shaded = ImageChops.multiply(image.point(_FILM), _vignette(image.size, 0.35))
    return ImageChops.overlay(shaded, _grain(image.size, rng, 10))


_TEAL, _ORANGE = (0, 70, 90), (255, 170, 90)
# Teal shadows and orange highlights (each channel by its own value, as grading curves do).
_CINEMA = _lut(
    lambda t, channel: (
        0.7 * _s_curve(t)
        + 0.3 * (_TEAL[channel] * (1 - _s_curve(t)) + _ORANGE[channel] * _s_curve(t)) / 255
    )
)


def _cinema(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    """A film still: graded colour, a strong vignette, letterbox bars."""
    still = ImageChops.multiply(image.point(_CINEMA), _vignette(image.size, 0.6))
    bar = round(image.height * 0.11)
    bars = ImageDraw.Draw(still)
    bars.rectangle((0, 0, image.width, bar), fill=(0, 0, 0))
    bars.rectangle((0, image.height - bar, image.width, image.height), fill=(0, 0, 0))
    return still


def _cel(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    """Anime cels: vivid flat colours in bands, dark outlines around shapes."""
    vivid = ImageEnhance.Color(image).enhance(1.4)
    # Colours chosen on a thumbnail, then mapped at full size: the same look, far cheaper.
    thumbnail = vivid.resize((128, 128), Image.Resampling.BOX)
    colours = thumbnail.quantize(12, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    flat = vivid.quantize(palette=colours, dither=Image.Dither.NONE).convert("RGB")
    outline = tuple(round(c * 0.5) for c in palette.ink)
    return Image.composite(Image.new("RGB", image.size, outline), flat, _edges(flat, 18))


# Pigment pools at a shape's edges: darker by up to 45 %.
_POOLED = [255 - min(115, round(value * 3)) for value in range(256)]
_LIFT = _lut(lambda t, channel: t + 8 / 255)


def _wash(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    """Watercolour: soft, light pigment, darker where it pooled at edges, on grainy paper."""
    softened = _soft(image, max(1.0, image.width / 500))
    pale = Image.blend(Image.new("RGB", image.size, palette.paper), softened, 0.85)
    pooled = _soft(_find_edges(softened.convert("L")), image.width / 400)
    blotches = rng.uniform(0.85, 1.0, (max(2, image.height // 48), max(2, image.width // 48)))
    texture = Image.fromarray((blotches * 255).astype(np.uint8)).resize(
        image.size, Image.Resampling.BICUBIC
    )
    pigment = ImageChops.multiply(pale, _rgb(ImageChops.multiply(texture, pooled.point(_POOLED))))
    return ImageChops.overlay(pigment, _grain(image.size, rng, 5)).point(_LIFT)


# Enough strokes to cover the canvas about once; a fixed number, so a preview and a large
# image are painted alike.
OIL_STROKES = 2600


def _oil(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    """Oil paint: short, thick strokes in the picture's own colours over a soft underpainting,
    with a little relief where the paint is thick."""
    vivid = ImageEnhance.Color(image).enhance(1.3)
    canvas = _soft(vivid, image.width / 250)
    # Each stroke takes the colour under its middle, read from a small copy.
    source = np.asarray(vivid.resize((256, 256), Image.Resampling.BOX))
    xs, ys = rng.uniform(0, 1, OIL_STROKES), rng.uniform(0, 1, OIL_STROKES)
    angles = rng.normal(math.radians(-40), 0.4, OIL_STROKES)
    lengths = rng.uniform(0.012, 0.025, OIL_STROKES) * image.width
    widths = np.maximum(2, rng.uniform(0.006, 0.012, OIL_STROKES) * image.width).astype(int)
    colours = source[(ys * 255).astype(int), (xs * 255).astype(int)].tolist()
    brush = ImageDraw.Draw(canvas)
    for x, y, angle, length, width, colour in zip(
        (xs * image.width).tolist(),
        (ys * image.height).tolist(),
        angles.tolist(),
        lengths.tolist(),
        widths.tolist(),
        colours,
        strict=True,
    ):
        dx, dy = math.cos(angle) * length, math.sin(angle) * length
        brush.line((x - dx, y - dy, x + dx, y + dy), fill=tuple(colour), width=width)
    relief = _emboss(canvas.convert("L")).point(_RELIEF)
    return ImageChops.overlay(canvas, _rgb(relief))


# Emboss leaves thick paint as faint shades around mid-grey; this makes it read.
_RELIEF = [max(0, min(255, 128 + (value - 128) * 2)) for value in range(256)]


def _ink(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    """Ink on paper in two tones: shape outlines, and hatching where the picture is dark."""
    grey = image.convert("L")
    # Thresholds from the picture's own tones, so a night scene is not all hatched.
    thumbnail = np.asarray(grey.resize((64, 64), Image.Resampling.BOX))
    dark, darker = (int(v) for v in np.percentile(thumbnail, [30, 10]))
    single, double = _hatching(image.size)
    hatched = ImageChops.lighter(
        ImageChops.multiply(grey.point(lambda v: 255 if v < dark else 0), single),
        ImageChops.multiply(grey.point(lambda v: 255 if v < darker else 0), double),
    )
    ink = ImageChops.lighter(_edges(image, 10), hatched)
    return Image.composite(
        Image.new("RGB", image.size, palette.ink), Image.new("RGB", image.size, palette.paper), ink
    )


def _hatching(size: tuple[int, int]) -> tuple[Image.Image, Image.Image]:
    """Masks (L) of diagonal lines one way, and crossed lines both ways."""
    period = max(4, size[0] // 90)
    stroke = max(1, period // 4)
    ys, xs = np.ogrid[: size[1], : size[0]]
    one_way = ((xs + ys) % period < stroke).astype(np.uint8) * 255
    other_way = ((xs - ys) % period < stroke).astype(np.uint8) * 255
    return Image.fromarray(one_way), Image.fromarray(np.maximum(one_way, other_way))


def _pixels(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    """Pixel art: a 64-pixel-wide picture in 16 colours, scaled up without smoothing."""
    block = max(4, image.width // 64)
    small = image.resize(
        (max(1, image.width // block), max(1, image.height // block)), Image.Resampling.BOX
    )
    limited = small.quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    return limited.convert("RGB").resize(image.size, Image.Resampling.NEAREST)


_BEVEL = [max(0, min(255, 128 + (value - 128) * 3)) for value in range(256)]
_CLAY_LIFT = _lut(lambda t, channel: t * 0.92 + 20 / 255)


def _clay(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    """A soft 3D render: smooth shapes bevelled by light from the top left, a glow around
    bright parts. The look is soft all over, so at large sizes it is made at half size and
    scaled up once (a third of the time, and it looks the same)."""
    large = image.width >= HALF_SIZE_FROM
    work = image.reduce(2) if large else image
    smooth = work.filter(ImageFilter.GaussianBlur(max(1.0, work.width / 300)))
    height_map = smooth.convert("L").filter(ImageFilter.GaussianBlur(max(1.0, work.width / 160)))
    lit = ImageChops.overlay(smooth, _rgb(_emboss(height_map).point(_BEVEL)))
    lit = ImageChops.multiply(lit.point(_CLAY_LIFT), _vignette(work.size, 0.2))
    quarter = work.reduce(4)
    bloom = Image.blend(
        Image.new("RGB", quarter.size),
        quarter.filter(ImageFilter.GaussianBlur(max(1.0, work.width / 160))),
        0.3,
    )
    glowing = ImageChops.screen(lit, bloom.resize(work.size, Image.Resampling.BILINEAR))
    rendered = ImageEnhance.Color(glowing).enhance(1.2)
    return rendered.resize(image.size, Image.Resampling.BILINEAR) if large else rendered


TREATMENTS: dict[Treatment, Pass] = {
    "plain": _plain,
    "film": _film,
    "cinema": _cinema,
    "cel": _cel,
    "wash": _wash,
    "oil": _oil,
    "ink": _ink,
    "pixels": _pixels,
    "clay": _clay,
}
