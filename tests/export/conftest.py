"""Exports on both backends: generations made through the pipeline (any bytes as their media),
and the archive read back the way someone who downloads it would."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from collections.abc import Iterable

import pytest

from core.errors import ProviderError
from core.export import Exports
from core.generation.records import (
    GenerationContext,
    GenerationFailed,
    GenerationRecord,
    GenerationSpec,
    ProducedMedia,
)
from core.modality import Modality
from core.services import Services
from tests.ui.conftest import app_services

# The page tests' services (tests/ui), for the Gallery's AppTest here.
__all__ = ["app_services"]

PASSWORD = "correct horse 42"
_MEDIA = {
    Modality.IMAGE: ("image/original.png", "image/png"),
    Modality.SPEECH: ("audio/output.mp3", "audio/mpeg"),
}


@pytest.fixture
def exports(services: Services) -> Exports:
    """The services' exports, on the test's clock (tickets expire when the test says)."""
    return services.exports


def new_user(services: Services, name: str = "user") -> uuid.UUID:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    return services.auth.register(email, PASSWORD, ip=None).id


def make(
    services: Services,
    owner: uuid.UUID,
    prompt: str,
    *,
    modality: Modality = Modality.IMAGE,
    data: bytes = b"\x89PNG not really",
    seed: int = 7,
) -> GenerationRecord:
    """One kept generation whose media is `data`, through the pipeline like any other."""
    name, content_type = _MEDIA[modality]
    spec = GenerationSpec(
        modality=modality,
        provider="test-maker",
        model="m1",
        prompt=prompt,
        params={"prompt": prompt, "seed": seed, "size": "64x48"},
    )

    def produce(_context: GenerationContext) -> ProducedMedia:
        return ProducedMedia(data=data, name=name, content_type=content_type)

    return services.pipeline.run(owner, spec, produce)


def make_failed(services: Services, owner: uuid.UUID, prompt: str) -> GenerationRecord:
    spec = GenerationSpec(
        modality=Modality.IMAGE, provider="test-maker", model="m1", prompt=prompt, params={}
    )

    def refuse(_context: GenerationContext) -> ProducedMedia:
        raise ProviderError("The engine said no.")

    with pytest.raises(GenerationFailed) as failed:
        services.pipeline.run(owner, spec, refuse)
    return failed.value.record


def unzip(chunks: Iterable[bytes]) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None, "a member's CRC does not match"
    return archive


def index_rows(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))


def folder(record: GenerationRecord) -> str:
    return f"{record.modality}/{record.created_at:%Y-%m-%d}/{record.id}/"
