from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from core.generation.records import GenerationContext, GenerationSpec, ProducedMedia
from core.modality import Modality
from core.services import Services

PASSWORD = "correct horse 42"


@pytest.fixture
def user_id(services: Services) -> uuid.UUID:
    return services.auth.register(f"{uuid.uuid4().hex[:8]}@example.com", PASSWORD, ip=None).id


def png(color: str = "teal", size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def image_spec(prompt: str = "a teal square", **params: object) -> GenerationSpec:
    return GenerationSpec(
        modality=Modality.IMAGE,
        provider="test-painter",
        model="flat",
        prompt=prompt,
        params={"prompt": prompt, "size": "64x48", "seed": 7, **params},
    )


def made_image(_context: GenerationContext) -> ProducedMedia:
    """A producer that always works: one flat PNG, as a provider would return it."""
    return ProducedMedia(
        data=png(),
        name="image/original.png",
        content_type="image/png",
        meta={"size": "64x48", "seed": 7},
        thumbnail=b"RIFF-webp-thumbnail",
    )
