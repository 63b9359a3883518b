"""The sketch's drawing surface and the primitives every layer shares.

Shapes are drawn with alpha blending straight onto the RGB canvas (`ImageDraw` in "RGBA"
mode), which is much cheaper than compositing layers. Anything whose count grows with the
canvas (stars, windows, grain) draws from a child generator, so the rest of the picture comes
out the same at every size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from core.providers.image.sketch.palette import RGB, Palette, mix

Point = tuple[float, float]
Box = tuple[float, float, float, float]


@dataclass
class Canvas:
    image: Image.Image
    draw: ImageDraw.ImageDraw
    rng: np.random.Generator
    palette: Palette

    @classmethod
    def create(cls, size: tuple[int, int], rng: np.random.Generator, palette: Palette) -> Canvas:
        image = Image.new("RGB", size, palette.paper)
        return cls(image, ImageDraw.Draw(image, "RGBA"), rng, palette)

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    def child_rng(self) -> np.random.Generator:
        return np.random.default_rng(int(self.rng.integers(2**62)))

    def uniform(self, low: float, high: float) -> float:
        return float(self.rng.uniform(low, high))


def rgba(colour: RGB, alpha: int) -> tuple[int, int, int, int]:
    return (*colour, alpha)


def paint_gradient(canvas: Canvas, top: RGB, bottom: RGB, reach: float = 1.0) -> None:
    """A vertical gradient from `top` to `bottom`, reached at `reach` (share of the height)."""
    t = np.clip(np.linspace(0.0, 1.0 / reach, canvas.height), 0.0, 1.0) ** 1.4
    canvas.image.paste(column_gradient(top, bottom, t, canvas.width))


def column_gradient(top: RGB, bottom: RGB, t: np.ndarray, width: int) -> Image.Image:
    """An image `width` wide going from `top` (t = 0) to `bottom` (t = 1) down its rows.

    Built as one column and widened by a nearest-neighbour resize: a full-size numpy array, or
    the default (bicubic) resize, cost ten times as much."""
    first, last = np.array(top, dtype=np.float32), np.array(bottom, dtype=np.float32)
    rows = (first + (last - first) * t[:, None]).astype(np.uint8)
    column = Image.fromarray(rows[:, None, :])
    return column.resize((width, len(t)), Image.Resampling.NEAREST)


def paint_band(canvas: Canvas, box: Box, top: RGB, bottom: RGB, steps: int = 24) -> None:
    """A vertical gradient inside `box`, as a few flat rows (cheaper than per-pixel rows)."""
    left, upper, right, lower = box
    for row in range(steps):
        y0 = upper + (lower - upper) * row / steps
        y1 = upper + (lower - upper) * (row + 1) / steps
        canvas.draw.rectangle((left, y0, right, y1 + 1), fill=mix(top, bottom, row / (steps - 1)))


def draw_glowing_disc(canvas: Canvas, centre: Point, radius: float, colour: RGB) -> None:
    """A disc with a soft halo that fades smoothly into whatever lies behind it."""
    draw_glow(canvas, centre, radius, radius * 3.2, colour, 150)
    x, y = centre
    canvas.draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)


def draw_glow(
    canvas: Canvas, centre: Point, inner: float, reach: float, colour: RGB, strength: int
) -> None:
    """A halo of `colour` fading from `inner` to `reach` pixels around `centre`."""
    x, y = centre
    left, top = max(0, int(x - reach)), max(0, int(y - reach))
    right, bottom = min(canvas.width, int(x + reach) + 1), min(canvas.height, int(y + reach) + 1)
    if right <= left or bottom <= top:
        return
    # The halo is smooth, so a quarter-resolution mask scaled up loses nothing visible.
    step = 4
    ys, xs = np.ogrid[top:bottom:step, left:right:step]
    distance = np.hypot(xs - x, ys - y, dtype=np.float32)
    halo = np.clip(1 - (distance - inner) / max(1.0, reach - inner), 0, 1) ** 2.4 * strength
    mask = Image.fromarray(halo.astype(np.uint8)).resize(
        (right - left, bottom - top), Image.Resampling.BILINEAR
    )
    canvas.image.paste(colour, (left, top, right, bottom), mask)


def draw_stars(canvas: Canvas, lowest: float) -> None:
    """Stars down to `lowest` (share of the height), denser and brighter near the top."""
    rng = canvas.child_rng()
    count = int(canvas.width * canvas.height * lowest / 2500)
    xs = rng.uniform(0, canvas.width, count)
    ys = rng.uniform(0, 1, count) ** 1.6 * canvas.height * lowest
    sizes = rng.uniform(0.4, 1.0, count) ** 3 * canvas.width / 260 + 0.8
    alphas = rng.integers(90, 255, count)
    for x, y, size, alpha in zip(xs, ys, sizes, alphas, strict=True):
        canvas.draw.ellipse((x - size, y - size, x + size, y + size), fill=(255, 250, 235, alpha))


def ridge_line(canvas: Canvas, base: float, amplitude: float, sharp: bool) -> np.ndarray:
    """Heights (y) of a ridge at 96 evenly spaced x positions: sharp peaks or rolling hills."""
    xs = np.linspace(0, canvas.width, 96)
    phase = xs / canvas.width * 2 * math.pi
    wave = np.zeros_like(xs)
    # Mountains get finer octaves too: a rugged edge instead of smooth cones.
    for octave in range(1, 8 if sharp else 5):
        frequency = octave * canvas.uniform(0.7, 1.6)
        term = np.sin(phase * frequency + canvas.uniform(0, 2 * math.pi)) / octave**1.3
        wave += 1 - np.abs(term) * 2 if sharp and octave == 1 else term
    ys: np.ndarray = base - amplitude * wave / 2
    return ys


def ridge_polygon(canvas: Canvas, ys: np.ndarray) -> list[Point]:
    """The ridge `ys` closed down to the bottom edge: a fillable polygon."""
    xs = np.linspace(0, canvas.width, len(ys))
    return [
        *zip(xs.tolist(), ys.tolist(), strict=True),
        (canvas.width, canvas.height),
        (0, canvas.height),
    ]
