"""`POST /v1/chat/completions`: OpenAI's chat completions, answered through `ChatStudio`.

Each call is kept as a conversation of its own (OpenAI's API is stateless: the client sends the
whole history every time): system and developer messages become the system prompt, the earlier
user and assistant turns the history, and the last message, which must be the user's, is the
one answered. The exchange goes through the pipeline like a page's: limits, S3, SQL, Gallery.

The answer runs in a thread of its own and streams through `on_text`; a client that goes away
(mid-stream or while waiting) sets the answer's `cancel`, and what arrived is kept, as after
the page's Stop button.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentAccount, ServicesDep
from api.errors import stream_error_body
from api.openai_names import chat_model
from api.schemas.openai import (
    OPENAI_ERRORS,
    AssistantMessage,
    ChatChoice,
    ChatCompletionBody,
    ChatCompletionChunk,
    ChatCompletionOut,
    ChatMessageIn,
    ChunkChoice,
    ChunkDelta,
    FinishReason,
    Usage,
)
from core.errors import InvalidInput
from core.generation.chat import ChatAnswer
from core.generation.chat_exchange import ConversationState
from core.generation.records import Source
from core.providers.chat.base import ChatMessage
from core.services import Services

router = APIRouter(prefix="/v1", tags=["openai"], responses=OPENAI_ERRORS)

_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A `chat.completion`, or with `stream: true` a `text/event-stream` of "
        "`chat.completion.chunk` events ending with `data: [DONE]`.",
        "content": {"text/event-stream": {"schema": ChatCompletionChunk.model_json_schema()}},
    }
}


class _Answering:
    """`ChatStudio.answer` in a thread of its own, its text and its end as events here."""

    def __init__(
        self, app: Services, user_id: uuid.UUID, state: ConversationState, message: str
    ) -> None:
        self.cancel = threading.Event()
        self._events: asyncio.Queue[str | ChatAnswer | Exception] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def put(event: str | ChatAnswer | Exception) -> None:
            loop.call_soon_threadsafe(self._events.put_nowait, event)

        def run() -> None:
            try:
                _, answer = app.chat.answer(
                    user_id, state, message, on_text=put, cancel=self.cancel, source=Source.API
                )
                put(answer)
            except Exception as error:  # noqa: BLE001 - re-raised in the request's task by `next`
                put(error)

        threading.Thread(target=run, name="v1-chat-answer", daemon=True).start()

    async def next(self) -> str | ChatAnswer:
        """The next piece of text, or the kept answer once it has ended."""
        event = await self._events.get()
        if isinstance(event, Exception):
            raise event
        return event


@router.post("/chat/completions", response_model=ChatCompletionOut, responses=_STREAM_DOC)
async def chat_completions(
    body: ChatCompletionBody, account: CurrentAccount, app: ServicesDep, request: Request
) -> Response:
    # Off the event loop: an API provider may ask its server for its models.
    state, message = await run_in_threadpool(_conversation, app, body)
    answering = _Answering(app, account.id, state, message)
    watcher = asyncio.create_task(_cancel_on_disconnect(request, answering.cancel))
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    try:
        # Refusals (limits, a failing provider) come before the first text: a real error status.
        first = await answering.next()
    except BaseException:
        watcher.cancel()
        raise
    if not body.stream:
        try:
            event = first
            while isinstance(event, str):
                event = await answering.next()
        finally:
            watcher.cancel()
        completion = ChatCompletionOut(
            id=completion_id,
            created=created,
            model=state.model,
            choices=[
                ChatChoice(
                    message=AssistantMessage(content=event.text),
                    finish_reason=_finish_reason(event),
                )
            ],
            usage=_usage(event),
        )
        return JSONResponse(completion.model_dump())

    def chunk(delta: ChunkDelta, finish: FinishReason | None = None) -> str:
        event = ChatCompletionChunk(
            id=completion_id,
            created=created,
            model=state.model,
            choices=[ChunkChoice(delta=delta, finish_reason=finish)],
        )
        return _sse(event.model_dump_json(exclude_none=True))

    async def events() -> AsyncIterator[str]:
        try:
            yield chunk(ChunkDelta(role="assistant", content=""))
            event = first
            while isinstance(event, str):
                yield chunk(ChunkDelta(content=event))
                event = await answering.next()
            yield chunk(ChunkDelta(), _finish_reason(event))
            if body.stream_options and body.stream_options.include_usage:
                usage = ChatCompletionChunk(
                    id=completion_id,
                    created=created,
                    model=state.model,
                    choices=[],
                    usage=_usage(event),
                )
                yield _sse(usage.model_dump_json(exclude_none=True))
        except Exception as error:  # noqa: BLE001 - told to the client, logged if unexpected
            # The 200 is sent: OpenAI's way is an error event, which the SDK raises.
            yield _sse(json.dumps(stream_error_body(request, error)))
        finally:
            # A client gone mid-stream closes this generator: stop the answer, keep what came.
            answering.cancel.set()
            watcher.cancel()
        yield _sse("[DONE]")

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _conversation(app: Services, body: ChatCompletionBody) -> tuple[ConversationState, str]:
    """The request's messages as a conversation to continue, and the message to answer."""
    if not body.messages:
        raise InvalidInput("messages is empty: send at least one message from the user.")
    if body.messages[-1].role != "user":
        raise InvalidInput("The last message must be the user's: it is the one answered.")
    system: list[str] = []
    turns: list[ChatMessage] = []
    for item in body.messages:
        text = _text_of(item)
        if item.role in ("system", "developer"):
            system.append(text)
        elif item.role == "user" or item.role == "assistant":
            turns.append(ChatMessage(item.role, text))
        else:
            raise InvalidInput(
                "Atelier's models do not call tools: send system, user and assistant messages."
            )
    chosen = chat_model(app, body.model)
    state = app.chat.new_conversation(provider=chosen.provider, model=chosen.model)
    state = replace(
        state,
        temperature=state.temperature if body.temperature is None else body.temperature,
        system_prompt="\n\n".join(part for part in system if part.strip()),
        messages=tuple(turns[:-1]),
        max_tokens=body.max_completion_tokens or body.max_tokens,
    )
    return state, turns[-1].content


def _text_of(message: ChatMessageIn) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    if any(part.type != "text" for part in message.content):
        raise InvalidInput(
            "Only text can be sent: the models behind Atelier do not read images or audio."
        )
    return "\n".join(part.text or "" for part in message.content)


async def _cancel_on_disconnect(request: Request, cancel: threading.Event) -> None:
    # The body has been read, so the next message the server hands over is the disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        pass
    cancel.set()


def _finish_reason(answer: ChatAnswer) -> FinishReason:
    # A stopped or cut answer still ends normally on the wire; its record says how it ended.
    return "length" if answer.ended == "length" else "stop"


def _usage(answer: ChatAnswer) -> Usage:
    tokens_in = int(answer.record.meta.get("tokensIn") or 0)
    tokens_out = int(answer.record.meta.get("tokensOut") or 0)
    return Usage(
        prompt_tokens=tokens_in, completion_tokens=tokens_out, total_tokens=tokens_in + tokens_out
    )


def _sse(data: str) -> str:
    return f"data: {data}\n\n"
