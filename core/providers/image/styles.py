"""Styles: one table shared by every image engine.

An AI engine receives the style folded into its prompt in one way only, `styled_prompt`:
the prompt, a comma, then the style's suffix. The offline sketch draws the style instead
(its `treatment`), so the same choice means something in every engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.errors import InvalidInput

# How the offline sketch renders a style; "plain" draws shapes as they are. Each style has its
# own, so that choosing one changes the sketch visibly.
Treatment = Literal["plain", "film", "cinema", "cel", "wash", "oil", "ink", "pixels", "clay"]


@dataclass(frozen=True)
class Style:
    name: str
    label: str
    prompt_suffix: str
    treatment: Treatment


STYLES: dict[str, Style] = {
    style.name: style
    for style in (
        Style("photo", "Photograph", "photorealistic, natural light, 35mm photo", "film"),
        Style("cinematic", "Cinematic", "cinematic still, dramatic lighting, wide angle", "cinema"),
        Style("anime", "Anime", "anime illustration, clean line art, vivid colours", "cel"),
        Style("watercolor", "Watercolour", "watercolour painting, soft washes, paper", "wash"),
        Style("oil-painting", "Oil painting", "oil painting, visible brush strokes", "oil"),
        Style("line-art", "Line art", "black ink line art, white background", "ink"),
        Style("pixel-art", "Pixel art", "pixel art, 16-bit, limited palette", "pixels"),
        Style("3d-render", "3D render", "3d render, soft global illumination", "clay"),
    )
}


def find_style(name: str | None) -> Style | None:
    """The style called `name`; None or "" means no style. Raises `InvalidInput` if unknown."""
    if not name:
        return None
    style = STYLES.get(name)
    if style is None:
        raise InvalidInput(f"Unknown style {name!r}. Choose one of: {', '.join(STYLES)}.")
    return style


def styled_prompt(prompt: str, style: str | None) -> str:
    """The prompt an AI engine receives: the user's words, then the style's suffix."""
    found = find_style(style)
    text = prompt.strip()
    return f"{text}, {found.prompt_suffix}" if found else text
