"""The offline sketch's compositions: each draws a whole scene on a (supersampled) canvas.

A scene is picked by the prompt's words ("mountain" → landscape, "city" → skyline, ...), else by
the seed. Shapes are drawn with alpha blending straight onto the RGB canvas (`ImageDraw` in
"RGBA" mode), which is much cheaper than compositing layers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from core.providers.image.sketch.palette import RGB, Mood, Palette, mix, vocabulary

Point = tuple[float, float]


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


def _rgba(colour: RGB, alpha: int) -> tuple[int, int, int, int]:
    return (*colour, alpha)


def paint_sky(canvas: Canvas, horizon: float = 1.0) -> None:
    """A vertical gradient from sky_top to sky_bottom, reached at `horizon` (share of height)."""
    height, width = canvas.height, canvas.width
    t = np.clip(np.linspace(0.0, 1.0 / horizon, height), 0.0, 1.0) ** 1.4
    top = np.array(canvas.palette.sky_top, dtype=np.float32)
    bottom = np.array(canvas.palette.sky_bottom, dtype=np.float32)
    rows = (top + (bottom - top) * t[:, None]).astype(np.uint8)
    canvas.image.paste(Image.fromarray(np.broadcast_to(rows[:, None, :], (height, width, 3))))


def draw_glowing_disc(canvas: Canvas, centre: Point, radius: float, colour: RGB) -> None:
    """A disc with a soft halo that fades smoothly into whatever lies behind it."""
    x, y = centre
    reach = radius * 3.2
    left, top = max(0, int(x - reach)), max(0, int(y - reach))
    right, bottom = min(canvas.width, int(x + reach) + 1), min(canvas.height, int(y + reach) + 1)
    if right > left and bottom > top:
        # The halo is smooth, so a quarter-resolution mask scaled up loses nothing visible.
        step = 4
        ys, xs = np.ogrid[top:bottom:step, left:right:step]
        distance = np.hypot(xs - x, ys - y, dtype=np.float32)
        halo = np.clip(1 - (distance - radius) / (reach - radius), 0, 1) ** 2.4 * 150
        mask = Image.fromarray(halo.astype(np.uint8)).resize(
            (right - left, bottom - top), Image.Resampling.BILINEAR
        )
        region = canvas.image.crop((left, top, right, bottom))
        region.paste(colour, mask=mask)
        canvas.image.paste(region, (left, top))
    canvas.draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)


def draw_stars(canvas: Canvas, share_of_sky: float) -> None:
    # The star count grows with the canvas, so stars draw from a generator of their own: the
    # rest of the scene then comes out the same at every size.
    rng = canvas.child_rng()
    count = int(canvas.width * canvas.height * share_of_sky / 2500)
    xs = rng.uniform(0, canvas.width, count)
    ys = rng.uniform(0, canvas.height * share_of_sky, count)
    sizes = rng.uniform(0.4, 1.0, count) ** 3 * canvas.width / 260 + 0.8
    alphas = rng.integers(90, 255, count)
    for x, y, size, alpha in zip(xs, ys, sizes, alphas, strict=True):
        canvas.draw.ellipse((x - size, y - size, x + size, y + size), fill=(255, 250, 235, alpha))


def _ridge_profile(canvas: Canvas, base: float, amplitude: float, sharp: bool) -> list[Point]:
    xs = np.linspace(0, canvas.width, 96)
    phase = xs / canvas.width * 2 * math.pi
    wave = np.zeros_like(xs)
    for octave in range(1, 5):
        frequency = octave * canvas.uniform(0.7, 1.6)
        term = np.sin(phase * frequency + canvas.uniform(0, 2 * math.pi)) / octave
        wave += 1 - np.abs(term) * 2 if sharp and octave == 1 else term
    ys = base - amplitude * wave / 2
    return [
        *zip(xs.tolist(), ys.tolist(), strict=True),
        (canvas.width, canvas.height),
        (0, canvas.height),
    ]


def draw_ridges(canvas: Canvas, top: float, layers: int, sharp: bool = True) -> None:
    """Mountain ridges from far (hazy, near the sky colour) to near (dark)."""
    palette = canvas.palette
    for layer in range(layers):
        depth = (layer + 1) / layers
        base = canvas.height * (top + (1 - top) * 0.55 * depth)
        amplitude = canvas.height * 0.16 * (1.15 - depth * 0.5)
        colour = mix(palette.sky_bottom, palette.shapes[layer % 3 + 1], 0.35 + 0.45 * depth)
        colour = mix(colour, palette.ink, depth**2 * 0.6)
        canvas.draw.polygon(_ridge_profile(canvas, base, amplitude, sharp), fill=colour)


def landscape(canvas: Canvas) -> None:
    paint_sky(canvas, horizon=0.7)
    if canvas.palette.mood is Mood.NIGHT:
        draw_stars(canvas, 0.6)
    sun = (canvas.width * canvas.uniform(0.2, 0.8), canvas.height * canvas.uniform(0.22, 0.42))
    draw_glowing_disc(canvas, sun, canvas.width * canvas.uniform(0.06, 0.11), canvas.palette.accent)
    draw_ridges(canvas, top=0.42, layers=int(canvas.rng.integers(3, 6)))


def seascape(canvas: Canvas) -> None:
    palette = canvas.palette
    horizon = canvas.height * canvas.uniform(0.52, 0.64)
    paint_sky(canvas, horizon=horizon / canvas.height)
    if palette.mood is Mood.NIGHT:
        draw_stars(canvas, 0.5)
    sun_x = canvas.width * canvas.uniform(0.25, 0.75)
    radius = canvas.width * canvas.uniform(0.05, 0.09)
    draw_glowing_disc(canvas, (sun_x, horizon - radius * 1.6), radius, palette.accent)
    canvas.draw.polygon(
        _ridge_profile(canvas, horizon, canvas.height * 0.03, sharp=False),
        fill=mix(palette.sky_bottom, palette.shapes[2], 0.55),
    )
    water_top, water_bottom = mix(palette.sky_bottom, palette.shapes[2], 0.5), palette.shapes[3]
    for row in range(24):
        y0 = horizon + (canvas.height - horizon) * row / 24
        y1 = horizon + (canvas.height - horizon) * (row + 1) / 24
        canvas.draw.rectangle(
            (0, y0, canvas.width, y1 + 1), fill=mix(water_top, water_bottom, row / 23)
        )
    # The sun's reflection: short strokes that widen and fade towards the viewer.
    for stroke in range(40):
        depth = stroke / 40
        y = horizon + (canvas.height - horizon) * depth
        half = radius * (0.4 + 1.6 * depth) * canvas.uniform(0.4, 1.2)
        x = sun_x + canvas.uniform(-1, 1) * radius * depth
        thickness = max(1.0, canvas.height / 300 * (1 + depth))
        alpha = int(200 * (1 - depth) + 30)
        canvas.draw.rectangle(
            (x - half, y, x + half, y + thickness), fill=_rgba(palette.accent, alpha)
        )


def skyline(canvas: Canvas) -> None:
    palette = canvas.palette
    paint_sky(canvas, horizon=0.8)
    if palette.mood in (Mood.NIGHT, Mood.NEON):
        draw_stars(canvas, 0.4)
    ground = canvas.height * canvas.uniform(0.82, 0.9)
    for layer, (haze, lit_share) in enumerate(((0.55, 0.0), (0.0, 0.35))):
        colour = mix(palette.ink, palette.sky_bottom, haze)
        x = -canvas.uniform(0, canvas.width * 0.05)
        while x < canvas.width:
            width = canvas.width * canvas.uniform(0.05, 0.12)
            tallest = 0.6 if layer == 0 else 0.48
            top = ground - canvas.height * canvas.uniform(0.12, tallest)
            canvas.draw.rectangle((x, top, x + width - canvas.width * 0.004, ground), fill=colour)
            if lit_share:
                _draw_windows(canvas, (x, top, x + width, ground), lit_share)
            x += width
    canvas.draw.rectangle((0, ground, canvas.width, canvas.height), fill=palette.ink)


def _draw_windows(canvas: Canvas, box: tuple[float, float, float, float], lit_share: float) -> None:
    left, top, right, bottom = box
    step = canvas.width / 60
    neon = canvas.palette.mood is Mood.NEON
    lights: Sequence[RGB] = (
        (canvas.palette.accent, *canvas.palette.shapes[:2]) if neon else (canvas.palette.accent,)
    )
    rng = canvas.child_rng()
    y = top + step
    while y < bottom - step:
        x = left + step * 0.8
        while x < right - step * 1.2:
            if rng.random() < lit_share:
                colour = lights[int(rng.integers(len(lights)))]
                canvas.draw.rectangle((x, y, x + step * 0.5, y + step * 0.6), fill=colour)
            x += step
        y += step * 1.2


def forest(canvas: Canvas) -> None:
    palette = canvas.palette
    paint_sky(canvas, horizon=0.65)
    if palette.mood is Mood.NIGHT:
        draw_stars(canvas, 0.5)
    moon = (canvas.width * canvas.uniform(0.15, 0.85), canvas.height * canvas.uniform(0.12, 0.3))
    draw_glowing_disc(canvas, moon, canvas.width * 0.05, palette.accent)
    draw_ridges(canvas, top=0.38, layers=2, sharp=False)
    rows = 4
    for row in range(rows):
        depth = (row + 1) / rows
        colour = mix(
            mix(palette.sky_bottom, palette.shapes[3], 0.5 + 0.5 * depth), palette.ink, depth * 0.7
        )
        base = canvas.height * (0.62 + 0.38 * depth)
        height = canvas.height * (0.16 + 0.22 * depth)
        for _ in range(int(6 + 6 * (1 - depth) + canvas.rng.integers(0, 4))):
            x = canvas.uniform(-0.05, 1.05) * canvas.width
            _draw_pine(canvas, (x, base), height * canvas.uniform(0.7, 1.15), colour)


def _draw_pine(canvas: Canvas, foot: Point, height: float, colour: RGB) -> None:
    x, y = foot
    width = height * 0.42
    for tier in range(3):
        tier_bottom = y - height * 0.28 * tier
        tier_width = width * (1 - tier * 0.25)
        tip = tier_bottom - height * 0.5
        canvas.draw.polygon(
            [(x - tier_width / 2, tier_bottom), (x + tier_width / 2, tier_bottom), (x, tip)],
            fill=colour,
        )
    canvas.draw.rectangle((x - width * 0.06, y, x + width * 0.06, y + height * 0.12), fill=colour)


def night_sky(canvas: Canvas) -> None:
    palette = canvas.palette
    paint_sky(canvas)
    draw_stars(canvas, 1.0)
    x, y = canvas.width * canvas.uniform(0.25, 0.75), canvas.height * canvas.uniform(0.25, 0.45)
    radius = canvas.width * canvas.uniform(0.1, 0.16)
    draw_glowing_disc(canvas, (x, y), radius, palette.accent)
    # A ring makes the disc read as a planet; a second disc in sky colour as a crescent moon.
    if canvas.rng.random() < 0.5:
        canvas.draw.ellipse(
            (x - radius * 2, y - radius * 0.45, x + radius * 2, y + radius * 0.45),
            outline=_rgba(palette.shapes[0], 200),
            width=max(2, int(radius / 10)),
        )
    else:
        shadow = mix(palette.sky_top, palette.sky_bottom, y / canvas.height)
        dx = radius * 0.45
        canvas.draw.ellipse(
            (x - radius + dx, y - radius - dx * 0.3, x + radius + dx, y + radius - dx * 0.3),
            fill=shadow,
        )
    draw_ridges(canvas, top=0.72, layers=2)


def bloom(canvas: Canvas) -> None:
    palette = canvas.palette
    paint_sky(canvas)
    size = min(canvas.width, canvas.height)
    cx = canvas.width / 2 + canvas.uniform(-0.08, 0.08) * canvas.width
    cy = canvas.height / 2 + canvas.uniform(-0.08, 0.08) * canvas.height
    for _ in range(int(canvas.rng.integers(10, 18))):
        r = size * canvas.uniform(0.01, 0.03)
        x, y = canvas.uniform(0, canvas.width), canvas.uniform(0, canvas.height)
        canvas.draw.ellipse((x - r, y - r, x + r, y + r), fill=_rgba(palette.shapes[0], 120))
    petals = int(canvas.rng.integers(5, 9))
    turn = canvas.uniform(0, math.pi)
    for layer in range(4, 0, -1):
        radius = size * 0.42 * layer / 4
        colour = palette.shapes[(4 - layer) % len(palette.shapes)]
        angles = np.linspace(0, 2 * math.pi, 360)
        reach = radius * np.abs(np.cos(petals / 2 * (angles + turn * layer))) ** 0.6
        points = list(
            zip(
                (cx + reach * np.cos(angles)).tolist(),
                (cy + reach * np.sin(angles)).tolist(),
                strict=True,
            )
        )
        canvas.draw.polygon(points, fill=_rgba(colour, 215))
    draw_glowing_disc(canvas, (cx, cy), size * 0.06, palette.accent)


def orbs(canvas: Canvas) -> None:
    palette = canvas.palette
    paint_sky(canvas)
    size = min(canvas.width, canvas.height)
    for _ in range(int(canvas.rng.integers(7, 13))):
        r = size * canvas.uniform(0.06, 0.26)
        x, y = canvas.uniform(0, canvas.width), canvas.uniform(0, canvas.height)
        colour = palette.shapes[int(canvas.rng.integers(len(palette.shapes)))]
        canvas.draw.ellipse((x - r, y - r, x + r, y + r), fill=_rgba(colour, 170))
        # A smaller, lighter disc up and to the left reads as light falling on a sphere.
        h = r * 0.55
        light = mix(colour, palette.paper, 0.45)
        canvas.draw.ellipse(
            (x - r * 0.6 - h / 2, y - r * 0.6 - h / 2, x - r * 0.6 + h, y - r * 0.6 + h),
            fill=_rgba(light, 90),
        )
    for _ in range(2):
        r = size * canvas.uniform(0.2, 0.45)
        x, y = canvas.uniform(0, canvas.width), canvas.uniform(0, canvas.height)
        canvas.draw.ellipse(
            (x - r, y - r, x + r, y + r),
            outline=_rgba(palette.paper, 150),
            width=max(2, size // 200),
        )


def geometric(canvas: Canvas) -> None:
    """Bauhaus tiles: each cell a flat colour with one motif (quarter disc, half disc, ...)."""
    palette = canvas.palette
    colours = [palette.paper, *palette.shapes, palette.accent]
    columns = int(canvas.rng.integers(3, 6))
    cell = canvas.width / columns
    rows = max(1, round(canvas.height / cell))
    cell_height = canvas.height / rows
    for row in range(rows):
        for column in range(columns):
            left, top = column * cell, row * cell_height
            box = (left, top, left + cell, top + cell_height)
            background = int(canvas.rng.integers(len(colours)))
            foreground = (background + int(canvas.rng.integers(1, len(colours)))) % len(colours)
            canvas.draw.rectangle(box, fill=colours[background])
            _draw_motif(canvas, box, colours[foreground])


def _draw_motif(canvas: Canvas, box: tuple[float, float, float, float], colour: RGB) -> None:
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    motif = int(canvas.rng.integers(5))
    if motif == 0:  # a quarter disc from one corner
        corner = int(canvas.rng.integers(4))
        cx, cy = (left, right, right, left)[corner], (top, top, bottom, bottom)[corner]
        start = (0, 90, 180, 270)[corner]
        canvas.draw.pieslice((cx - w, cy - h, cx + w, cy + h), start, start + 90, fill=colour)
    elif motif == 1:  # a half disc on one side
        side = int(canvas.rng.integers(2))
        if side:
            canvas.draw.pieslice((left, top - h / 2, right, bottom - h / 2), 0, 180, fill=colour)
        else:
            canvas.draw.pieslice((left, top + h / 2, right, bottom + h / 2), 180, 360, fill=colour)
    elif motif == 2:  # a centred disc
        inset = min(w, h) * 0.15
        canvas.draw.ellipse((left + inset, top + inset, right - inset, bottom - inset), fill=colour)
    elif motif == 3:  # a triangle
        canvas.draw.polygon([(left, bottom), (right, bottom), (left + w / 2, top)], fill=colour)
    else:  # stripes
        for stripe in range(4):
            y = top + h * (stripe * 2 + 1) / 9
            canvas.draw.rectangle((left, y, right, y + h / 9), fill=colour)


Scene = Callable[[Canvas], None]

SCENES: dict[str, Scene] = {
    "landscape": landscape,
    "seascape": seascape,
    "skyline": skyline,
    "forest": forest,
    "night sky": night_sky,
    "bloom": bloom,
    "orbs": orbs,
    "geometric": geometric,
}

SCENE_WORDS: dict[str, frozenset[str]] = {
    "seascape": vocabulary("sea ocean lake beach water river wave waves island boat harbor"),
    "skyline": vocabulary("city town street skyline building buildings tower cyberpunk"),
    "forest": vocabulary("forest tree trees woods jungle pine pines garden"),
    "night sky": vocabulary("space galaxy cosmos planet nebula stars starry astronaut"),
    "landscape": vocabulary(
        "mountain mountains hill hills landscape valley desert canyon field sunset"
    ),
    "bloom": vocabulary("flower flowers rose bloom blossom petal petals mandala"),
}

# Prompts without a scene word get one of these, picked by the seed.
ABSTRACT_SCENES = ("geometric", "orbs", "bloom", "landscape")


def choose_scene(words: Sequence[str], rng: np.random.Generator) -> str:
    for scene, scene_words in SCENE_WORDS.items():
        if scene_words.intersection(words):
            return scene
    return ABSTRACT_SCENES[int(rng.integers(len(ABSTRACT_SCENES)))]
