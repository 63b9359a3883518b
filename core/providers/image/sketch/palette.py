"""Colours for the offline sketch, chosen by the prompt's words and varied by the seed.

Colour words ("teal", "sunset", "gold") set the hues directly; a prompt without any still gets a
hue family of its own from a hash of its words, so the same prompt keeps its colours when only
the seed changes. Mood words (night, pastel, neon, warm) set lightness and saturation.
"""

from __future__ import annotations

import colorsys
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
from PIL import Image

RGB = tuple[int, int, int]


def vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


HUE_WORDS: dict[str, float] = {
    "red": 0, "ruby": 355, "crimson": 350, "cherry": 350, "rose": 345, "pink": 330,
    "magenta": 305, "purple": 282, "violet": 272, "lavender": 262, "indigo": 245, "navy": 228,
    "sapphire": 224, "blue": 218, "sky": 205, "ocean": 205, "sea": 200, "ice": 195,
    "cyan": 186, "teal": 174, "turquoise": 168, "mint": 152, "emerald": 142, "forest": 135,
    "green": 125, "jungle": 118, "lime": 90, "olive": 70, "lemon": 56, "yellow": 52,
    "gold": 45, "golden": 45, "amber": 40, "sand": 38, "desert": 34, "orange": 28,
    "autumn": 25, "copper": 22, "coral": 12, "rust": 15, "fire": 10, "lava": 6, "sunset": 18,
}  # fmt: skip


class Mood(Enum):
    PLAIN = "plain"
    NIGHT = "night"
    PASTEL = "pastel"
    NEON = "neon"
    WARM = "warm"


MOOD_WORDS: dict[Mood, frozenset[str]] = {
    Mood.NIGHT: vocabulary(
        "night midnight dark moon moonlit stars starry space galaxy cosmos nebula"
    ),
    Mood.NEON: vocabulary("neon cyberpunk synthwave vaporwave electric glowing rave"),
    Mood.PASTEL: vocabulary("pastel soft dreamy gentle misty fog foggy cloudy spring"),
    Mood.WARM: vocabulary("sunset sunrise dusk dawn warm summer fire autumn golden"),
}


@dataclass(frozen=True)
class Palette:
    sky_top: RGB
    sky_bottom: RGB
    # The sun, the moon, lit windows, a flower's heart: the one bright spot.
    accent: RGB
    # Fills for shapes, lightest to darkest.
    shapes: tuple[RGB, ...]
    # The darkest colour (near silhouettes, lines) and the lightest (paper, highlights).
    ink: RGB
    paper: RGB
    mood: Mood

    def hex_codes(self) -> list[str]:
        return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in (self.accent, *self.shapes)]


def words_of(prompt: str) -> list[str]:
    return ["".join(ch for ch in word if ch.isalnum()) for word in prompt.lower().split()]


def mood_of(words: Sequence[str]) -> Mood:
    for mood, mood_words in MOOD_WORDS.items():
        if mood_words.intersection(words):
            return mood
    return Mood.PLAIN


def hls(hue: float, lightness: float, saturation: float) -> RGB:
    r, g, b = colorsys.hls_to_rgb((hue % 360) / 360, lightness, saturation)
    return round(r * 255), round(g * 255), round(b * 255)


def _prompt_hue(words: Sequence[str]) -> float:
    digest = hashlib.sha256(" ".join(w for w in words if w).encode()).digest()
    return int.from_bytes(digest[:2], "big") / 65536 * 360


SCHEMES = (
    (0, 28, -28),  # analogous
    (0, 180, 24),  # complementary
    (0, 150, 210),  # split complementary
    (0, 120, 240),  # triadic
)
# The hue of a clear sky; a scene's sky keeps near it whatever colours the land takes.
SKY_HUE = 214.0


def reference_hues(reference: Image.Image, count: int = 3) -> list[float]:
    """The hues (degrees) of the reference's most common colourful colours, most common first."""
    thumbnail = reference.convert("RGB").resize((64, 64), Image.Resampling.BOX)
    quantized = thumbnail.quantize(colors=8, method=Image.Quantize.MEDIANCUT)
    colour_table = quantized.getpalette() or []
    hues: list[float] = []
    counted = sorted(quantized.getcolors() or [], reverse=True)
    # A "P" image counts palette indexes (ints); the isinstance only narrows the type.
    for index in (index for _, index in counted if isinstance(index, int)):
        red, green, blue = (c / 255 for c in colour_table[index * 3 : index * 3 + 3])
        hue, saturation, value = colorsys.rgb_to_hsv(red, green, blue)
        # Greys and near-blacks have no hue worth keeping.
        if saturation > 0.18 and value > 0.18:
            hues.append(hue * 360)
    return hues[:count]


