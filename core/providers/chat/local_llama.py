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
from collections.abc import Iterator

from core.errors import ProviderError
from core.providers.chat.base import ChatDelta, ChatRequest
from core.providers.chat.context_window import FittedPrompt, fit_to_context
from core.providers.chat.local_model import LoadedModel, LocalModelSpec, load_model

log = logging.getLogger(__name__)

# llama-cpp-python's chat-completion defaults; the repeat penalty keeps a small model from
# looping on one phrase.
_SAMPLING = {"top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.1}
_LOCK_POLL_SECONDS = 0.1


class LocalChatProvider:
    name = "local"

    def __init__(
        self,
        spec: LocalModelSpec,
        *,
        default_max_tokens: int = 512,
        busy_wait_seconds: float = 120.0,
    ) -> None:
        self.spec = spec
        self.label = f"Offline model ({spec.display_name})"
        self._default_max_tokens = default_max_tokens
        self._busy_wait_seconds = busy_wait_seconds

    def close(self) -> None:
        """Nothing to release: the loaded model belongs to the process (`load_model`)."""

    def models(self) -> list[str]:
        return [self.spec.display_name]

    def stream(
        self, request: ChatRequest, cancel: threading.Event | None = None
    ) -> Iterator[ChatDelta]:
        cancel = cancel or threading.Event()
        model = load_model(self.spec)
        if not self._wait_for_turn(model, cancel):
            yield ChatDelta(
                tokens_in=0, tokens_out=0, finish_reason="cancelled", model=self.spec.display_name
            )
            return
        try:
            prompt = fit_to_context(
                request.messages,
                model.prompt_tokens,
                n_ctx=self.spec.n_ctx,
                answer_tokens=request.max_tokens or self._default_max_tokens,
            )
            if prompt.dropped_messages:
                log.info(
                    "left the oldest turns out to fit the context",
                    extra={"dropped_messages": prompt.dropped_messages, "n_ctx": self.spec.n_ctx},
                )
            yield from self._answer(model, prompt, request.temperature, cancel)
        finally:
            model.generation_lock.release()

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
            model=self.spec.display_name,
        )
