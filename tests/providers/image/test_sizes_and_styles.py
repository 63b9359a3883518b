from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.providers.image.diffusion.engine import DiffusersProvider
from core.providers.image.pollinations import PollinationsProvider
from core.providers.image.sizes import ALLOWED_SIZES, SizeLimits, parse_size, validate_size
from core.providers.image.sketch.engine import SketchProvider
from core.providers.image.styles import STYLES, styled_prompt


@pytest.mark.parametrize(
    "limits",
    [SketchProvider.size_limits, PollinationsProvider.size_limits, DiffusersProvider.size_limits],
)
def test_every_engine_accepts_every_preset_size(limits: SizeLimits) -> None:
    for width, height in ALLOWED_SIZES:
        validate_size(width, height, limits)


@pytest.mark.parametrize(
    ("width", "height", "side", "value"),
    [(63, 512, "width", 63), (512, 1544, "height", 1544), (516, 512, "width", 516)],
)
def test_sizes_outside_the_limits_are_refused_in_plain_words(
    width: int, height: int, side: str, value: int
) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_size(width, height, SizeLimits(minimum=64, maximum=1536, multiple=8))
    message = str(caught.value)
    assert f"The {side} must be 64 to 1536 pixels, in steps of 8 (got {value})" in message
    assert "512x512" in message


def test_parse_size_reads_width_x_height() -> None:
    assert parse_size("768x512") == (768, 512)
    assert parse_size(" 256 X 256 ") == (256, 256)
    with pytest.raises(InvalidInput, match="looks like 512x512"):
        parse_size("big")


def test_a_style_is_folded_into_the_prompt_as_a_suffix() -> None:
    assert styled_prompt("  a red fox ", None) == "a red fox"
    assert styled_prompt("a red fox", "") == "a red fox"
    assert styled_prompt("a red fox", "watercolor") == (
        "a red fox, " + STYLES["watercolor"].prompt_suffix
    )


def test_an_unknown_style_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as caught:
        styled_prompt("a red fox", "cubist")
    assert "'cubist'" in str(caught.value)
    assert "watercolor" in str(caught.value)
