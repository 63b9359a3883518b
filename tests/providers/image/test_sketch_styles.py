"""Each style renders the sketch visibly differently, and only the rendering changes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.providers.image.styles import STYLES
from tests.providers.image.test_sketch import draw, pixels

PROMPT = "a lighthouse by the sea at sunset"
# Rows above the corner label, which adds antialiased text in colours of its own.
ABOVE_LABEL = slice(0, 220)


def styled(style: str | None, prompt: str = PROMPT, seed: int = 3) -> np.ndarray:
    return pixels(draw(prompt, seed=seed, style=style))


def colours(image: np.ndarray) -> int:
    return len(np.unique(image[ABOVE_LABEL].reshape(-1, 3), axis=0))


@pytest.fixture(scope="module")
def every_style() -> dict[str | None, np.ndarray]:
    return {style: styled(style) for style in [None, *STYLES]}


def test_any_two_styles_differ_measurably(every_style: dict[str | None, np.ndarray]) -> None:
    # Pixel art keeps the average colours of the plain sketch; its blocks are tested below.
    pairs = [
        (a, b) for a, b in itertools.combinations(every_style, 2) if {a, b} != {None, "pixel-art"}
    ]
    too_close = {
        (a, b): round(float(np.abs(every_style[a] - every_style[b]).mean()), 1)
        for a, b in pairs
        if np.abs(every_style[a] - every_style[b]).mean() <= 6
    }
    assert not too_close


def test_the_style_changes_the_rendering_not_the_composition() -> None:
    plain, other_seed = styled(None, seed=1), styled(None, seed=2)
    for style in ("pixel-art", "photo", "3d-render"):
        same_seed = styled(style, seed=1)
        assert np.abs(same_seed - plain).mean() < np.abs(same_seed - other_seed).mean(), style
    assert draw(PROMPT, style="oil-painting").details["scene"] == draw(PROMPT).details["scene"]


@pytest.mark.parametrize("style", [None, *STYLES])
def test_every_style_is_deterministic(style: str | None) -> None:
    assert draw(PROMPT, style=style).png == draw(PROMPT, style=style).png


def test_pixel_art_is_big_pixels_in_few_colours(every_style: dict[str | None, np.ndarray]) -> None:
    image = every_style["pixel-art"][ABOVE_LABEL]
    assert colours(image) <= 16
    # At 256 px each pixel of the art is a 4x4 block of one colour.
    blocks = image[:216].reshape(54, 4, 64, 4, 3)
    assert (blocks == blocks[:, :1, :, :1]).all()


def test_line_art_is_two_tones(every_style: dict[str | None, np.ndarray]) -> None:
    image = every_style["line-art"]
    assert colours(image) == 2
    # Mostly paper, with lines and hatching in ink.
    grey = image[ABOVE_LABEL].mean(axis=2)
    assert 0.55 < (grey > 128).mean() < 0.97


def test_anime_is_flat_colours(every_style: dict[str | None, np.ndarray]) -> None:
    # Twelve cel colours and the outline; the plain sketch has gradients (hundreds).
    assert colours(every_style["anime"]) <= 13 < 100 < colours(every_style[None])


def test_cinematic_has_letterbox_bars(every_style: dict[str | None, np.ndarray]) -> None:
    image = every_style["cinematic"]
    # The bottom bar's left half: the corner label sits on its right.
    assert image[:26].max() == 0 and image[-26:, :128].max() == 0
    assert every_style[None][:26].max() > 0


def test_a_photo_has_grain_where_the_plain_sketch_is_smooth(
    every_style: dict[str | None, np.ndarray],
) -> None:
    def roughness(image: np.ndarray) -> float:
        return float(np.abs(np.diff(image[:40, :120].mean(axis=2), axis=1)).mean())

    assert roughness(every_style["photo"]) > roughness(every_style[None]) + 2


def test_watercolour_is_paler_than_the_plain_sketch(
    every_style: dict[str | None, np.ndarray],
) -> None:
    def saturation(image: np.ndarray) -> float:
        return float((image.max(axis=2) - image.min(axis=2)).mean())

    assert saturation(every_style["watercolor"]) < saturation(every_style[None]) - 10


def test_a_style_named_in_the_prompt_is_drawn_when_none_is_chosen() -> None:
    prompt = "a city street in the rain, watercolor"
    named = draw(prompt)
    assert named.details["style_treatment"] == "wash"
    assert named.png == draw(prompt, style="watercolor").png
    # A chosen style wins over the prompt's word.
    assert draw(prompt, style="pixel-art").details["style_treatment"] == "pixels"
