"""The sky of a scene (gradient, sun, moon, stars, clouds) and the weather over it."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from core.providers.image.sketch.canvas import (
    Canvas,
    Point,
    draw_glow,
    draw_glowing_disc,
    draw_stars,
    paint_gradient,
    rgba,
)
from core.providers.image.sketch.composition import Sky, Weather
from core.providers.image.sketch.palette import RGB, mix

# Rain, fog and snow grey the sky towards this.
OVERCAST: RGB = (150, 156, 166)
WHITE: RGB = (246, 248, 255)


def draw_sky(canvas: Canvas, sky: Sky, weather: Weather, horizon: float) -> None:
    """Everything above `horizon` (pixels from the top); the land is drawn over its lower part."""
    palette = canvas.palette
    grey = 0.0 if weather == "clear" else 0.5
    top, bottom = mix(palette.sky_top, OVERCAST, grey), mix(palette.sky_bottom, OVERCAST, grey)
    paint_gradient(canvas, top, bottom, reach=horizon / canvas.height)
    if sky == "space":
        _space(canvas)
    elif sky == "night":
        draw_stars(canvas, horizon / canvas.height * (0.5 if grey else 1.0))
        _moon(canvas, horizon)
    elif sky == "sunset":
        _low_sun(canvas, horizon)
        _clouds(canvas, horizon, 2 + 3 * (weather != "clear"), lit=True)
    else:
        if weather == "clear":
            sun = (canvas.width * canvas.uniform(0.15, 0.85), horizon * canvas.uniform(0.18, 0.45))
            draw_glowing_disc(canvas, sun, canvas.width * 0.045, palette.accent)
        _clouds(canvas, horizon, 3 + 4 * (weather != "clear"), lit=False)


def _moon(canvas: Canvas, horizon: float) -> None:
    palette = canvas.palette
    x, y = canvas.width * canvas.uniform(0.15, 0.85), horizon * canvas.uniform(0.15, 0.45)
    radius = canvas.width * canvas.uniform(0.035, 0.055)
    draw_moon(canvas, (x, y), radius, mix(palette.accent, WHITE, 0.5))


def draw_moon(canvas: Canvas, centre: Point, radius: float, colour: RGB) -> None:
    """A full disc, or a crescent cut out of it by a mask so the sky shows through the rest."""
    x, y = centre
    crescent = canvas.rng.random() < 0.5
    draw_glow(canvas, centre, radius, radius * 3.2, colour, 70 if crescent else 150)
    side = int(radius * 2) + 1
    disc = Image.new("L", (side, side))
    shape = ImageDraw.Draw(disc)
    shape.ellipse((0, 0, side - 1, side - 1), fill=255)
    if crescent:
        shape.ellipse(
            (radius * 0.5, -radius * 0.2, side + radius * 0.5, side - radius * 0.2), fill=0
        )
    canvas.image.paste(colour, (int(x - radius), int(y - radius)), disc)


def _low_sun(canvas: Canvas, horizon: float) -> None:
    """A big sun just above the horizon and the warm glow it spreads along it."""
    palette = canvas.palette
    radius = canvas.width * canvas.uniform(0.06, 0.09)
    x = canvas.width * canvas.uniform(0.25, 0.75)
    y = horizon - radius * canvas.uniform(0.2, 1.4)
    draw_glow(canvas, (x, horizon), 0, canvas.width * 0.6, palette.accent, 90)
    draw_glowing_disc(canvas, (x, y), radius, mix(palette.accent, WHITE, 0.3))


def _space(canvas: Canvas) -> None:
    """Stars everywhere, a nebula's glow, and a planet (ringed) or a crescent moon."""
    palette = canvas.palette
    for colour in palette.shapes[:2]:
        centre = (canvas.width * canvas.uniform(0, 1), canvas.height * canvas.uniform(0, 0.6))
        draw_glow(canvas, centre, 0, canvas.width * canvas.uniform(0.3, 0.5), colour, 110)
    draw_stars(canvas, 1.0)
    x, y = canvas.width * canvas.uniform(0.25, 0.75), canvas.height * canvas.uniform(0.2, 0.4)
    radius = canvas.width * canvas.uniform(0.1, 0.15)
    if canvas.rng.random() < 0.5:
        draw_glowing_disc(canvas, (x, y), radius, palette.accent)
        canvas.draw.ellipse(
            (x - radius * 2, y - radius * 0.45, x + radius * 2, y + radius * 0.45),
            outline=rgba(palette.shapes[0], 200),
            width=max(2, int(radius / 10)),
        )
    else:
        draw_moon(canvas, (x, y), radius, palette.accent)


