"""What the app adds to the first token of a chat answer, over the provider alone.

Against a local server speaking the OpenAI streaming format (and the offline model), on
PostgreSQL + SeaweedFS: time from the call to the first piece of text, once through the bare
provider and once through `ChatStudio.answer` (conversation row, pipeline, then the provider).

    python -m bench.chat_overhead [--runs 40]
"""

from __future__ import annotations

import argparse
import json
import threading
import time

from bench.stack import percentiles, production_stack
from core.generation.chat import ChatStudio
from core.generation.chat_exchange import ConversationState
from core.providers.chat.base import ChatMessage, ChatRequest
from tests.support.fake_openai import FakeOpenAI, Reply, answer_events

QUESTION = "Name one colour of the sky."


def _provider_first_token_ms(chat: ChatStudio, state: ConversationState) -> float:
    request = ChatRequest([ChatMessage("user", QUESTION)], state.model, state.temperature)
    started = time.perf_counter()
    first = None
    for delta in chat.provider(state.provider).stream(request, threading.Event()):
        if delta.text and first is None:
            first = time.perf_counter()
    return ((first or time.perf_counter()) - started) * 1000


def _app_first_token_ms(chat: ChatStudio, user_id: object, state: ConversationState) -> float:
    marks: list[float] = []
    started = time.perf_counter()
    chat.answer(
        user_id,  # type: ignore[arg-type]
        state,
        QUESTION,
        on_text=lambda _text: marks.append(time.perf_counter()),
        cancel=threading.Event(),
    )
    return (marks[0] - started) * 1000


def _compare(
    chat: ChatStudio, user_id: object, provider: str, runs: int, feed: object
) -> dict[str, object]:
    state = chat.new_conversation(provider=provider)
    bare, through_app = [], []
    for _ in range(runs):
        feed()  # type: ignore[operator]
        bare.append(_provider_first_token_ms(chat, state))
        feed()  # type: ignore[operator]
        through_app.append(_app_first_token_ms(chat, user_id, state))
    bare_p, app_p = percentiles(bare), percentiles(through_app)
    return {
        "provider_alone_first_token_ms": bare_p,
        "through_app_first_token_ms": app_p,
        "app_overhead_p50_ms": round(app_p["p50"] - bare_p["p50"], 2),
        "goal_overhead_ms": 50,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    runs = parser.parse_args().runs
    fake = FakeOpenAI().start()
    try:
        with production_stack(
            chat_api_base_url=fake.base_url,
            chat_api_key="bench",
            chat_api_models="gpt-4o-mini",
            local_chat_max_tokens=8,
        ) as services:
            user_id = services.auth.register("bench@example.com", "correct horse 42", ip=None).id

            def feed_api() -> None:
                fake.enqueue(Reply(events=answer_events(["Blue", " sky", "."]), delay=0.002))

            api = _compare(services.chat, user_id, "openai", runs, feed_api)
            local = _compare(services.chat, user_id, "local", max(5, runs // 4), lambda: None)
    finally:
        fake.stop()
    print(
        json.dumps(
            {
                "benchmark": "chat_first_token_overhead",
                "stack": "PostgreSQL + SeaweedFS; fake OpenAI SSE server; SmolLM2 offline",
                "openai_compatible": api,
                "offline_model": local,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
