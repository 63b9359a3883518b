"""The land of a scene, far to near: mountains, hills, ground, forest, a city, a street, water.

Every layer stands on the horizon (pixels from the top). Far layers fade into the sky's colour
and near ones darken towards the ink colour, which is what makes the picture read as deep.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.providers.image.sketch.canvas import (
    Canvas,
    Point,
    column_gradient,
    draw_glow,
    paint_band,
    rgba,
    ridge_line,
    ridge_polygon,
)
from core.providers.image.sketch.palette import RGB, mix
from core.providers.image.sketch.sky import WHITE


def draw_mountains(canvas: Canvas, horizon: float, snowy: bool) -> None:
    palette = canvas.palette
    layers = int(canvas.rng.integers(3, 5))
    for layer in range(layers):
        depth = (layer + 1) / layers
        amplitude = canvas.height * (0.3 - 0.13 * depth)
        base = horizon - canvas.height * 0.05 * (1 - depth) - amplitude * 0.4
        ys = ridge_line(canvas, base, amplitude, sharp=True)
        colour = mix(palette.sky_bottom, palette.shapes[layer % 3 + 1], 0.35 + 0.45 * depth)
        colour = mix(colour, palette.ink, depth**2 * 0.6)
        if snowy:
            snow = mix(WHITE, palette.sky_bottom, 0.25 * (1 - depth))
            canvas.draw.polygon(ridge_polygon(canvas, ys), fill=snow)
            ys = _below_snowline(canvas, ys, horizon)
        canvas.draw.polygon(ridge_polygon(canvas, ys), fill=colour)


def _below_snowline(canvas: Canvas, ys: np.ndarray, horizon: float) -> np.ndarray:
    """The rock's edge under a snow cap: lowered most at the peaks, with a ragged line."""
    snowline = ys.min() + (horizon - ys.min()) * 0.45
    ragged = canvas.height * 0.012 * np.sin(np.arange(len(ys)) * canvas.uniform(1.5, 2.5))
    lowered = ys + (snowline - ys) * 0.6 + ragged
    rock: np.ndarray = np.where(ys < snowline, np.maximum(lowered, ys), ys)
    return rock


def draw_ground(canvas: Canvas, horizon: float, snowy: bool) -> None:
    palette = canvas.palette
    if snowy:
        near, far = mix(WHITE, palette.shapes[2], 0.3), mix(WHITE, palette.sky_bottom, 0.3)
    else:
        near = mix(palette.shapes[3], palette.ink, 0.4)
        far = mix(palette.sky_bottom, palette.shapes[2], 0.6)
    paint_band(canvas, (0, horizon, canvas.width, canvas.height), far, near)


def draw_hills(canvas: Canvas, horizon: float, snowy: bool) -> None:
    palette = canvas.palette
    rows = 3
    for row in range(rows):
        depth = (row + 1) / rows
        base = horizon + (canvas.height - horizon) * 0.45 * row / rows
        ys = ridge_line(canvas, base, canvas.height * 0.07, sharp=False)
        colour = mix(
            mix(palette.sky_bottom, palette.shapes[row], 0.5 + 0.4 * depth),
            palette.ink,
            0.35 * depth,
        )
        if snowy:
            colour = mix(WHITE, colour, 0.25 + 0.2 * depth)
        canvas.draw.polygon(ridge_polygon(canvas, ys), fill=colour)


def draw_forest(canvas: Canvas, horizon: float, snowy: bool) -> None:
    """Rows of pines from the horizon to the bottom edge, smaller and hazier far away."""
    palette = canvas.palette
    rows = 4
    for row in range(rows):
        depth = (row + 1) / rows
        colour = mix(
            mix(palette.sky_bottom, palette.shapes[3], 0.5 + 0.5 * depth), palette.ink, depth * 0.6
        )
        base = horizon + (canvas.height - horizon) * depth * 0.95
        height = canvas.height * (0.1 + 0.26 * depth)
        for _ in range(int(6 + 6 * (1 - depth) + canvas.rng.integers(0, 4))):
            x = canvas.uniform(-0.05, 1.05) * canvas.width
            draw_pine(canvas, (x, base), height * canvas.uniform(0.7, 1.15), colour, snowy)


