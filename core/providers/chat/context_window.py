"""Fitting a conversation into a model's context window.

A long chat must keep working: the oldest turns are left out (the system prompt never is)
until the prompt and room for the answer fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.errors import ProviderError
from core.providers.chat.base import ChatMessage

# Below this much room an answer is not worth starting.
MIN_ANSWER_TOKENS = 16


@dataclass(frozen=True)
class FittedPrompt:
    messages: list[ChatMessage]
    tokens: list[int]
    dropped_messages: int
    answer_tokens: int  # the most the answer may take


def fit_to_context(
    messages: list[ChatMessage],
    tokenize: Callable[[list[ChatMessage]], list[int]],
    *,
    n_ctx: int,
    answer_tokens: int,
) -> FittedPrompt:
    """Drop the oldest turns until the prompt leaves `answer_tokens` of room, if it can.

    When even the system prompt and the last message leave less room than asked, the answer
    gets what is left; when that is too little to be useful, the error says how long is too long.
    """
    kept = list(messages)
    while True:
        tokens = tokenize(kept)
        room = n_ctx - len(tokens)
        if room >= answer_tokens or not _drop_oldest_turn(kept):
            break
    if room < MIN_ANSWER_TOKENS:
        raise ProviderError(
            f"The message is too long for this model: with the system prompt it takes "
            f"{len(tokens)} of the {n_ctx} tokens the model can read at once. Shorten it."
        )
    return FittedPrompt(kept, tokens, len(messages) - len(kept), min(answer_tokens, room))


def _drop_oldest_turn(kept: list[ChatMessage]) -> bool:
    """Remove the oldest question and its answer; False when only the last message is left."""
    turns = [i for i, m in enumerate(kept) if m.role != "system"]
    if len(turns) <= 1:
        return False
    del kept[turns[0]]
    # An answer whose question is gone means nothing to the model: it goes too.
    following = [i for i, m in enumerate(kept) if m.role != "system"]
    if len(following) > 1 and kept[following[0]].role == "assistant":
        del kept[following[0]]
    return True