def build_palette(
    words: Sequence[str],
    rng: np.random.Generator,
    reference_hues: Sequence[float] = (),
    natural_hue: float | None = None,
) -> Palette:
    """Hues come from the reference image if given, else colour words, else `natural_hue` (a
    scene's land: forest green, sea blue), else the prompt's hash. A scene (`natural_hue` set)
    keeps its hues close together and its sky sky-coloured; a pattern may take any scheme."""
    mood = mood_of(words)
    named = list(reference_hues) or [HUE_WORDS[w] for w in words if w in HUE_WORDS]
    # Both draws happen whatever the hues' source, so the rest of the picture (scene, shapes)
    # comes out the same with or without a reference.
    jitter = float(rng.uniform(-12, 12))
    scheme = SCHEMES[int(rng.integers(len(SCHEMES)))]
    scene = natural_hue is not None
    if named:
        base = named[0]
    else:
        base = (natural_hue if natural_hue is not None else _prompt_hue(words)) + jitter
    offsets = SCHEMES[0] if scene else scheme
    hues = (named + [base + offset for offset in offsets][len(named) :])[:3]
    a, b, c = hues
    # A pattern's sky takes its own hues; a scene's sky stays a sky.
    top, bottom = (SKY_HUE + jitter / 2, SKY_HUE - 8) if scene else (a, c)

    # (lightness, saturation) of the shapes, lightest first, per mood.
    shape_tones = {
        Mood.PLAIN: [(0.72, 0.45), (0.58, 0.55), (0.45, 0.6), (0.32, 0.5)],
        Mood.NIGHT: [(0.45, 0.35), (0.32, 0.4), (0.22, 0.4), (0.12, 0.35)],
        Mood.PASTEL: [(0.86, 0.5), (0.78, 0.45), (0.7, 0.4), (0.6, 0.35)],
        Mood.NEON: [(0.6, 1.0), (0.5, 1.0), (0.3, 0.8), (0.14, 0.7)],
        Mood.WARM: [(0.68, 0.75), (0.55, 0.7), (0.4, 0.6), (0.24, 0.5)],
    }[mood]
    shapes = tuple(
        hls(h, light, sat) for h, (light, sat) in zip((b, a, c, a), shape_tones, strict=True)
    )

    if mood is Mood.NIGHT:
        sky = (hls(top, 0.07, 0.5), hls(bottom, 0.24, 0.45))
        accent = hls(b, 0.9, 0.35)
    elif mood is Mood.NEON:
        sky = (hls(a, 0.1, 0.8), hls(b, 0.42, 0.95))
        accent = hls(b + 180, 0.62, 1.0)
    elif mood is Mood.WARM:
        sky = (hls(top + 45 if scene else a + 250, 0.38, 0.45), hls(32, 0.72, 0.9))
        accent = hls(44, 0.72, 1.0)
    elif mood is Mood.PASTEL:
        sky = (hls(top, 0.82, 0.55), hls(bottom, 0.93, 0.6))
        accent = hls(b, 0.95, 0.7)
    else:
        sky = (hls(top, 0.5, 0.45), hls(bottom, 0.86, 0.5))
        # A scene's sun is sunlight; a pattern's bright spot contrasts with its colours.
        accent = hls(46, 0.84, 0.95) if scene else hls(b + 180, 0.8, 0.85)
    return Palette(
        sky_top=sky[0],
        sky_bottom=sky[1],
        accent=accent,
        shapes=shapes,
        ink=hls(a, 0.1, 0.3),
        paper=hls(c, 0.95, 0.3),
        mood=mood,
    )


def mix(first: RGB, second: RGB, amount: float) -> RGB:
    """`first` moved `amount` (0..1) of the way to `second`."""
    r, g, b = (round(x + (y - x) * amount) for x, y in zip(first, second, strict=True))
    return r, g, b