def draw_tree_line(canvas: Canvas, horizon: float, snowy: bool) -> None:
    """A far shore of small pines along the horizon (water reflects it afterwards)."""
    colour = mix(canvas.palette.sky_bottom, canvas.palette.shapes[3], 0.6)
    for _ in range(40):
        x = canvas.uniform(-0.02, 1.02) * canvas.width
        height = canvas.height * canvas.uniform(0.03, 0.07)
        draw_pine(canvas, (x, horizon + canvas.height * 0.004), height, colour, snowy)


def draw_pine(canvas: Canvas, foot: Point, height: float, colour: RGB, snowy: bool) -> None:
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
        if snowy:
            # Snow on the upper part of each tier.
            low = tip + (tier_bottom - tip) * 0.45
            half = tier_width / 2 * 0.45
            canvas.draw.polygon([(x - half, low), (x + half, low), (x, tip)], fill=rgba(WHITE, 215))
    canvas.draw.rectangle((x - width * 0.06, y, x + width * 0.06, y + height * 0.12), fill=colour)


def draw_city(canvas: Canvas, ground: float, lit: float, far: bool) -> None:
    """Two rows of buildings standing on `ground`; `lit` is the share of lit windows."""
    palette = canvas.palette
    tallest = 0.3 if far else 0.45
    for layer, (haze, windows) in enumerate(((0.55, 0.0), (0.0, lit))):
        colour = mix(mix(palette.ink, palette.shapes[2], 0.25), palette.sky_bottom, haze)
        x = -canvas.uniform(0, canvas.width * 0.05)
        while x < canvas.width:
            width = canvas.width * canvas.uniform(0.05, 0.12)
            top = ground - canvas.height * canvas.uniform(0.08, tallest - 0.08 * layer)
            box = (x, top, x + width - canvas.width * 0.004, ground)
            canvas.draw.rectangle(box, fill=colour)
            if windows:
                _draw_windows(canvas, box, windows)
            x += width


def _draw_windows(canvas: Canvas, box: tuple[float, float, float, float], lit: float) -> None:
    left, top, right, bottom = box
    step = canvas.width / 60
    lights = (canvas.palette.accent, mix(canvas.palette.accent, WHITE, 0.4))
    rng = canvas.child_rng()
    y = top + step
    while y < bottom - step:
        x = left + step * 0.8
        while x < right - step * 1.2:
            if rng.random() < lit:
                colour = lights[int(rng.integers(len(lights)))]
                canvas.draw.rectangle((x, y, x + step * 0.5, y + step * 0.6), fill=colour)
            x += step
        y += step * 1.2


