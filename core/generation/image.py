"""Image Studio: a prompt and its settings to a PNG through an image provider and the pipeline."""

from __future__ import annotations

import io
import secrets
import uuid
from dataclasses import dataclass, replace
from typing import Literal

from PIL import Image

from core.avatars import Avatars
from core.errors import InvalidInput
from core.generation.pipeline import Attempt, GenerationPipeline
from core.generation.records import (
    GenerationContext,
    GenerationRecord,
    GenerationSpec,
    ProducedMedia,
    Progress,
    Source,
)
from core.modality import Modality
from core.providers.image.base import ImageProvider, ImageRequest
from core.providers.image.checks import check_request, decode_reference
from core.providers.image.decoding import decode_image, encode_png
from core.providers.lookup import find_provider, require_model
from storage.objects import ObjectStore

THUMBNAIL_SIDE = 384
# References are shrunk before use: engines work at most at this size anyway.
REFERENCE_SIDE = 1024
MAX_SEED = 2**31 - 1

ReferenceSource = Literal["upload", "avatar"]
# Seed 004's subject illustration: what is drawn from a photo of the person.
SUBJECT_PORTRAIT_PROMPT = (
    "A professional portrait illustration of the person in the reference photo, head and "
    "shoulders, soft studio light, clean background"
)


def subject_prompt(details: str | None) -> str:
    """The portrait prompt, with the caller's own words after it when they gave some."""
    extra = (details or "").strip()
    return f"{SUBJECT_PORTRAIT_PROMPT}, {extra}" if extra else SUBJECT_PORTRAIT_PROMPT


@dataclass(frozen=True)
class ImageOrder:
    prompt: str
    width: int
    height: int
    # None means "surprise me": a random seed is drawn, and recorded like any other.
    seed: int | None
    model: str
    style: str | None
    provider: str
    reference: ReferenceSource | None = None
    # The uploaded file when `reference == "upload"` (PNG, JPEG or WebP).
    upload: bytes | None = None
    source: Source = Source.UI


@dataclass(frozen=True)
class PreparedImage:
    """An order checked and settled: the provider's exact request, ready to be made."""

    provider: str
    request: ImageRequest
    reference: ReferenceSource | None
    source: Source


class ImageStudio:
    def __init__(
        self,
        pipeline: GenerationPipeline,
        providers: dict[str, ImageProvider],
        *,
        default_provider: str,
        avatars: Avatars,
        store: ObjectStore,
        presign_ttl_seconds: int,
    ) -> None:
        self._pipeline = pipeline
        self.providers = providers
        self.default_provider = default_provider
        self._avatars = avatars
        self._store = store
        self._presign_ttl = presign_ttl_seconds

    def provider(self, name: str) -> ImageProvider:
        return find_provider(self.providers, name, kind="image engine")

    def engine_for(self, provider: str | None, model: str | None) -> tuple[str, str]:
        """The engine and model a request means when it may leave either out (the API): a
        model alone picks the first engine offering it, the default engine first; neither
        means the default engine's first model."""
        if provider:
            chosen = self.provider(provider)
        elif model:
            offering = [p for p in self._by_preference() if model in p.models()]
            if not offering:
                raise InvalidInput(f"No image engine here has a model called {model!r}.")
            chosen = offering[0]
        else:
            chosen = self.provider(self.default_provider)
        chosen_model = model or chosen.models()[0]
        require_model(chosen, chosen_model)
        return chosen.name, chosen_model

    def _by_preference(self) -> list[ImageProvider]:
        default = self.provider(self.default_provider)
        return [default, *(p for p in self.providers.values() if p is not default)]

    def generate(
        self, user_id: uuid.UUID, order: ImageOrder, *, progress: Progress | None = None
    ) -> GenerationRecord:
        """Make one image now, in this thread (the queue's workers call `make`)."""
        return self.make(user_id, self.prepare(user_id, order), progress=progress)

    def prepare(self, user_id: uuid.UUID, order: ImageOrder) -> PreparedImage:
        """Check an order and settle everything it leaves open (the seed, the reference's
        pixels), so that making it later, anywhere, makes the same image."""
        provider = self.provider(order.provider)
        require_model(provider, order.model)
        if order.seed is not None and not 0 <= order.seed <= MAX_SEED:
            raise InvalidInput(f"The seed must be a whole number from 0 to {MAX_SEED}.")
        request = ImageRequest(
            prompt=order.prompt.strip(),
            width=order.width,
            height=order.height,
            seed=secrets.randbelow(MAX_SEED + 1) if order.seed is None else order.seed,
            model=order.model,
            style=order.style or None,
            reference_png=self._reference(user_id, order),
        )
        # Refuse a bad request before it becomes a failed generation in the user's history.
        check_request(request, provider.size_limits)
        return PreparedImage(provider.name, request, order.reference, order.source)

    def make(
        self,
        user_id: uuid.UUID,
        prepared: PreparedImage,
        *,
        generation_id: uuid.UUID | None = None,
        progress: Progress | None = None,
        attempt: Attempt | None = None,
    ) -> GenerationRecord:
        provider = self.provider(prepared.provider)
        request = prepared.request
        spec = GenerationSpec(
            modality=Modality.IMAGE,
            provider=provider.name,
            model=request.model,
            prompt=request.prompt,
            params={
                "prompt": request.prompt,
                "size": f"{request.width}x{request.height}",
                "width": request.width,
                "height": request.height,
                "seed": request.seed,
                "model": request.model,
                "style": request.style,
                "provider": provider.name,
                "reference": prepared.reference,
            },
            source=prepared.source,
        )

        def produce(context: GenerationContext) -> ProducedMedia:
            result = provider.generate(
                replace(request, reference_url=self._share(context, request))
            )
            return ProducedMedia(
                data=result.png,
                name="image/original.png",
                content_type="image/png",
                meta={
                    "size": f"{result.width}x{result.height}",
                    "seed": request.seed,
                    "style": request.style,
                    "engine": provider.label,
                    "isAi": provider.is_ai,
                    **result.details,
                },
                model=result.model,
                thumbnail=_thumbnail(result.png),
            )

        return self._pipeline.run(
            user_id, spec, produce, generation_id=generation_id, progress=progress, attempt=attempt
        )

    def _reference(self, user_id: uuid.UUID, order: ImageOrder) -> bytes | None:
        if order.reference is None:
            return None
        if order.reference == "avatar":
            avatar = self._avatars.load(user_id)
            if avatar is None:
                raise InvalidInput(
                    "You have no avatar yet. Upload one first, or pick another reference."
                )
            return avatar
        if not order.upload:
            raise InvalidInput("Choose an image file to use as the reference.")
        image = decode_reference(order.upload)
        image.thumbnail((REFERENCE_SIDE, REFERENCE_SIDE), Image.Resampling.LANCZOS)
        return encode_png(image)

    def _share(self, context: GenerationContext, request: ImageRequest) -> str | None:
        """Keep the reference with the request, and sign a link for engines that fetch it."""
        if request.reference_png is None:
            return None
        key = context.prefix + "reference.png"
        self._store.put(context.bucket, key, request.reference_png, "image/png")
        return self._store.presigned_url(context.bucket, key, self._presign_ttl)


def _thumbnail(png: bytes) -> bytes:
    image = decode_image(png)
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="WEBP", quality=80, method=4)
    return buffer.getvalue()
