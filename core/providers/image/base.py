"""The image provider protocol: every image engine takes an `ImageRequest`, returns PNG bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from core.providers.image.sizes import SizeLimits


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    width: int
    height: int
    seed: int
    model: str
    style: str | None = None
    # PNG bytes of an optional reference image (an upload or the user's avatar).
    reference_png: bytes | None = None
    # The same reference as a URL the provider can fetch (Pollinations needs one); may be None.
    reference_url: str | None = None


@dataclass(frozen=True)
class ImageResult:
    png: bytes
    width: int
    height: int
    model: str
    # Provider-specific facts worth keeping in the record (steps, upstream content type, ...).
    details: dict[str, Any] = field(default_factory=dict)


class ImageProvider(Protocol):
    name: str
    label: str
    # False for engines that draw without a model (the offline sketch); the UI says so.
    is_ai: bool
    # The engine class of the workers that may run it ("cpu", or "gpu" for local diffusion).
    job_queue: str
    # The free width/height it accepts; check a request with `sizes.validate_size` first.
    size_limits: SizeLimits

    def close(self) -> None:
        """Release what the provider holds (connection pools); called once, when the services
        close."""
        ...

    def models(self) -> list[str]: ...

    def generate(self, request: ImageRequest) -> ImageResult:
        """Raise `core.errors.ProviderError` with a plain message on any failure.

        A request the engine cannot take as given (size outside `size_limits`, unknown style,
        unreadable reference image) raises `core.errors.InvalidInput` before any work starts.
        """
        ...
