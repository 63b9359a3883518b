"""Image Studio through AppTest: the sketch says it is not AI, and the seed grid."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from core.generation.status import Status
from core.services import Services
from tests.ui.conftest import log_in

PASSWORD = "correct horse 42"
GRID_BUTTON = "Seed grid (4 seeds)"


@pytest.fixture
def studio(app: AppTest, app_services: Services) -> AppTest:
    app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    return log_in(app, "ada@example.com", PASSWORD).switch_page("../pages/image_studio.py").run()


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def when_jobs_end(at: AppTest, app_services: Services) -> AppTest:
    deadline = time.monotonic() + 60
    while app_services.queue.listing(None, states=[Status.PENDING, Status.RUNNING]):
        assert time.monotonic() < deadline, "the jobs did not end"
        time.sleep(0.05)
    return at.run()


def captions(at: AppTest) -> str:
    return " | ".join(str(c.value) for c in at.caption)


def test_the_sketch_says_it_is_not_ai_and_how_to_get_ai_images(studio: AppTest) -> None:
    assert studio.selectbox(key="image_provider").value == "sketch"
    text = captions(studio)
    assert "The offline sketch is not AI" in text
    assert "Pollinations" in text
    assert "IMAGE_DIFFUSERS_MODEL_PATH" in text
    assert "requirements-diffusers.txt" in text


def test_an_ai_engine_has_no_not_ai_caption(studio: AppTest) -> None:
    studio.selectbox(key="image_provider").select("pollinations").run()
    assert "not AI" not in captions(studio)


def test_the_seed_grid_queues_four_seeds_and_shows_them_side_by_side(
    studio: AppTest, app_services: Services
) -> None:
    studio.text_area(key="image_prompt").input("mountain lake at night")
    studio.text_input(key="image_seed").input("40")
    studio.selectbox(key="image_size").select("256x256")
    at = click(studio, GRID_BUTTON)

    assert len(app_services.queue.listing(None)) == 4
    at = when_jobs_end(at, app_services)
    assert not at.error, [e.value for e in at.error]
    assert [h.value for h in at.subheader] == ["Seed grid"]
    assert [m.value for m in at.markdown if m.value.startswith("**Seed ")] == [
        f"**Seed {seed}**" for seed in (40, 41, 42, 43)
    ]
    assert len(at.get("image")) == 4
    assert "Your latest" not in [h.value for h in at.subheader]

    # Keep one: its settings go back into the form.
    at = click(at, "Use seed 42")
    assert at.text_input(key="image_seed").value == "42"
    assert at.text_area(key="image_prompt").value == "mountain lake at night"
    assert at.selectbox(key="image_size").value == "256x256"
    assert "seed 42" in at.info[0].value


def test_closing_the_grid_or_generating_brings_back_the_latest_jobs(
    studio: AppTest, app_services: Services
) -> None:
    studio.text_area(key="image_prompt").input("a lighthouse")
    at = when_jobs_end(click(studio, GRID_BUTTON), app_services)
    at = click(at, "Close the grid")
    assert [h.value for h in at.subheader] == ["Your latest"]

    at = when_jobs_end(click(at, GRID_BUTTON), app_services)
    assert [h.value for h in at.subheader] == ["Seed grid"]
    at = when_jobs_end(click(at, "Generate"), app_services)
    assert [h.value for h in at.subheader] == ["Your latest"]
    assert len(app_services.queue.listing(None)) == 9
