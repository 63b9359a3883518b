from __future__ import annotations

import colorsys

import numpy as np
import pytest

from core.errors import InvalidInput
from core.providers.image.base import ImageRequest, ImageResult
from core.providers.image.sketch.engine import MODEL, SketchProvider
from tests.providers.image.images import decode, jpeg_bytes, png_bytes

sketch = SketchProvider()


def draw(prompt: str = "a quiet harbour", **changes: object) -> ImageResult:
    values: dict[str, object] = {
        "prompt": prompt,
        "width": 256,
        "height": 256,
        "seed": 7,
        "model": MODEL,
    }
    return sketch.generate(ImageRequest(**(values | changes)))  # type: ignore[arg-type]


def pixels(result: ImageResult) -> np.ndarray:
    return np.asarray(decode(result.png).convert("RGB"), dtype=np.float32)


def test_same_request_gives_byte_identical_png() -> None:
    assert draw().png == draw().png


def test_another_seed_gives_another_picture() -> None:
    first, second = pixels(draw(seed=1)), pixels(draw(seed=2))
    assert np.abs(first - second).mean() > 5


@pytest.mark.parametrize("size", [(64, 64), (256, 256), (640, 384), (1024, 1024)])
def test_the_png_has_the_requested_size(size: tuple[int, int]) -> None:
    result = draw(width=size[0], height=size[1])
    assert decode(result.png).size == size
    assert (result.width, result.height) == size


def test_it_says_it_is_not_ai() -> None:
    result = draw()
    assert sketch.is_ai is False
    assert result.details["ai"] is False
    assert "not an AI image" in result.details["note"]
    assert result.model == MODEL


def test_the_corner_label_is_drawn() -> None:
    # The label darkens the bottom-right corner and puts light text on it.
    image = pixels(draw(width=512, height=512))
    corner = image[-24:-8, -150:-8]
    assert corner.max() > 200
    assert corner.min() < image[:24, :150].min() or corner.std() > image[:24, :150].std()


def test_it_is_a_picture_not_noise() -> None:
    for seed in range(6):
        image = pixels(draw(seed=seed, width=256, height=256)).mean(axis=2)
        neighbour_step = np.abs(np.diff(image, axis=1)).mean()
        assert image.std() > 10, f"seed {seed}: nearly one flat colour"
        assert neighbour_step < 6, f"seed {seed}: looks like noise"


def test_colour_words_set_the_colours() -> None:
    for seed in range(3):
        red = pixels(draw("red poppies", seed=seed)).reshape(-1, 3).mean(axis=0)
        blue = pixels(draw("blue poppies", seed=seed)).reshape(-1, 3).mean(axis=0)
        assert red[0] - red[2] > blue[0] - blue[2] + 20


@pytest.mark.parametrize(
    ("prompt", "scene"),
    [
        ("snowy mountains", "day sky + mountains + snow"),
        ("a boat on the ocean", "day sky + water + boat"),
        ("a city at dusk", "sunset sky + city"),
        ("a pine forest", "day sky + forest"),
        ("a spiral galaxy", "space sky + mountains"),
        ("a single flower", "bloom"),
        ("a portrait", "studio backdrop + portrait"),
    ],
)
def test_scene_words_choose_the_composition(prompt: str, scene: str) -> None:
    assert draw(prompt).details["scene"] == scene


def test_a_small_and_a_large_sketch_show_the_same_scene() -> None:
    small = pixels(draw("misty mountains", width=256, height=256))
    large = decode(draw("misty mountains", width=512, height=512).png).resize((256, 256))
    # Compare the top half: the label differs in size between the two.
    top = np.asarray(large.convert("RGB"), dtype=np.float32)[:128]
    assert np.abs(top - small[:128]).mean() < 6


@pytest.mark.parametrize("style", ["photo", "watercolor", "line-art", "pixel-art"])
def test_a_style_changes_the_picture_deterministically(style: str) -> None:
    plain = pixels(draw("misty mountains"))
    styled = draw("misty mountains", style=style)
    assert np.abs(pixels(styled) - plain).mean() > 2
    assert styled.png == draw("misty mountains", style=style).png


def test_line_art_is_ink_on_paper() -> None:
    image = pixels(draw("misty mountains", style="line-art")).mean(axis=2)
    # Mostly light paper, with a few dark lines.
    assert np.median(image) > 180
    assert (image < 90).mean() > 0.005


def test_a_reference_image_gives_its_colours_and_shows_through() -> None:
    green = png_bytes((300, 200), (30, 170, 60))
    with_reference = draw("abstract", reference_png=green)
    assert with_reference.png == draw("abstract", reference_png=green).png
    assert with_reference.details["reference"] != "none"
    hues = [
        colorsys.rgb_to_hsv(*(int(code[i : i + 2], 16) / 255 for i in (1, 3, 5)))[0] * 360
        for code in with_reference.details["palette"]
    ]
    assert any(90 <= hue <= 160 for hue in hues), hues
    without = draw("abstract")
    assert with_reference.details["scene"] == without.details["scene"]
    assert np.abs(pixels(with_reference) - pixels(without)).mean() > 5


def test_a_jpeg_reference_is_accepted() -> None:
    assert draw(reference_png=jpeg_bytes()).details["reference"] != "none"


def test_an_unreadable_reference_is_refused() -> None:
    with pytest.raises(InvalidInput, match="reference image cannot be used"):
        draw(reference_png=b"not an image")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prompt": "   "}, "prompt is empty"),
        ({"width": 2048}, "width must be 64 to 1536"),
        ({"height": 100}, "height must be"),
        ({"style": "cubist"}, "Unknown style"),
        ({"model": "flux"}, "one model, sketch-v2"),
    ],
)
def test_requests_it_cannot_draw_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        draw(**changes)


def test_a_grey_reference_leaves_the_colours_to_the_prompt() -> None:
    grey = png_bytes((64, 64), (128, 128, 128))
    with_grey = draw("red poppies", reference_png=grey)
    assert with_grey.details["palette"] == draw("red poppies").details["palette"]
