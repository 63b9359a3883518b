"""One thing in front of the land: a lighthouse, a cabin, a boat, or flowers."""

from __future__ import annotations

import math

from core.providers.image.sketch.canvas import Canvas, draw_glow, rgba
from core.providers.image.sketch.palette import RGB, mix
from core.providers.image.sketch.sky import WHITE

STRIPE_RED: RGB = (178, 48, 44)


def draw_lighthouse(canvas: Canvas, horizon: float, lit: bool) -> None:
    """A striped tower on a dark headland at one side, its lamp (and beam, when lit) glowing."""
    palette = canvas.palette
    w, h = canvas.width, canvas.height
    side = -1 if canvas.rng.random() < 0.5 else 1
    x = w * (0.5 + side * canvas.uniform(0.22, 0.3))
    rock_top = horizon + (h - horizon) * 0.18
    edge = 0 if side < 0 else w
    rock = mix(palette.ink, palette.shapes[3], 0.3)
    canvas.draw.polygon(
        [
            (edge, rock_top - h * 0.02),
            (x - side * w * 0.06, rock_top - h * 0.01),
            (x + side * w * 0.1, rock_top + h * 0.03),
            (x + side * w * 0.22, h),
            (edge, h),
        ],
        fill=rock,
    )
    tall, bottom_half, top_half = h * 0.36, w * 0.035, w * 0.024
    base, top = rock_top, rock_top - tall
    for band in range(5):
        y0, y1 = base - tall * band / 5, base - tall * (band + 1) / 5
        half0 = bottom_half + (top_half - bottom_half) * band / 5
        half1 = bottom_half + (top_half - bottom_half) * (band + 1) / 5
        colour = STRIPE_RED if band % 2 == 0 else mix(WHITE, palette.sky_bottom, 0.15)
        canvas.draw.polygon(
            [(x - half0, y0), (x + half0, y0), (x + half1, y1), (x - half1, y1)], fill=colour
        )
    lamp_y = top - w * 0.025
    canvas.draw.rectangle(
        (x - top_half * 1.2, top - w * 0.004, x + top_half * 1.2, top), fill=palette.ink
    )
    if lit:
        # The beam points inland-to-sea: away from the headland.
        reach = w * 0.7
        canvas.draw.polygon(
            [
                (x, lamp_y),
                (x - side * reach, lamp_y - h * 0.08),
                (x - side * reach, lamp_y + h * 0.05),
            ],
            fill=rgba(palette.accent, 55),
        )
        draw_glow(canvas, (x, lamp_y), 0, w * 0.08, palette.accent, 200)
    canvas.draw.rectangle(
        (x - top_half * 0.8, lamp_y - w * 0.018, x + top_half * 0.8, top),
        fill=palette.accent if lit else mix(WHITE, palette.sky_bottom, 0.3),
    )
    canvas.draw.polygon(
        [
            (x - top_half, lamp_y - w * 0.018),
            (x + top_half, lamp_y - w * 0.018),
            (x, lamp_y - w * 0.045),
        ],
        fill=STRIPE_RED,
    )


