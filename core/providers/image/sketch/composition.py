"""What the sketch draws, read from the prompt's nouns: a sky, land layers, one subject, weather.

"mountain lake under the stars" is a night sky, mountains and water; "portrait of a woman with
red hair" is a head-and-shoulders figure; "forest cabin in winter" is a forest, a cabin and
snow. Only a prompt that names nothing drawable gets an abstract pattern, picked by the seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from core.providers.image.sketch.palette import vocabulary

Sky = Literal["day", "sunset", "night", "space"]
Weather = Literal["clear", "rain", "snow", "fog"]
Layer = Literal["mountains", "hills", "city", "street", "forest", "water"]
Subject = Literal["person", "cat", "dog", "lighthouse", "cabin", "boat", "flowers"]
Abstract = Literal["geometric", "orbs", "bloom"]

# Land from far to near; `LAYER_WORDS` is in this order too.
LAYER_WORDS: dict[Layer, frozenset[str]] = {
    "mountains": vocabulary(
        "mountain mountains peak peaks alps alpine volcano volcanoes cliff cliffs canyon ridge "
        "summit glacier valley highlands fjord"
    ),
    "hills": vocabulary(
        "hill hills field fields meadow meadows countryside farm farmland prairie valley "
        "landscape scenery desert dune dunes savanna plains grassland vineyard"
    ),
    "city": vocabulary(
        "city cities town skyline building buildings tower towers skyscraper skyscrapers "
        "downtown metropolis cyberpunk street streets"
    ),
    "street": vocabulary("street streets road avenue alley boulevard"),
    "forest": vocabulary(
        "forest forests tree trees woods woodland jungle pine pines park grove cabin"
    ),
    "water": vocabulary(
        "sea seas ocean oceans lake lakes beach water river rivers wave waves island harbor "
        "harbour bay coast shore seaside pond lagoon fjord lighthouse boat boats ship ships "
        "sailboat yacht"
    ),
}

# The first subject named wins; people and animals first (a portrait is about them).
SUBJECT_WORDS: dict[Subject, frozenset[str]] = {
    "person": vocabulary(
        "portrait person woman women man men girl boy lady gentleman child kid face selfie "
        "king queen prince princess wizard witch knight warrior sailor bride mother father "
        "grandmother grandfather"
    ),
    "cat": vocabulary("cat cats kitten kitty"),
    "dog": vocabulary("dog dogs puppy puppies hound retriever"),
    "lighthouse": vocabulary("lighthouse lighthouses beacon"),
    "cabin": vocabulary("cabin cottage house hut chalet farmhouse barn home"),
    "boat": vocabulary("boat boats ship ships sailboat yacht ferry"),
    "flowers": vocabulary(
        "flower flowers rose roses tulip tulips bloom blossom blossoms daisy daisies poppy "
        "poppies sunflower sunflowers petal petals mandala"
    ),
}

SKY_WORDS: dict[Sky, frozenset[str]] = {
    "space": vocabulary("space galaxy galaxies cosmos cosmic planet planets nebula astronaut"),
    "night": vocabulary(
        "night midnight moon moonlit moonlight stars starry starlit nocturnal neon cyberpunk "
        "synthwave vaporwave"
    ),
    "sunset": vocabulary("sunset sunsets sunrise dusk dawn twilight evening"),
}
# Words that ask for a sky without naming land: a low horizon of hills carries them.
OPEN_SKY_WORDS = vocabulary("sky skies cloud clouds sun moon stars starry sunset sunrise aurora")

WEATHER_WORDS: dict[Weather, frozenset[str]] = {
    "rain": vocabulary(
        "rain rainy raining rainstorm storm stormy drizzle downpour monsoon thunderstorm"
    ),
    "snow": vocabulary(
        "snow snowy snowing winter wintry blizzard frost frosty frozen icy snowfall christmas"
    ),
    "fog": vocabulary("fog foggy mist misty haze hazy overcast smoky"),
}

PORTRAITS: frozenset[Subject] = frozenset({"person", "cat", "dog"})
# The hue (degrees) a scene's land leans to when no colour word or reference sets one.
NATURAL_HUES: dict[Layer, float] = {
    "forest": 128,
    "hills": 95,
    "water": 205,
    "mountains": 220,
    "city": 225,
    "street": 225,
}
SNOW_HUE = 205.0
ABSTRACT_PATTERNS: tuple[Abstract, ...] = ("geometric", "orbs", "bloom")


@dataclass(frozen=True)
class Composition:
    sky: Sky
    weather: Weather
    # Land, far to near.
    layers: tuple[Layer, ...]
    subject: Subject | None = None
    # Set only when the prompt names nothing drawable: a pattern instead of a scene.
    abstract: Abstract | None = None

    @property
    def is_portrait(self) -> bool:
        return self.subject in PORTRAITS

    @property
    def has_scene(self) -> bool:
        """Whether there is land and sky to draw (a portrait may stand in a studio instead)."""
        return self.abstract is None and bool(self.layers)

    @property
    def natural_hue(self) -> float | None:
        if not self.has_scene:
            return None
        if self.weather == "snow":
            return SNOW_HUE
        # The nearest layer fills most of the picture, so it sets the colours.
        return NATURAL_HUES[self.layers[-1]]

    def describe(self) -> str:
        """A short name of what was drawn, for the result's details."""
        if self.abstract:
            return self.abstract
        parts = [f"{self.sky} sky"] if self.has_scene else ["studio backdrop"]
        parts += list(self.layers)
        if self.subject:
            parts.append("portrait" if self.subject == "person" else self.subject)
        if self.weather != "clear":
            parts.append(self.weather)
        return " + ".join(parts)


def compose(words: Sequence[str], rng: np.random.Generator) -> Composition:
    named = set(words)
    # Drawn every time so the rest of the picture does not shift with the prompt's nouns.
    fallback = ABSTRACT_PATTERNS[int(rng.integers(len(ABSTRACT_PATTERNS)))]
    sky: Sky = next((sky for sky, vocab in SKY_WORDS.items() if vocab & named), "day")
    weather: Weather = next((w for w, vocab in WEATHER_WORDS.items() if vocab & named), "clear")
    subject = next((s for s, vocab in SUBJECT_WORDS.items() if vocab & named), None)
    layers = tuple(layer for layer, vocab in LAYER_WORDS.items() if vocab & named)
    if not layers and (OPEN_SKY_WORDS & named or sky != "day" or weather != "clear"):
        layers = ("mountains",) if sky == "space" else ("hills",)
    if not layers and subject == "cabin":
        layers = ("hills",)
    if not layers and subject is None:
        return Composition(sky, weather, (), abstract=fallback)
    if not layers and subject == "flowers":
        return Composition(sky, weather, (), abstract="bloom")
    return Composition(sky, weather, layers, subject)
