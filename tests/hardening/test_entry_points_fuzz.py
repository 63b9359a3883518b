"""Whatever a form or an API client sends to the core entry points, every failure is an
`AtelierError` with a message, and the stores agree after each case (issue 12).

Cases and their checks are in `entry_points`. All cases share one world (embedded backend, no
limits): each generation case runs as a user of its own, so the check after it reads one short
history. `FUZZ_PROFILE=thorough` runs ten times as many, randomised, with hypothesis' example
database; the default `ci` profile is derandomised, so every run tries the same cases.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings

from tests.hardening.entry_points import ENTRY_POINTS, World, open_world

settings.register_profile(
    "ci",
    max_examples=500,
    derandomize=True,
    database=None,
    deadline=None,
    # Explaining a failure replays it hundreds of times (a minute here); the shrunk case is enough.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    settings.get_profile("ci"),
    max_examples=5000,
    derandomize=False,
    # Failures found are kept and tried first next time.
    database=settings.default.database,
)
# Applied to these tests only: loading a profile would change every other hypothesis test.
FUZZ = settings(settings.get_profile(os.environ.get("FUZZ_PROFILE", "ci")))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with open_world(tmp_path_factory.mktemp("fuzz") / "data") as built:
        yield built


def _run(world: World, name: str, case: Any) -> None:
    # Said with a failure: hypothesis cannot print every case it draws (lone surrogates).
    note(f"case: {case!r}")
    event(ENTRY_POINTS[name].run(world, case))


@FUZZ
@given(case=ENTRY_POINTS["register and log in"].cases)
def test_registration_and_login(world: World, case: Any) -> None:
    _run(world, "register and log in", case)


@FUZZ
@given(case=ENTRY_POINTS["image"].cases)
def test_image_generation(world: World, case: Any) -> None:
    _run(world, "image", case)


@FUZZ
@given(case=ENTRY_POINTS["speech"].cases)
def test_speech_synthesis(world: World, case: Any) -> None:
    _run(world, "speech", case)


@FUZZ
@given(case=ENTRY_POINTS["chat"].cases)
def test_chat_answers(world: World, case: Any) -> None:
    _run(world, "chat", case)


@FUZZ
@given(case=ENTRY_POINTS["gallery search"].cases)
def test_gallery_search(world: World, case: Any) -> None:
    _run(world, "gallery search", case)