def _clouds(canvas: Canvas, horizon: float, count: int, lit: bool) -> None:
    palette = canvas.palette
    # Lit by a low sun, clouds take its colour underneath; by day they are white-ish.
    colour = mix(WHITE, palette.accent, 0.45) if lit else mix(WHITE, palette.sky_bottom, 0.2)
    for _ in range(count):
        centre = (canvas.width * canvas.uniform(-0.1, 1.1), horizon * canvas.uniform(0.1, 0.7))
        draw_cloud(canvas, centre, canvas.width * canvas.uniform(0.12, 0.28), colour)


def draw_cloud(canvas: Canvas, centre: Point, width: float, colour: RGB) -> None:
    """A flat-bottomed cloud: puffs merged into one soft shape, drawn through a blurred mask
    (so styles that trace edges see one outline, not every puff)."""
    x, y = centre
    puffs = 6
    mask = Image.new("L", (int(width * 1.2), int(width * 0.6)))
    shape = ImageDraw.Draw(mask)
    base = mask.height * 0.85
    for puff in range(puffs):
        t = puff / (puffs - 1) - 0.5
        r = width * (0.2 - 0.2 * abs(t)) * canvas.uniform(0.8, 1.2) + width * 0.04
        cx = mask.width / 2 + t * width * 0.8
        shape.ellipse((cx - r, base - r * 1.6, cx + r, base + r * 0.4), fill=255)
    shape.rectangle((0, base, mask.width, mask.height), fill=0)
    soft = mask.filter(ImageFilter.GaussianBlur(width * 0.03)).point(lambda value: value * 2 // 5)
    canvas.image.paste(colour, (int(x - mask.width / 2), int(y - base)), soft)


def draw_haze(canvas: Canvas, horizon: float) -> None:
    """Fog lying on the horizon: a pale band, thickest at the horizon, fading up and down."""
    thickness = canvas.height * 0.16
    top, bottom = (
        max(0, int(horizon - 3 * thickness)),
        min(canvas.height, int(horizon + 3 * thickness)),
    )
    rows = np.arange(top, bottom, dtype=np.float32)
    alpha = 190 * np.exp(-(((rows - horizon) / thickness) ** 2))
    mask = Image.fromarray(alpha.astype(np.uint8)[:, None]).resize(
        (canvas.width, bottom - top), Image.Resampling.NEAREST
    )
    canvas.image.paste(
        mix(WHITE, canvas.palette.sky_bottom, 0.3), (0, top, canvas.width, bottom), mask
    )


def draw_weather(canvas: Canvas, weather: Weather) -> None:
    """Rain streaks or snowflakes over the whole picture (fog is drawn with the land)."""
    # A fixed count, so a small and a large picture get the same drops.
    rng = canvas.child_rng()
    if weather == "rain":
        colour = mix(WHITE, canvas.palette.sky_bottom, 0.3)
        width = max(1, canvas.width // 700)
        for _ in range(260):
            x, y = rng.uniform(-0.1, 1.05) * canvas.width, rng.uniform(0, 1) * canvas.height
            length = rng.uniform(0.03, 0.08) * canvas.height
            canvas.draw.line(
                (x, y, x + length * 0.22, y + length),
                fill=rgba(colour, int(rng.integers(60, 130))),
                width=width,
            )
    elif weather == "snow":
        for _ in range(240):
            x, y = rng.uniform(0, 1) * canvas.width, rng.uniform(0, 1) * canvas.height
            r = rng.uniform(0.0015, 0.006) * canvas.width
            canvas.draw.ellipse(
                (x - r, y - r, x + r, y + r), fill=rgba(WHITE, int(rng.integers(150, 240)))
            )
