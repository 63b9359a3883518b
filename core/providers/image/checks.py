"""Checks every image engine runs on a request before doing any work."""

from __future__ import annotations

from PIL import Image

from core.errors import InvalidInput
from core.providers.image.base import ImageRequest
from core.providers.image.decoding import UnreadableImage, decode_image
from core.providers.image.sizes import SizeLimits, validate_size
from core.providers.image.styles import Style, find_style

MAX_PROMPT_CHARS = 2000


def check_request(request: ImageRequest, limits: SizeLimits) -> Style | None:
    """Raise `InvalidInput` for a request no engine should start on; return its style."""
    if not request.prompt.strip():
        raise InvalidInput("Describe the image you want: the prompt is empty.")
    if len(request.prompt) > MAX_PROMPT_CHARS:
        raise InvalidInput(
            f"The prompt is too long: {len(request.prompt):,} characters, and the limit is "
            f"{MAX_PROMPT_CHARS:,}. Shorten it."
        )
    validate_size(request.width, request.height, limits)
    return find_style(request.style)


def decode_reference(data: bytes) -> Image.Image:
    """The reference image as RGB; raise `InvalidInput` if the upload cannot be used."""
    try:
        return decode_image(data).convert("RGB")
    except UnreadableImage as error:
        raise InvalidInput(f"The reference image cannot be used: {error}.") from None
