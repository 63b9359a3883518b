"""Speech Studio: text to an MP3 through a speech provider and the generation pipeline."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

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
from core.providers.lookup import find_provider
from core.providers.speech.base import SpeechProvider, SpeechRequest
from core.providers.speech.scripts import LanguageMismatch, language_mismatch
from core.providers.speech.text import speakable_text

SLOW_SUFFIX = "-slow"


@dataclass(frozen=True)
class SpeechOrder:
    text: str
    language: str
    slow: bool
    provider: str
    source: Source = Source.UI
    # The quickest voice instead of the best (offline: espeak-ng rather than piper or Kokoro).
    instant: bool = False


@dataclass(frozen=True)
class PreparedSpeech:
    """An order checked: the text as it will be read, by whom, in which language and speed."""

    provider: str
    text: str
    language: str
    slow: bool
    source: Source
    instant: bool = False


class SpeechStudio:
    def __init__(
        self,
        pipeline: GenerationPipeline,
        providers: dict[str, SpeechProvider],
        *,
        default_provider: str,
        max_characters: int,
    ) -> None:
        self._pipeline = pipeline
        self.providers = providers
        self.default_provider = default_provider
        self._max_characters = max_characters

    def provider(self, name: str) -> SpeechProvider:
        return find_provider(self.providers, name, kind="speech provider")

    def models(self) -> list[str]:
        """Seed 001's model names: each provider, and `<provider>-slow` where speed applies."""
        names = []
        for provider in self.providers.values():
            names.append(provider.name)
            if provider.supports_slow:
                names.append(f"{provider.name}{SLOW_SUFFIX}")
        return names

    def provider_for_model(self, model: str | None) -> tuple[str, bool]:
        """The provider and speed a seed model name means ("gtts-slow" -> gtts, slow); no
        model means the default provider at normal speed."""
        if not model:
            return self.default_provider, False
        if model in self.models():
            name = model.removesuffix(SLOW_SUFFIX)
            return name, name != model
        raise InvalidInput(
            f"There is no speech model called {model!r}. Choose one of: {', '.join(self.models())}."
        )

    def synthesize(
        self, user_id: uuid.UUID, order: SpeechOrder, *, progress: Progress | None = None
    ) -> GenerationRecord:
        """Read one text now, in this thread (the queue's workers call `make`)."""
        return self.make(user_id, self.prepare(order), progress=progress)

    def prepare(self, order: SpeechOrder) -> PreparedSpeech:
        provider = self.provider(order.provider)
        if order.language not in provider.languages():
            raise InvalidInput(f"{provider.label} does not speak {order.language!r}.")
        text = speakable_text(order.text, max_characters=self._max_characters, refusal=InvalidInput)
        slow = order.slow and provider.supports_slow
        instant = order.instant and provider.supports_instant
        return PreparedSpeech(provider.name, text, order.language, slow, order.source, instant)

    def language_mismatch(self, order: SpeechOrder) -> LanguageMismatch | None:
        """Check the order as `prepare` does, then say whether its text is written in a script
        its language is not (the studio asks before queueing; the voice would read it badly)."""
        prepared = self.prepare(order)
        languages = self.provider(prepared.provider).languages()
        return language_mismatch(prepared.text, prepared.language, languages)

    def make(
        self,
        user_id: uuid.UUID,
        prepared: PreparedSpeech,
        *,
        generation_id: uuid.UUID | None = None,
        progress: Progress | None = None,
        attempt: Attempt | None = None,
    ) -> GenerationRecord:
        provider = self.provider(prepared.provider)
        text, language, slow = prepared.text, prepared.language, prepared.slow
        instant = prepared.instant
        # Seed 001 names the speeds as models: "gtts" and "gtts-slow".
        model = f"{provider.name}{SLOW_SUFFIX}" if slow else provider.name
        spec = GenerationSpec(
            modality=Modality.SPEECH,
            provider=provider.name,
            model=model,
            prompt=text,
            params={
                "text": text,
                "language": language,
                "slow": slow,
                "instant": instant,
                "provider": provider.name,
                "model": model,
            },
            language=language,
            voice=language,
            source=prepared.source,
        )

        def produce(_context: GenerationContext) -> ProducedMedia:
            loading = provider.loading_note(language, instant=instant)
            if loading is not None and progress is not None:
                progress(loading)
            request = SpeechRequest(text=text, language=language, slow=slow, instant=instant)
            result = provider.synthesize(request)
            return ProducedMedia(
                data=result.mp3,
                name="audio/output.mp3",
                content_type="audio/mpeg",
                meta={
                    "spokenBy": result.spoken_by,
                    "engine": result.engine,
                    "voice": result.voice,
                    "language": language,
                    "slow": slow,
                    "instant": instant,
                    "durationSeconds": round(result.duration_seconds, 2),
                    **result.details,
                },
                duration_seconds=result.duration_seconds,
                usage_quantity=Decimal(str(round(result.duration_seconds, 3))),
            )

        return self._pipeline.run(
            user_id, spec, produce, generation_id=generation_id, progress=progress, attempt=attempt
        )
