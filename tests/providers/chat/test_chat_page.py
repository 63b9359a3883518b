"""The Chat page through AppTest: which offline models it offers, what it says about their
speed and while one loads. Only SmolLM2 (98 MB) is ever loaded; the bigger models are fakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Selectbox

from core.generation.chat import THINKING
from core.providers.chat.catalogue import QWEN_CODER_15B, SMOLLM2, OfflineModel
from core.services import Services
from tests.providers.chat.fake_models import install_fake
from tests.ui.conftest import APP, app_services, log_in  # noqa: F401 - app_services is a fixture

PASSWORD = "correct horse 42"


@pytest.fixture(autouse=True)
def installed(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[OfflineModel]:
    """The optional models in the models folder, none unless a test says (CI's case). Set up
    before the services start: autouse fixtures come first."""
    folder = tmp_path / "models"
    models: list[OfflineModel] = getattr(request, "param", [])
    for model in models:
        install_fake(folder, model)
    monkeypatch.setenv("LOCAL_CHAT_MODELS_DIR", str(folder))
    return models


def chat_page(app_services: Services) -> AppTest:  # noqa: F811 - the fixture's value
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    return log_in(at, "ada@example.com", PASSWORD).switch_page("../pages/chat.py").run()


def model_picker(at: AppTest) -> Selectbox[str]:
    return next(box for box in at.selectbox if box.label == "Model")


def captions(at: AppTest) -> list[str]:
    return [str(caption.value) for caption in at.caption]


def test_with_only_the_default_model_the_page_says_it_is_fast(
    app_services: Services,  # noqa: F811
) -> None:
    at = chat_page(app_services)

    assert model_picker(at).options == [SMOLLM2.label]
    assert SMOLLM2.speed_caption() in captions(at)


@pytest.mark.parametrize("installed", [[QWEN_CODER_15B]], indirect=True)
def test_choosing_the_bigger_model_says_it_is_slower_and_better(
    app_services: Services,  # noqa: F811
) -> None:
    at = chat_page(app_services)
    picker = model_picker(at)
    assert picker.options == [SMOLLM2.label, QWEN_CODER_15B.label]

    picker.select_index(1).run()

    assert QWEN_CODER_15B.speed_caption() in captions(at)
    assert SMOLLM2.speed_caption() not in captions(at)


@pytest.mark.parametrize("installed", [[QWEN_CODER_15B]], indirect=True)
def test_the_wait_for_a_model_not_in_memory_yet_is_announced(
    app_services: Services,  # noqa: F811
) -> None:
    """What the page puts in its spinner (AppTest skips spinners, so the note is checked where
    it is made)."""
    waiting = app_services.chat.new_conversation(model=QWEN_CODER_15B.name)

    assert app_services.chat.waiting_note(waiting) == (
        "Loading Qwen2.5-Coder 1.5B (1.1 GB) into memory: a few seconds…"
    )


def test_an_answer_streams_after_the_waiting_note(
    app_services: Services,  # noqa: F811
) -> None:
    at = chat_page(app_services)
    state = app_services.chat.new_conversation()

    at.chat_input[0].set_value("Name a color.").run(timeout=120)

    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert any("first token" in caption and SMOLLM2.name in caption for caption in captions(at))
    # Loaded now: the next answer only waits for its first words.
    assert app_services.chat.waiting_note(state) == THINKING


@pytest.mark.parametrize("installed", [[QWEN_CODER_15B]], indirect=True)
def test_a_model_deleted_after_start_up_says_to_run_make_models(
    app_services: Services,  # noqa: F811
    tmp_path: Path,
) -> None:
    at = chat_page(app_services)
    model_picker(at).select_index(1).run()
    (tmp_path / "models" / QWEN_CODER_15B.file_name).unlink()

    at.chat_input[0].set_value("Name a color.").run(timeout=60)

    assert not at.exception
    (error,) = at.error
    assert "Qwen2.5-Coder 1.5B is gone" in error.value
    assert "run `make models` again" in error.value
