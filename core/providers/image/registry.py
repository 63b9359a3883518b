"""The image engines these settings offer, by name, and the one to preselect.

- `sketch` (offline, not AI) is always offered and is the default unless
  IMAGE_DEFAULT_PROVIDER names another engine that is offered;
- `pollinations` unless IMAGE_POLLINATIONS_ENABLED is false;
- `diffusers` only when IMAGE_DIFFUSERS_MODEL_PATH is a pipeline folder and torch and diffusers
  import (requirements-diffusers.txt); its weights load on the first generation, not here.

Build the providers once per process (the Pollinations one holds a connection pool). Sizes
live in `sizes.py`: `ALLOWED_SIZES`, and `validate_size(w, h, provider.size_limits)`.
"""

from __future__ import annotations

import logging

from core.config import Settings
from core.providers.image.base import ImageProvider
from core.providers.image.diffusion.engine import DiffusersProvider
from core.providers.image.diffusion.pipeline import (
    DiffusionOptions,
    libraries_available,
    missing_pipeline_reason,
)
from core.providers.image.pollinations import PollinationsOptions, PollinationsProvider
from core.providers.image.sketch.engine import SketchProvider

log = logging.getLogger(__name__)

OFFLINE_DEFAULT = SketchProvider.name


def _diffusers_usable(settings: Settings) -> bool:
    if not settings.image_diffusers_model_path:
        return False
    problem = missing_pipeline_reason(settings.image_diffusers_model_path)
    if problem:
        log.warning("local diffusion not offered", extra={"reason": problem})
        return False
    return libraries_available()


def offered_image_provider_names(settings: Settings) -> list[str]:
    """The engines these settings offer, without building them."""
    names = [SketchProvider.name]
    if settings.image_pollinations_enabled:
        names.append(PollinationsProvider.name)
    if _diffusers_usable(settings):
        names.append(DiffusersProvider.name)
    return names


def build_image_providers(settings: Settings) -> dict[str, ImageProvider]:
    offered = offered_image_provider_names(settings)
    providers: list[ImageProvider] = [SketchProvider()]
    if PollinationsProvider.name in offered:
        providers.append(PollinationsProvider(PollinationsOptions.from_settings(settings)))
    if DiffusersProvider.name in offered:
        providers.append(DiffusersProvider(DiffusionOptions.from_settings(settings)))
    return {provider.name: provider for provider in providers}


def default_image_provider(settings: Settings) -> str:
    wanted = settings.image_default_provider or OFFLINE_DEFAULT
    if wanted in offered_image_provider_names(settings):
        return wanted
    log.warning(
        "default image engine not offered, using the offline sketch",
        extra={"wanted": wanted},
    )
    return OFFLINE_DEFAULT
