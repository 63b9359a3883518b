"""Head-and-shoulders figures: a person (face oval, hair), a cat or a dog. No facial features:
a simple, tasteful silhouette that reads as a portrait without pretending to be a likeness.

Hair (or fur) takes the colour word next to "hair"/"fur" ("a woman with red hair"), else the
first such word in the prompt, else a natural one by the seed.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from core.providers.image.sketch.canvas import Box, Canvas, rgba
from core.providers.image.sketch.composition import Subject
from core.providers.image.sketch.palette import RGB, mix, vocabulary

HAIR_COLOURS: dict[str, RGB] = {
    "red": (150, 52, 28), "ginger": (176, 84, 38), "auburn": (120, 45, 30),
    "copper": (160, 80, 40), "orange": (196, 110, 40), "blonde": (222, 186, 112),
    "blond": (222, 186, 112), "golden": (214, 170, 80), "brown": (96, 62, 38),
    "brunette": (80, 50, 32), "chestnut": (110, 58, 34), "black": (28, 24, 26),
    "dark": (40, 32, 30), "grey": (160, 160, 166), "gray": (160, 160, 166),
    "silver": (190, 192, 200), "white": (232, 230, 226), "pink": (226, 128, 170),
    "blue": (70, 110, 200), "green": (70, 150, 100), "purple": (120, 70, 160),
}  # fmt: skip
NATURAL_HAIR = ("black", "brown", "brunette", "blonde", "auburn", "dark")
FUR_WORDS = vocabulary("hair haired fur furred")
LONG_HAIR = vocabulary("woman women girl lady queen princess bride mother grandmother witch long")
SHORT_HAIR = vocabulary("man men boy gentleman king prince father grandfather knight short")
SKIN_TONES: tuple[RGB, ...] = (
    (244, 208, 180), (230, 188, 152), (206, 156, 118), (176, 122, 88), (136, 92, 64), (98, 66, 48),
)  # fmt: skip


def hair_colour(words: Sequence[str], rng: np.random.Generator) -> RGB:
    natural = NATURAL_HAIR[int(rng.integers(len(NATURAL_HAIR)))]
    for before, word in itertools.pairwise(words):
        if word in FUR_WORDS and before in HAIR_COLOURS:
            return HAIR_COLOURS[before]
    return HAIR_COLOURS[next((w for w in words if w in HAIR_COLOURS), natural)]


def paint_backdrop(canvas: Canvas) -> None:
    """A studio backdrop: light behind the head, falling off to the edges."""
    palette = canvas.palette
    small = (64, 64)
    ys, xs = np.ogrid[-1 : 1 : complex(0, small[1]), -1 : 1 : complex(0, small[0])]
    light = np.clip(1 - np.hypot(xs, (ys + 0.3) * 0.9) / 1.5, 0, 1)[..., None]
    centre = np.array(mix(palette.sky_bottom, palette.paper, 0.3), np.float32)
    edge = np.array(mix(palette.sky_top, palette.ink, 0.3), np.float32)
    pixels = (edge + (centre - edge) * light).astype(np.uint8)
    canvas.image.paste(Image.fromarray(pixels).resize(canvas.image.size, Image.Resampling.BILINEAR))


def draw_figure(canvas: Canvas, subject: Subject, words: Sequence[str]) -> None:
    if subject == "person":
        _person(canvas, words)
    else:
        _animal(canvas, subject, words)


def _person(canvas: Canvas, words: Sequence[str]) -> None:
    palette = canvas.palette
    w, h = canvas.width, canvas.height
    named = set(words)
    long_hair = bool(LONG_HAIR & named) or (not SHORT_HAIR & named and canvas.rng.random() < 0.5)
    hair = hair_colour(words, canvas.rng)
    skin = SKIN_TONES[int(canvas.rng.integers(len(SKIN_TONES)))]
    clothes = mix(palette.shapes[2], palette.ink, 0.2)
    x = w * (0.5 + canvas.uniform(-0.04, 0.04))
    head_w, head_h = w * 0.15, h * 0.19
    head_top = h * 0.22
    head: Box = (x - head_w, head_top, x + head_w, head_top + 2 * head_h)
    chin = head[3]
    if long_hair:
        canvas.draw.rounded_rectangle(
            (x - head_w * 1.28, head_top - h * 0.02, x + head_w * 1.28, chin + h * 0.16),
            radius=head_w,
            fill=mix(hair, palette.ink, 0.2),
        )
    # The shoulders: a wide rounded shape rising from the bottom edge.
    canvas.draw.ellipse((x - w * 0.42, chin + h * 0.06, x + w * 0.42, h + h * 0.45), fill=clothes)
    neck = mix(skin, palette.ink, 0.18)
    canvas.draw.rectangle(
        (x - head_w * 0.4, chin - h * 0.05, x + head_w * 0.4, chin + h * 0.1), fill=neck
    )
    canvas.draw.ellipse(
        (x - head_w * 0.48, chin + h * 0.06, x + head_w * 0.48, chin + h * 0.13), fill=neck
    )
    canvas.draw.ellipse(head, fill=skin)
    # Light from one side: a soft shadow on the other half of the face.
    canvas.draw.chord(head, 300, 60, fill=rgba(palette.ink, 28))
    _hair_cap(canvas, head, hair, 0.75 if long_hair else 0.5)
    if long_hair:
        for side in (-1, 1):
            canvas.draw.ellipse(
                (x + side * head_w * 0.95 - head_w * 0.3, head_top + head_h * 0.3,
                 x + side * head_w * 0.95 + head_w * 0.3, chin + h * 0.12),
                fill=hair,
            )  # fmt: skip


def _hair_cap(canvas: Canvas, head: Box, colour: RGB, reach: float) -> None:
    """Hair over the top of the head down to `reach` (share of the head's height): the head
    grown a little, minus the face below a curved hairline."""
    left, top, right, bottom = head
    width, height = right - left, bottom - top
    pad = width * 0.06
    mask = Image.new("L", (int(width + 2 * pad) + 1, int(height * reach + pad) + 1))
    shape = ImageDraw.Draw(mask)
    shape.ellipse((0, 0, width + 2 * pad, height + 2 * pad), fill=255)
    face = (pad + width * 0.1, pad + height * 0.17, pad + width * 0.9, pad + height * 1.35)
    shape.ellipse(face, fill=0)
    canvas.image.paste(colour, (int(left - pad), int(top - pad)), mask)


def _animal(canvas: Canvas, subject: Subject, words: Sequence[str]) -> None:
    """A cat (pointed ears) or a dog (hanging ears, a muzzle), head and chest."""
    palette = canvas.palette
    w, h = canvas.width, canvas.height
    fur = hair_colour(words, canvas.rng)
    light = mix(fur, (255, 255, 255), 0.35)
    # Sized by the shorter side, so that a wide or tall canvas keeps the head inside the chest.
    side_length = min(w, h)
    x, head_y = w * 0.5, h * 0.42
    head_r = side_length * 0.17
    chest = (x - side_length * 0.3, head_y + head_r * 0.5, x + side_length * 0.3, h * 1.3)
    canvas.draw.ellipse(chest, fill=fur)
    bib = (x - side_length * 0.14, head_y + head_r, x + side_length * 0.14, h * 1.05)
    canvas.draw.ellipse(bib, fill=light)
    if subject == "cat":
        for side in (-1, 1):
            canvas.draw.polygon(
                [(x + side * head_r * 0.95, head_y - head_r * 0.2),
                 (x + side * head_r * 0.25, head_y - head_r * 0.8),
                 (x + side * head_r * 0.85, head_y - head_r * 1.45)],
                fill=fur,
            )  # fmt: skip
    canvas.draw.ellipse(
        (x - head_r, head_y - head_r * 0.95, x + head_r, head_y + head_r * 0.95), fill=fur
    )
    eye = mix(palette.accent, (90, 160, 60), 0.4) if subject == "cat" else (35, 25, 20)
    for side in (-1, 1):
        ex, ey, r = x + side * head_r * 0.4, head_y - head_r * 0.1, head_r * 0.11
        canvas.draw.ellipse((ex - r, ey - r, ex + r, ey + r), fill=eye)
    if subject == "dog":
        canvas.draw.ellipse(
            (x - head_r * 0.45, head_y + head_r * 0.1, x + head_r * 0.45, head_y + head_r * 0.85),
            fill=light,
        )
        for side in (-1, 1):
            canvas.draw.ellipse(
                (x + side * head_r * 0.95 - head_r * 0.3, head_y - head_r * 0.8,
                 x + side * head_r * 0.95 + head_r * 0.3, head_y + head_r * 0.6),
                fill=mix(fur, palette.ink, 0.35),
            )  # fmt: skip
    nose = head_r * 0.1
    canvas.draw.ellipse(
        (x - nose, head_y + head_r * 0.25, x + nose, head_y + head_r * 0.25 + nose * 1.4),
        fill=(40, 28, 28),
    )
