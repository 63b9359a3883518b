"""Patterns for prompts that name nothing the sketch can draw: a flower, orbs, Bauhaus tiles."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from core.providers.image.sketch.canvas import Canvas, draw_glowing_disc, paint_gradient, rgba
from core.providers.image.sketch.composition import Abstract
from core.providers.image.sketch.palette import RGB, mix


def bloom(canvas: Canvas) -> None:
    palette = canvas.palette
    paint_gradient(canvas, palette.sky_top, palette.sky_bottom)
    size = min(canvas.width, canvas.height)
    cx = canvas.width / 2 + canvas.uniform(-0.08, 0.08) * canvas.width
    cy = canvas.height / 2 + canvas.uniform(-0.08, 0.08) * canvas.height
    for _ in range(int(canvas.rng.integers(10, 18))):
        r = size * canvas.uniform(0.01, 0.03)
        x, y = canvas.uniform(0, canvas.width), canvas.uniform(0, canvas.height)
        canvas.draw.ellipse((x - r, y - r, x + r, y + r), fill=rgba(palette.shapes[0], 120))
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
        canvas.draw.polygon(points, fill=rgba(colour, 215))
    draw_glowing_disc(canvas, (cx, cy), size * 0.06, palette.accent)


def orbs(canvas: Canvas) -> None:
    palette = canvas.palette
    paint_gradient(canvas, palette.sky_top, palette.sky_bottom)
    size = min(canvas.width, canvas.height)
    for _ in range(int(canvas.rng.integers(7, 13))):
        r = size * canvas.uniform(0.06, 0.26)
        x, y = canvas.uniform(0, canvas.width), canvas.uniform(0, canvas.height)
        colour = palette.shapes[int(canvas.rng.integers(len(palette.shapes)))]
        canvas.draw.ellipse((x - r, y - r, x + r, y + r), fill=rgba(colour, 170))
        # A smaller, lighter disc up and to the left reads as light falling on a sphere.
        h = r * 0.55
        light = mix(colour, palette.paper, 0.45)
        canvas.draw.ellipse(
            (x - r * 0.6 - h / 2, y - r * 0.6 - h / 2, x - r * 0.6 + h, y - r * 0.6 + h),
            fill=rgba(light, 90),
        )
    for _ in range(2):
        r = size * canvas.uniform(0.2, 0.45)
        x, y = canvas.uniform(0, canvas.width), canvas.uniform(0, canvas.height)
        canvas.draw.ellipse(
            (x - r, y - r, x + r, y + r),
            outline=rgba(palette.paper, 150),
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


PATTERNS: dict[Abstract, Callable[[Canvas], None]] = {
    "geometric": geometric,
    "orbs": orbs,
    "bloom": bloom,
}
