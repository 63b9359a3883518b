"""The sketch draws what the prompt's nouns name: words to layers, then the pixels agree."""

from __future__ import annotations

import numpy as np
import pytest

from core.providers.image.sketch.composition import ABSTRACT_PATTERNS, Composition, compose
from core.providers.image.sketch.palette import words_of
from core.providers.image.sketch.portrait import HAIR_COLOURS, hair_colour
from tests.providers.image.test_sketch import draw, pixels


def composition(prompt: str, seed: int = 0) -> Composition:
    return compose(words_of(prompt), np.random.default_rng(seed))


@pytest.mark.parametrize(
    ("prompt", "sky", "layers", "subject", "weather"),
    [
        ("mountain lake at night", "night", {"mountains", "water"}, None, "clear"),
        ("mountain lake under the stars", "night", {"mountains", "water"}, None, "clear"),
        ("a lighthouse by the sea at sunset", "sunset", {"water"}, "lighthouse", "clear"),
        ("a city street in the rain, watercolor", "day", {"city", "street"}, None, "rain"),
        ("forest cabin in winter", "day", {"forest"}, "cabin", "snow"),
        ("a boat on the ocean", "day", {"water"}, "boat", "clear"),
        ("misty hills", "day", {"hills"}, None, "fog"),
        ("a spiral galaxy", "space", {"mountains"}, None, "clear"),
        ("portrait of a man by the sea", "day", {"water"}, "person", "clear"),
        ("flowers in a meadow", "day", {"hills"}, "flowers", "clear"),
    ],
)
def test_the_prompts_nouns_become_layers(
    prompt: str, sky: str, layers: set[str], subject: str | None, weather: str
) -> None:
    found = composition(prompt)
    assert (found.sky, set(found.layers), found.subject, found.weather) == (
        sky,
        layers,
        subject,
        weather,
    )
    assert found.abstract is None


@pytest.mark.parametrize(
    ("prompt", "subject"),
    [
        ("portrait of a woman with red hair", "person"),
        ("a girl", "person"),
        ("a black cat", "cat"),
        ("a golden retriever puppy", "dog"),
    ],
)
def test_people_and_pets_get_the_portrait_composition(prompt: str, subject: str) -> None:
    found = composition(prompt)
    assert found.is_portrait and found.subject == subject
    # Nothing else named: a studio backdrop instead of a landscape.
    assert not found.has_scene
    assert found.describe().startswith("studio backdrop")


def test_a_prompt_naming_nothing_drawable_gets_a_pattern_chosen_by_the_seed() -> None:
    patterns = {
        composition("an alpaca thinking about breakfast", seed).abstract for seed in range(20)
    }
    assert patterns <= set(ABSTRACT_PATTERNS) and len(patterns) > 1
    assert composition("a single red flower").abstract == "bloom"


def test_the_result_names_what_was_drawn() -> None:
    scene = draw("mountain lake at night").details["scene"]
    assert scene == "night sky + mountains + water"
    assert draw("forest cabin in winter").details["scene"] == "day sky + forest + cabin + snow"


def test_a_night_sky_is_dark_and_a_day_sky_is_light() -> None:
    for seed in range(3):
        night = pixels(draw("mountain lake at night", seed=seed))[:60].mean()
        day = pixels(draw("mountain lake at noon", seed=seed))[:60].mean()
        assert night < 60 < 120 < day, (seed, night, day)


def test_water_mirrors_the_land_above_it() -> None:
    """Rows just below the horizon look like the rows just above it, flipped."""
    image = pixels(draw("mountain lake at noon", width=256, height=256)).mean(axis=2)
    # The horizon is the row where the water's dark shore line is drawn (52-60 % down).
    band = image[128:160]
    horizon = 128 + int(np.argmin(band.mean(axis=1)))
    above, below = image[horizon - 24 : horizon - 2], image[horizon + 2 : horizon + 24][::-1]
    other = image[horizon - 24 : horizon - 2][:, ::-1]  # the same rows, mirrored sideways
    assert np.corrcoef(above.ravel(), below.ravel())[0, 1] > 0.5
    assert (
        np.corrcoef(above.ravel(), below.ravel())[0, 1]
        > np.corrcoef(above.ravel(), other.ravel())[0, 1]
    )


def test_hair_takes_the_colour_word_beside_it() -> None:
    rng = np.random.default_rng(0)
    assert hair_colour(words_of("a blonde woman in a red coat"), rng) == HAIR_COLOURS["blonde"]
    assert hair_colour(words_of("a woman in blue with red hair"), rng) == HAIR_COLOURS["red"]
    assert hair_colour(words_of("a black cat"), rng) == HAIR_COLOURS["black"]


def test_the_portraits_hair_is_drawn_in_the_prompts_colour() -> None:
    def crown(prompt: str) -> np.ndarray:
        # The top of the head: hair whatever the seed's small sideways shift.
        return pixels(draw(prompt, seed=3))[58:64, 120:136].reshape(-1, 3).mean(axis=0)

    red = crown("portrait of a woman with red hair")
    blonde = crown("portrait of a woman with blonde hair")
    assert red[0] - red[1] > 60, red
    assert blonde[1] > red[1] + 60, (red, blonde)


@pytest.mark.parametrize(
    "prompt",
    ["a cat", "a dog", "portrait of a woman", "a lighthouse", "a cabin", "a boat", "flowers"],
)
@pytest.mark.parametrize(("width", "height"), [(1536, 64), (64, 1536), (1536, 408)])
def test_every_subject_fits_a_very_wide_or_tall_picture(
    prompt: str, width: int, height: int
) -> None:
    # A head sized by the width once ran past the bottom of a wide picture and crashed.
    assert pixels(draw(prompt, width=width, height=height)).shape == (height, width, 3)
