"""Image sizes: the presets the studio offers and the free width/height each engine accepts."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InvalidInput

# The presets shown first in the studio; every engine accepts all of them.
ALLOWED_SIZES: tuple[tuple[int, int], ...] = ((256, 256), (512, 512), (768, 768), (1024, 1024))


@dataclass(frozen=True)
class SizeLimits:
    """The free width and height an engine accepts: a range, in steps of `multiple` pixels."""

    minimum: int = 64
    maximum: int = 1536
    multiple: int = 8

    def describe(self) -> str:
        return f"{self.minimum} to {self.maximum} pixels, in steps of {self.multiple}"


def parse_size(text: str) -> tuple[int, int]:
    """`"512x768"` → `(512, 768)`; raises `InvalidInput` for anything else."""
    width, sep, height = text.strip().lower().partition("x")
    if not sep or not width.strip().isdigit() or not height.strip().isdigit():
        raise InvalidInput(f"A size looks like 512x512 (width x height), not {text!r}.")
    return int(width), int(height)


def validate_size(width: int, height: int, limits: SizeLimits) -> None:
    """Raise `InvalidInput` with a plain message unless both sides fit `limits`."""
    for side, value in (("width", width), ("height", height)):
        if not limits.minimum <= value <= limits.maximum or value % limits.multiple:
            raise InvalidInput(
                f"The {side} must be {limits.describe()} (got {value}). "
                f"Try one of {', '.join(f'{w}x{h}' for w, h in ALLOWED_SIZES)}."
            )