def draw_cabin(canvas: Canvas, ground: float, lit: bool, snowy: bool) -> None:
    """A small wooden house with a lit window and a smoking chimney."""
    palette = canvas.palette
    w, h = canvas.width, canvas.height
    x = w * canvas.uniform(0.3, 0.7)
    foot = ground + (h - ground) * 0.55
    width, wall = w * 0.22, h * 0.12
    left, right, eaves = x - width / 2, x + width / 2, foot - wall
    wood = mix((120, 72, 40), palette.shapes[3], 0.3)
    canvas.draw.rectangle((left, eaves, right, foot), fill=wood)
    roof = WHITE if snowy else mix(palette.ink, STRIPE_RED, 0.35)
    chimney = (x + width * 0.22, eaves - h * 0.1)
    canvas.draw.rectangle(
        (chimney[0] - w * 0.015, chimney[1], chimney[0] + w * 0.015, eaves - h * 0.02),
        fill=mix(wood, palette.ink, 0.4),
    )
    canvas.draw.polygon(
        [(left - width * 0.08, eaves), (right + width * 0.08, eaves), (x, eaves - h * 0.1)],
        fill=roof,
    )
    glass = palette.accent if lit else mix(palette.sky_bottom, palette.ink, 0.3)
    for wx in (x - width * 0.25, x + width * 0.25):
        window = (wx - w * 0.025, eaves + wall * 0.25, wx + w * 0.025, eaves + wall * 0.6)
        if lit:
            draw_glow(canvas, (wx, (window[1] + window[3]) / 2), 0, w * 0.06, palette.accent, 120)
        canvas.draw.rectangle(window, fill=glass)
    canvas.draw.rectangle(
        (x - w * 0.02, foot - wall * 0.6, x + w * 0.02, foot), fill=mix(wood, palette.ink, 0.5)
    )
    for puff in range(5):
        r = w * (0.012 + 0.006 * puff)
        cx = chimney[0] + w * 0.02 * puff + canvas.uniform(-1, 1) * w * 0.006
        cy = chimney[1] - h * 0.035 * (puff + 0.5)
        canvas.draw.ellipse(
            (cx - r, cy - r, cx + r, cy + r),
            fill=rgba(mix(WHITE, palette.sky_bottom, 0.3), 110 - 18 * puff),
        )


def draw_boat(canvas: Canvas, horizon: float) -> None:
    """A sailboat on the water, with its sails mirrored faintly below it."""
    palette = canvas.palette
    w, h = canvas.width, canvas.height
    x = w * canvas.uniform(0.3, 0.7)
    waterline = horizon + (h - horizon) * canvas.uniform(0.25, 0.45)
    size = w * 0.16 * (0.6 + (waterline - horizon) / (h - horizon))
    hull = mix(palette.ink, palette.shapes[3], 0.3)
    canvas.draw.polygon(
        [
            (x - size * 0.5, waterline - size * 0.08),
            (x + size * 0.5, waterline - size * 0.08),
            (x + size * 0.38, waterline + size * 0.02),
            (x - size * 0.38, waterline + size * 0.02),
        ],
        fill=hull,
    )
    mast = x - size * 0.05
    sail = mix(WHITE, palette.sky_bottom, 0.15)
    main = [
        (mast, waterline - size * 0.95),
        (mast, waterline - size * 0.12),
        (x + size * 0.4, waterline - size * 0.12),
    ]
    jib = [
        (mast - size * 0.03, waterline - size * 0.85),
        (mast - size * 0.03, waterline - size * 0.12),
        (x - size * 0.42, waterline - size * 0.12),
    ]
    for shape in (main, jib):
        canvas.draw.polygon(shape, fill=sail)
        mirrored = [(px, 2 * waterline - py + size * 0.05) for px, py in shape]
        canvas.draw.polygon(mirrored, fill=rgba(sail, 50))
    canvas.draw.line(
        (mast, waterline - size, mast, waterline - size * 0.08),
        fill=hull,
        width=max(1, int(size / 60)),
    )


def draw_flowers(canvas: Canvas) -> None:
    """A scatter of small five-petal flowers along the bottom edge."""
    palette = canvas.palette
    w, h = canvas.width, canvas.height
    rng = canvas.child_rng()
    colours = (palette.accent, palette.shapes[0], mix(palette.shapes[0], WHITE, 0.5))
    stem = mix(palette.shapes[3], palette.ink, 0.3)
    for _ in range(28):
        x, y = rng.uniform(0, 1) * w, h * rng.uniform(0.8, 1.0)
        r = w * rng.uniform(0.008, 0.016) * (y / h)
        canvas.draw.line((x, y, x, y + r * 4), fill=stem, width=max(1, int(r / 4)))
        colour = colours[int(rng.integers(len(colours)))]
        for petal in range(5):
            angle = petal / 5 * 2 * math.pi
            px, py = x + math.cos(angle) * r, y + math.sin(angle) * r
            canvas.draw.ellipse(
                (px - r * 0.7, py - r * 0.7, px + r * 0.7, py + r * 0.7), fill=colour
            )
        canvas.draw.ellipse(
            (x - r * 0.45, y - r * 0.45, x + r * 0.45, y + r * 0.45), fill=(240, 200, 60)
        )
