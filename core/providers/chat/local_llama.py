"""Chat with no network: a GGUF model run in-process by llama.cpp.

Tokens are drawn with `Llama.generate` rather than `create_chat_completion(stream=True)`:
the streamed chat chunks carry no usage, and driving the token loop ourselves gives exact
counts (prompt tokens through the model's own chat template and tokenizer, one count per
generated token) and a cancel check between any two tokens. The prompt, the sampling
defaults and the end-of-turn rule are the ones `create_chat_completion` uses, so answers
match it token for token.
"""

from __future__ import annotations

import codecs
import logging
import random
import threading
import time
from collections.abc import Iterator, Sequence

from core.errors import ProviderError
from core.providers.chat.base import ChatDelta, ChatRequest
from core.providers.chat.catalogue import known_model
from core.providers.chat.context_window import FittedPrompt, fit_to_context
from core.providers.chat.local_model import LoadedModel, LocalModelSpec, is_loaded, load_model

log = logging.getLogger(__name__)

# llama-cpp-python's chat-completion defaults; the repeat penalty keeps a small model from
# looping on one phrase.
_SAMPLING = {"top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.1}
_LOCK_POLL_SECONDS = 0.1


class LocalChatProvider:
    """The offline models of this machine; the first is the one a request without a model
    gets."""

    name = "local"
    label = "Offline model"

    def __init__(
        self,
        specs: Sequence[LocalModelSpec],
        *,
        default_max_tokens: int = 512,
        busy_wait_seconds: float = 120.0,
    ) -> None:
        if not specs:
            raise ValueError("an offline provider needs at least one model")
        self.specs = {spec.display_name: spec for spec in specs}
        self._default_max_tokens = default_max_tokens
        self._busy_wait_seconds = busy_wait_seconds

    def close(self) -> None:
        """Nothing to release: the loaded models belong to the process (`load_model`)."""

    def models(self) -> list[str]:
        return list(self.specs)

    def model_label(self, model: str) -> str:
        known = known_model(model)
        return known.label if known else model

    def model_caption(self, model: str) -> str | None:
        known = known_model(model)
        return known.speed_caption() if known else None

    def loading_note(self, model: str) -> str | None:
        """What to tell someone waiting for an answer from a model not in memory yet."""
        spec = self.specs.get(model)
        # A file deleted since start-up loads nothing: the answer fails at once and says why.
        if spec is None or is_loaded(spec) or not spec.path.is_file():
            return None
        known = known_model(spec.display_name)
        size = f" ({known.size_caption()})" if known else ""
        return f"Loading {self.model_label(model)}{size} into memory: a few seconds…"

    def stream(
        self, request: ChatRequest, cancel: threading.Event | None = None
    ) -> Iterator[ChatDelta]:
        cancel = cancel or threading.Event()
        spec = self._spec(request.model)
        model = load_model(spec)
        if not self._wait_for_turn(model, cancel):
            yield ChatDelta(
                tokens_in=0, tokens_out=0, finish_reason="cancelled", model=spec.display_name
            )
            return
        try:
            prompt = fit_to_context(
                request.messages,
                model.prompt_tokens,
                n_ctx=spec.n_ctx,
                answer_tokens=request.max_tokens or self._default_max_tokens,
            )
            if prompt.dropped_messages:
                log.info(
                    "left the oldest turns out to fit the context",
                    extra={"dropped_messages": prompt.dropped_messages, "n_ctx": spec.n_ctx},
                )
            yield from self._answer(model, prompt, request.temperature, cancel)
        finally:
            model.generation_lock.release()

    def _spec(self, model: str) -> LocalModelSpec:
        if not model:
            return next(iter(self.specs.values()))
        try:
            return self.specs[model]
        except KeyError:
            raise ProviderError(
                f"There is no offline model called {model!r} here. Choose one of: "
                f"{', '.join(self.specs)}."
            ) from None

    def _wait_for_turn(self, model: LoadedModel, cancel: threading.Event) -> bool:
        """Take the model's lock; False if cancelled while another answer was running."""
        give_up_at = time.monotonic() + self._busy_wait_seconds
        while not model.generation_lock.acquire(timeout=_LOCK_POLL_SECONDS):
            if cancel.is_set():
                return False
            if time.monotonic() > give_up_at:
                raise ProviderError(
                    "The offline model is busy answering others. Try again in a moment.",
                    retryable=True,
                )
        return True

    def _answer(
        self,
        model: LoadedModel,
        prompt: FittedPrompt,
        temperature: float,
        cancel: threading.Event,
    ) -> Iterator[ChatDelta]:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        produced = 0
        finish_reason = "length"
        # A fresh seed per answer, so asking again gives another answer.
        model.llama.set_seed(random.randrange(2**32))
        tokens = model.llama.generate(prompt.tokens, temp=temperature, **_SAMPLING)
        try:
            for token in tokens:
                if cancel.is_set():
                    finish_reason = "cancelled"
                    break
                if model.ends_turn(token):
                    finish_reason = "stop"
                    break
                produced += 1
                text = decoder.decode(model.token_bytes(token))
                if text:
                    yield ChatDelta(text=text)
                if produced >= prompt.answer_tokens:
                    break
        finally:
            tokens.close()
        rest = decoder.decode(b"", final=True)
        if rest:
            yield ChatDelta(text=rest)
        yield ChatDelta(
            tokens_in=len(prompt.tokens),
            tokens_out=produced,
            finish_reason=finish_reason,
            model=model.spec.display_name,
        )
