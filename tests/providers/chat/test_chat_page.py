"""The Chat page's model picker through AppTest: which offline models it offers and what it
says about their speed. No message is sent, so no model is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Selectbox

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


def test_an_answer_streams_after_the_waiting_note(
    app_services: Services,  # noqa: F811
) -> None:
    at = chat_page(app_services)

    at.chat_input[0].set_value("Name a color.").run(timeout=120)

    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert any("first token" in caption and SMOLLM2.name in caption for caption in captions(at))
