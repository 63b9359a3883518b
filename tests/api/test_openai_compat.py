"""The OpenAI-compatible `/v1` face, called by the official `openai` package as a real client
against the running app (PostgreSQL + SeaweedFS), with a personal API key and with a JWT.

The offline chat model (SmolLM2 through llama.cpp) answers for real, with small `max_tokens`;
images come from the offline sketch engine, speech from the offline voices.
"""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from mutagen.mp3 import MP3
from PIL import Image
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

from storage.models import Generation
from tests.api.conftest import Caller
from tests.support.app_server import AppServer

SKETCH = "image/sketch/sketch-v2"


@pytest.fixture(scope="module")
def database(api_server: AppServer) -> Iterator[Engine]:
    engine = create_engine(api_server.env["DATABASE_URL"])
    yield engine
    engine.dispose()


@pytest.fixture
def api_key(http: httpx.Client, caller: Caller) -> str:
    created = http.post("/users/me/api-keys", json={"name": "openai sdk"}, headers=caller.headers)
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    return key


@pytest.fixture
def client(api_server: AppServer, api_key: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=api_server.url + "/v1", api_key=api_key, max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def jwt_client(api_server: AppServer, caller: Caller) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=api_server.url + "/v1", api_key=caller.access_token, max_retries=0
    ) as sdk:
        yield sdk


@pytest.fixture
def chat_model(client: openai.OpenAI) -> str:
    """The offline model, as /v1/models names it."""
    return next(model.id for model in client.models.list() if model.owned_by == "local")


def rows(database: Engine, user_id: uuid.UUID, modality: str) -> list[Any]:
    with database.connect() as db:
        return list(
            db.execute(
                select(Generation.status, Generation.meta, Generation.conversation_id)
                .where(Generation.user_id == user_id, Generation.modality == modality)
                .order_by(Generation.created_at)
            ).all()
        )


def test_models_lists_every_engine_in_openai_shape(
    client: openai.OpenAI, jwt_client: openai.OpenAI
) -> None:
    models = list(client.models.list())
    ids = {model.id for model in models}
    assert SKETCH in ids
    assert "speech/offline" in ids
    assert any(model.owned_by == "local" for model in models)
    assert all(model.object == "model" and model.created > 0 for model in models)
    # A JWT access token is as good as an API key.
    assert {model.id for model in jwt_client.models.list()} == ids


def test_chat_answers_and_is_kept_as_a_conversation(
    client: openai.OpenAI, chat_model: str, caller: Caller, database: Engine
) -> None:
    completion = client.chat.completions.create(
        model=chat_model,
        messages=[
            {"role": "system", "content": "You answer briefly."},
            {"role": "user", "content": "Say hello."},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": [{"type": "text", "text": "Name a colour."}]},
        ],
        max_tokens=8,
        temperature=0,
    )
    assert completion.object == "chat.completion"
    assert completion.model == chat_model
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert completion.usage is not None
    assert 1 <= completion.usage.completion_tokens <= 8
    assert completion.usage.prompt_tokens > 0

    [(status, meta, conversation_id)] = rows(database, caller.id, "chat")
    assert status == "completed" and conversation_id is not None
    assert meta["source"] == "api"
    assert meta["params"]["system"] == "You answer briefly."
    assert meta["params"]["message"] == "Name a colour."
    assert meta["params"]["turn"] == 2


