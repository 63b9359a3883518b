"""Chat: streamed answers from the offline model or any OpenAI-compatible API; kept for you."""

import itertools
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import streamlit as st

from core.generation.chat import MAX_MESSAGE_CHARS, ChatAnswer
from core.generation.chat_exchange import AnswerStats, ConversationState
from core.runtime import services
from ui.feedback import show_error, user_errors
from ui.session import current_account

account = current_account()
chat = services().chat
STATE, PENDING = "chat_state", "chat_pending"
ENDINGS = {
    "stopped": "⏹️ You stopped this answer.",
    "interrupted": "⚠️ The answer was cut off; what arrived is kept.",
    "length": "✂️ The answer reached its length limit.",
}


@dataclass
class _Answering:
    """An answer being produced in a worker thread while the page streams its text."""

    thread: threading.Thread
    pieces: "queue.Queue[str | None]" = field(default_factory=queue.Queue)
    cancel: threading.Event = field(default_factory=threading.Event)
    result: tuple[ConversationState, ChatAnswer] | None = None
    error: Exception | None = None

    def stream(self) -> Iterator[str]:
        while (piece := self.pieces.get()) is not None:
            yield piece


def _answer_in_background(state: ConversationState, message: str) -> _Answering:
    job = _Answering(thread=threading.Thread(daemon=True))

    def work() -> None:
        try:
            job.result = chat.answer(
                account.id, state, message, on_text=job.pieces.put, cancel=job.cancel
            )
        except Exception as error:  # noqa: BLE001 - handed to the page, which shows it
            job.error = error
        finally:
            job.pieces.put(None)

    job.thread = threading.Thread(target=work, name="chat-answer", daemon=True)
    job.thread.start()
    return job


def _settle(job: _Answering) -> bool:
    """Take a finished (or stopped) answer into the conversation; False if it failed."""
    job.thread.join()
    st.session_state.pop(PENDING, None)
    if job.error is not None or job.result is None:
        show_error(job.error or RuntimeError("no answer"))
        return False
    st.session_state[STATE] = job.result[0]
    return True


def _caption(stats: AnswerStats) -> str:
    return (
        f"{stats.answered_by} · first token {stats.time_to_first_token_ms} ms · "
        f"{stats.tokens_per_second or '–'} tok/s · {stats.tokens_in} → {stats.tokens_out} tokens"
        + (" (estimated)" if stats.usage_estimated else "")
    )


def _open(conversation_id: object) -> None:
    st.session_state["chat_open"] = conversation_id


def _new() -> None:
    state: ConversationState = st.session_state[STATE]
    st.session_state[STATE] = chat.new_conversation(
        provider=state.provider, model=state.model, temperature=state.temperature
    )


with user_errors():
    if PENDING in st.session_state:
        with st.spinner("Keeping the stopped answer…"):
            _settle(st.session_state[PENDING])
    if opening := st.session_state.pop("chat_open", None):
        st.session_state[STATE] = chat.open(account.id, opening)
    if STATE not in st.session_state:
        st.session_state[STATE] = chat.new_conversation()
state: ConversationState = st.session_state[STATE]

with st.sidebar:
    st.button("New conversation", icon="➕", on_click=_new, width="stretch")
    with user_errors():
        for summary in chat.conversations(account.id):
            # The start time tells apart conversations that began with the same message.
            st.button(
                f"{summary.title} · {summary.created_at:%b %d, %H:%M}",
                key=f"conversation-{summary.id}",
                on_click=_open,
                args=(summary.id,),
                type="primary" if summary.id == state.id else "tertiary",
                width="stretch",
            )

st.title("💬 Chat")
with st.expander("Model and instructions", expanded=state.id is None), user_errors():
    names = list(chat.providers)
    provider = chat.provider(
        st.selectbox(
            "Provider",
            names,
            index=names.index(state.provider) if state.provider in names else 0,
            format_func=lambda name: chat.providers[name].label,
        )
    )
    models = provider.models()
    model = st.selectbox(
        "Model",
        models,
        index=models.index(state.model) if state.model in models else 0,
        format_func=provider.model_label,
    )
    if caption := provider.model_caption(model):
        st.caption(caption)
    temperature = st.slider("Temperature", 0.0, 2.0, float(state.temperature), 0.1)
    system_prompt = st.text_area(
        "System prompt",
        state.system_prompt,
        placeholder="You are a concise assistant who answers in plain words.",
    )
    state = replace(
        state,
        provider=provider.name,
        model=model,
        temperature=temperature,
        system_prompt=system_prompt,
    )
    st.session_state[STATE] = state
    if state.id is not None and st.button("Delete this conversation", icon="🗑️"):
        chat.delete(account.id, state.id)
        _new()
        st.rerun()

for index, message in enumerate(state.messages):
    with st.chat_message(message.role):
        # Markdown without raw HTML: a model's answer can never inject markup into the page.
        st.markdown(message.content)
        if ending := state.endings.get(index):
            st.caption(ENDINGS.get(ending, ending))
        if stats := state.stats.get(index):
            st.caption(_caption(stats))

# max_chars: the box counts and stops at the limit, so a long paste is never sent, then refused.
if prompt := st.chat_input("Ask anything", max_chars=MAX_MESSAGE_CHARS):
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"):
        # Pressing Stop reruns the page, which interrupts the stream below; the answer so far
        # is kept (see _settle at the top).
        st.button("Stop", icon="⏹️", key="stop")
        job = _answer_in_background(state, prompt)
        st.session_state[PENDING] = job
        try:
            with st.spinner(chat.waiting_note(state)):
                pieces = job.stream()
                first = next(pieces, None)
            if first is not None:
                st.write_stream(itertools.chain([first], pieces))
        finally:
            if job.thread.is_alive():
                job.cancel.set()
    if _settle(job):
        st.rerun()