def draw_street(canvas: Canvas, horizon: float, lit: float, wet: bool) -> None:
    """A road to a vanishing point on the horizon, façades on both sides, lamps along it."""
    palette = canvas.palette
    w, h = canvas.width, canvas.height
    vanish = w * canvas.uniform(0.42, 0.58)
    gap = w * 0.06
    facade = mix(palette.ink, palette.shapes[2], 0.3)
    road = mix(palette.ink, palette.shapes[3], 0.35)
    canvas.draw.polygon(
        [
            (w * 0.08, h),
            (vanish - gap * 0.2, horizon),
            (vanish + gap * 0.2, horizon),
            (w * 0.92, h),
        ],
        fill=road,
    )
    for side in (-1, 1):
        edge = 0 if side < 0 else w
        inner = vanish + side * gap
        canvas.draw.polygon(
            [(edge, h * 0.04), (inner, horizon - h * 0.09), (inner, horizon), (edge, h * 0.94)],
            fill=facade,
        )
        _facade_windows(canvas, (edge, inner), horizon, lit)
    for step in range(6):
        # Lamps placed evenly along the road look closer together far away.
        t = 1 - step / 6
        for side in (-1, 1):
            x = vanish + side * (gap * 0.3 + (w * 0.45 - gap * 0.3) * t)
            foot = horizon + (h - horizon) * t * 0.92
            tall = h * 0.3 * t
            canvas.draw.line(
                (x, foot, x, foot - tall), fill=palette.ink, width=max(1, int(w * 0.006 * t))
            )
            lamp, bulb = (x, foot - tall), w * 0.008 * t
            if lit:
                draw_glow(canvas, lamp, 0, w * 0.06 * t, palette.accent, 160)
            canvas.draw.ellipse(
                (x - bulb, lamp[1] - bulb, x + bulb, lamp[1] + bulb), fill=palette.accent
            )
            if wet:
                # A wet road mirrors each lamp as a long streak.
                width = w * 0.012 * t
                canvas.draw.rectangle(
                    (x - width, foot, x + width, foot + (h - foot) * 0.5),
                    fill=rgba(palette.accent, 70),
                )


def _facade_windows(canvas: Canvas, edges: tuple[float, float], horizon: float, lit: float) -> None:
    """Window columns along a façade, narrowing towards the vanishing point."""
    palette = canvas.palette
    edge, inner = edges
    h = canvas.height
    glass = mix(palette.sky_bottom, palette.ink, 0.5)
    rng = canvas.child_rng()
    for column in range(8):
        # A column at share u of the way to the vanishing point; perspective squeezes u.
        u, next_u = (1 - 0.8**column), (1 - 0.8 ** (column + 0.6))
        x0, x1 = edge + (inner - edge) * u, edge + (inner - edge) * next_u
        top0, bottom0 = h * 0.04 + (horizon - h * 0.13) * u, h * 0.94 - (h * 0.94 - horizon) * u
        for row in range(6):
            a, b = (row + 0.25) / 6, (row + 0.75) / 6
            span = bottom0 - top0
            lit_window = rng.random() < lit
            canvas.draw.rectangle(
                (min(x0, x1), top0 + span * a * 0.8, max(x0, x1), top0 + span * b * 0.8),
                fill=palette.accent if lit_window else glass,
            )


def draw_water(canvas: Canvas, horizon: float) -> None:
    """Water from the horizon down, mirroring what stands above it, with ripples."""
    palette = canvas.palette
    top = int(horizon)
    depth = canvas.height - top
    above = canvas.image.crop((0, max(0, top - depth), canvas.width, top))
    mirrored = above.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    # Squashing it and stretching it back smears the reflection as moving water does.
    squashed = mirrored.resize((canvas.width // 2, max(1, depth // 10)), Image.Resampling.BOX)
    smeared = squashed.resize((canvas.width, depth), Image.Resampling.BILINEAR)
    near, far = palette.shapes[3], mix(palette.sky_bottom, palette.shapes[2], 0.4)
    tint = column_gradient(far, near, np.linspace(0, 1, depth), canvas.width)
    canvas.image.paste(Image.blend(smeared, tint, 0.45), (0, top))
    light = mix(palette.sky_bottom, WHITE, 0.4)
    for _ in range(70):
        t = canvas.uniform(0, 1) ** 1.5
        y = top + depth * t
        half = canvas.width * canvas.uniform(0.02, 0.12) * (0.3 + t)
        x = canvas.uniform(0, canvas.width)
        thickness = max(1.0, canvas.height / 500 * (1 + 2 * t))
        canvas.draw.rectangle((x - half, y, x + half, y + thickness), fill=rgba(light, 60))
    canvas.draw.line(
        (0, top, canvas.width, top), fill=rgba(palette.ink, 90), width=max(1, canvas.height // 400)
    )