def test_chat_streams_deltas_usage_and_done(
    client: openai.OpenAI, chat_model: str, api_server: AppServer, api_key: str
) -> None:
    stream = client.chat.completions.create(
        model=chat_model,
        messages=[{"role": "user", "content": "Name a fruit."}],
        max_tokens=6,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    finished = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finished[-1] in ("stop", "length")
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens >= 1

    # On the wire: `data:` events, the last one `[DONE]`.
    with httpx.stream(
        "POST",
        api_server.url + "/v1/chat/completions",
        headers={"Authorization": f"Bearer {api_key}"},
        json={
            "model": chat_model,
            "messages": [{"role": "user", "content": "Hi"}],
            "max_tokens": 3,
            "stream": True,
        },
        timeout=60,
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in events)
    assert events[-1] == "data: [DONE]"
    assert "usage" not in json.loads(events[-2].removeprefix("data: "))


def test_a_client_that_goes_away_stops_the_answer_and_keeps_what_came(
    api_server: AppServer, api_key: str, chat_model: str, caller: Caller, database: Engine
) -> None:
    with httpx.stream(
        "POST",
        api_server.url + "/v1/chat/completions",
        headers={"Authorization": f"Bearer {api_key}"},
        json={
            "model": chat_model,
            "messages": [{"role": "user", "content": "Count from 1 to 500, one per line."}],
            "max_tokens": 400,
            "stream": True,
        },
        timeout=60,
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and '"content":"' in line and '"content":""' not in line:
                break
    # The answer ends once the server notices; wait for its row, not for time.
    deadline = time.monotonic() + 60
    while not (kept := rows(database, caller.id, "chat")) and time.monotonic() < deadline:
        time.sleep(0.1)
    [(status, meta, _)] = kept
    assert status == "completed"
    assert meta["ended"] == "stopped"
    assert 1 <= meta["tokensOut"] < 400


def test_images_as_b64_json_and_as_fetchable_urls(
    client: openai.OpenAI, caller: Caller, database: Engine
) -> None:
    inline = client.images.generate(
        model=SKETCH, prompt="a red kite", n=2, size="256x256", response_format="b64_json"
    )
    assert inline.created > 0 and inline.data is not None and len(inline.data) == 2
    for image in inline.data:
        assert image.b64_json is not None and image.url is None
        assert Image.open(io.BytesIO(base64.b64decode(image.b64_json))).size == (256, 256)

    linked = client.images.generate(prompt="a blue kite", size="128x128", response_format="url")
    assert linked.data is not None and linked.data[0].url
    fetched = httpx.get(linked.data[0].url, timeout=30)
    assert fetched.status_code == 200
    assert Image.open(io.BytesIO(fetched.content)).size == (128, 128)

    kept = rows(database, caller.id, "image")
    assert len(kept) == 3
    assert all(status == "completed" and meta["source"] == "api" for status, meta, _ in kept)


def test_a_reference_image_comes_inline_never_from_a_fetched_address(
    client: openai.OpenAI,
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "green").save(buffer, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    made = client.images.generate(
        prompt="a kite like this",
        size="128x128",
        response_format="b64_json",
        extra_body={"reference_image_url": data_url},
    )
    assert made.data is not None and made.data[0].b64_json

    with pytest.raises(openai.BadRequestError) as refused:
        client.images.generate(
            prompt="a kite",
            size="128x128",
            extra_body={"reference_image_url": "http://169.254.169.254/latest/meta-data"},
        )
    assert "does not fetch" in refused.value.message
    with pytest.raises(openai.BadRequestError, match="holds no image"):
        client.images.generate(
            prompt="a kite",
            size="128x128",
            extra_body={"reference_image_url": "data:image/png;base64,"},
        )


@pytest.mark.parametrize("form", ["mp3", "wav"])
def test_speech_comes_back_as_audio_that_decodes(
    client: openai.OpenAI, form: str, tmp_path: Path, caller: Caller, database: Engine
) -> None:
    path = tmp_path / f"hello.{form}"
    client.audio.speech.create(
        model="tts-1", voice="alloy", input="Hello from Atelier.", response_format=form
    ).write_to_file(path)
    if form == "mp3":
        assert MP3(path).info.length > 0.3  # type: ignore[no-untyped-call]
    else:
        with wave.open(str(path), "rb") as audio:
            assert audio.getnframes() / audio.getframerate() > 0.3
    [(status, meta, _)] = rows(database, caller.id, "speech")
    assert status == "completed" and meta["source"] == "api"
    assert meta["params"]["language"] == "en"


def test_speech_voice_may_be_a_language(client: openai.OpenAI, tmp_path: Path) -> None:
    response = client.audio.speech.create(model="speech/offline", voice="es", input="Hola.")
    assert response.response.headers["content-type"] == "audio/mpeg"
    assert MP3(io.BytesIO(response.content)).info.length > 0  # type: ignore[no-untyped-call]


def test_errors_are_in_openai_shape(
    client: openai.OpenAI, chat_model: str, api_server: AppServer
) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "hi"}]
        )
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        client.images.generate(model="image/sketch/nope", prompt="x")
    with pytest.raises(openai.BadRequestError) as empty:
        client.chat.completions.create(model=chat_model, messages=[])
    assert "messages" in empty.value.message
    with pytest.raises(openai.BadRequestError):
        client.images.generate(model=SKETCH, prompt="x", n=5)
    with pytest.raises(openai.BadRequestError) as format_refused:
        client.audio.speech.create(model="tts-1", voice="alloy", input="hi", response_format="opus")
    assert "mp3 or wav" in format_refused.value.message
    with pytest.raises(openai.BadRequestError):
        client.audio.speech.create(model="tts-1", voice="klingon-xx", input="hi")
    with (
        openai.OpenAI(
            base_url=api_server.url + "/v1", api_key="not-a-key", max_retries=0
        ) as stranger,
        pytest.raises(openai.AuthenticationError),
    ):
        stranger.models.list()


def test_a_batch_the_minute_limit_would_cut_short_makes_nothing(
    client: openai.OpenAI, caller: Caller, database: Engine
) -> None:
    # A plain user may start 10 generations a minute: 8 here, then 4 more would cross it.
    for _ in range(2):
        client.images.generate(model=SKETCH, prompt="a kite", n=4, size="64x64")

    with pytest.raises(openai.RateLimitError, match="2 more can start now"):
        client.images.generate(model=SKETCH, prompt="a kite", n=4, size="64x64")

    assert len(rows(database, caller.id, "image")) == 8
    assert len(client.images.generate(model=SKETCH, prompt="a kite", n=2, size="64x64").data) == 2
