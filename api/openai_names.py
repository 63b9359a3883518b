"""OpenAI's names for models and voices, and the Atelier engines they mean.

Model ids (what `GET /v1/models` lists and the `model` field of each route accepts):

- **chat**: the model as its chat provider names it (`SmolLM2-135M-Instruct` for the offline
  model, `gpt-4o-mini` for a configured API), owned by the provider (`local`, `openai`). If two
  providers offer the same model name, it is listed once and means the default provider's.
- **images**: `image/<engine>/<model>`, e.g. `image/sketch/sketch-v2`, `image/pollinations/flux`.
  OpenAI's own names (`dall-e-2`, `dall-e-3`, `gpt-image-1`, ...) and an empty model mean the
  default engine's first model, so a client left on its defaults works.
- **speech**: `speech/<provider>`, e.g. `speech/offline`, `speech/gtts`. OpenAI's `tts-1`,
  `tts-1-hd` and `gpt-4o-mini-tts` mean the default speech provider.

The image and speech ids carry their modality because some clients (Open WebUI) offer every
listed model in their chat picker: the prefix tells a person which ones are not chat models.

Voices (`voice` of `/v1/audio/speech`): Atelier's voices are chosen by language, so

- OpenAI's voice names (alloy, ash, ballad, cedar, coral, echo, fable, marin, nova, onyx, sage,
  shimmer, verse) all mean English, spoken by the provider's English voice (piper offline);
- any other voice is read as a language code the provider speaks (`es`, `ja`, `zh-CN`; case and
  a missing region are forgiven: `en-GB` means `en`), so `voice="ja"` speaks Japanese.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from api.errors import ModelNotFound
from core.errors import InvalidInput
from core.modality import Modality
from core.providers.speech.languages import match_language
from core.services import Services

IMAGE_PREFIX = "image/"
SPEECH_PREFIX = "speech/"
OPENAI_IMAGE_MODELS = frozenset({"dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini"})
OPENAI_SPEECH_MODELS = frozenset({"tts-1", "tts-1-hd", "gpt-4o-mini-tts"})
OPENAI_VOICES = frozenset(
    {
        "alloy",
        "ash",
        "ballad",
        "cedar",
        "coral",
        "echo",
        "fable",
        "marin",
        "nova",
        "onyx",
        "sage",
        "shimmer",
        "verse",
    }
)
OPENAI_VOICE_LANGUAGE = "en"


@dataclass(frozen=True)
class OfferedModel:
    id: str
    owned_by: str
    modality: Modality


@dataclass(frozen=True)
class ChosenModel:
    provider: str
    model: str


def offered_models(app: Services) -> Iterator[OfferedModel]:
    """Every model of every engine, chat first (default provider first), then images, speech."""
    seen: set[str] = set()
    for provider in _default_first(app.chat.providers, app.chat.default_provider):
        for model in app.chat.providers[provider].models():
            if model not in seen:
                seen.add(model)
                yield OfferedModel(model, provider, Modality.CHAT)
    for provider in _default_first(app.images.providers, app.images.default_provider):
        for model in app.images.providers[provider].models():
            yield OfferedModel(f"{IMAGE_PREFIX}{provider}/{model}", provider, Modality.IMAGE)
    for provider in _default_first(app.speech.providers, app.speech.default_provider):
        yield OfferedModel(f"{SPEECH_PREFIX}{provider}", provider, Modality.SPEECH)


def chat_model(app: Services, model_id: str) -> ChosenModel:
    for provider in _default_first(app.chat.providers, app.chat.default_provider):
        if model_id in app.chat.providers[provider].models():
            return ChosenModel(provider, model_id)
    raise _unknown(model_id, "chat")


def image_model(app: Services, model_id: str | None) -> ChosenModel:
    if not model_id or model_id in OPENAI_IMAGE_MODELS:
        default = app.images.provider(app.images.default_provider)
        return ChosenModel(default.name, default.models()[0])
    provider, _, model = model_id.removeprefix(IMAGE_PREFIX).partition("/")
    if model_id.startswith(IMAGE_PREFIX) and provider in app.images.providers:
        models = app.images.providers[provider].models()
        if model in models or not model:
            return ChosenModel(provider, model or models[0])
    raise _unknown(model_id, "image")


def speech_provider(app: Services, model_id: str) -> str:
    if model_id in OPENAI_SPEECH_MODELS:
        return app.speech.default_provider
    provider = model_id.removeprefix(SPEECH_PREFIX)
    if model_id.startswith(SPEECH_PREFIX) and provider in app.speech.providers:
        return provider
    raise _unknown(model_id, "speech")


def speech_language(app: Services, provider: str, voice: str) -> str:
    """The language a voice name means for this provider (see the module docstring)."""
    spoken = app.speech.provider(provider).languages()
    wanted = OPENAI_VOICE_LANGUAGE if voice.strip().lower() in OPENAI_VOICES else voice
    language = match_language(wanted, spoken)
    if language is None:
        raise InvalidInput(
            f"There is no voice {voice!r}: use one of OpenAI's voice names (alloy, nova, ...: "
            "they speak English) or a language code such as 'es', 'ja' or 'zh-CN'."
        )
    return language


def _default_first(providers: Iterable[str], default: str) -> list[str]:
    return sorted(providers, key=lambda name: name != default)


def _unknown(model_id: str, kind: str) -> ModelNotFound:
    return ModelNotFound(
        f"There is no {kind} model called {model_id!r}. GET /v1/models lists the models offered."
    )
