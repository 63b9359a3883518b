"""The local diffusers engine, run for real on a tiny random pipeline built in the test."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from core.errors import InvalidInput, ProviderError
from core.providers.image.base import ImageRequest, ImageResult
from core.providers.image.diffusion.engine import DiffusersProvider
from core.providers.image.diffusion.pipeline import DiffusionOptions, slot_for
from tests.providers.image.images import decode, png_bytes
from tests.support.tiny_diffusion import (
    IP_ADAPTER_WEIGHTS,
    build_tiny_ip_adapter,
    build_tiny_pipeline,
)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pipeline(tmp_path_factory.mktemp("diffusion") / "tiny-sd")


@pytest.fixture(scope="session")
def tiny_ip_adapter(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Path:
    return build_tiny_ip_adapter(tmp_path_factory.mktemp("ip-adapter"), tiny_model)


@pytest.fixture
def options(tiny_model: Path) -> DiffusionOptions:
    return DiffusionOptions(model_path=str(tiny_model), steps=2, guidance=5.0, device="cpu")


def request(**changes: Any) -> ImageRequest:
    values: dict[str, Any] = {
        "prompt": "a red fox",
        "width": 64,
        "height": 64,
        "seed": 3,
        "model": "tiny-sd",
    }
    return ImageRequest(**(values | changes))


def pixels(result: ImageResult) -> np.ndarray:
    return np.asarray(decode(result.png).convert("RGB"), dtype=np.float32)


def test_it_draws_a_png_of_the_requested_size(options: DiffusionOptions) -> None:
    result = DiffusersProvider(options).generate(request())
    assert decode(result.png).size == (64, 64)
    assert (result.width, result.height) == (64, 64)
    assert result.model == "tiny-sd"
    assert result.details["steps"] == 2
    assert result.details["device"] == "cpu"
    assert result.details["reference_mode"] == "none"
    assert pixels(result).std() > 1


def test_a_seed_gives_the_same_png_and_another_seed_another(options: DiffusionOptions) -> None:
    provider = DiffusersProvider(options)
    first = provider.generate(request(seed=11))
    assert provider.generate(request(seed=11)).png == first.png
    assert np.abs(pixels(provider.generate(request(seed=12))) - pixels(first)).mean() > 1


def test_a_wide_image(options: DiffusionOptions) -> None:
    assert decode(DiffusersProvider(options).generate(request(width=128)).png).size == (128, 64)


def test_the_style_reaches_the_prompt(options: DiffusionOptions) -> None:
    result = DiffusersProvider(options).generate(request(style="line-art"))
    assert result.details["prompt_sent"].startswith("a red fox, black ink line art")


def test_the_pipeline_loads_once_for_concurrent_sessions(options: DiffusionOptions) -> None:
    fresh = dataclasses.replace(options, steps=3)  # options no slot has seen: a cold start
    results: list[ImageResult] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(DiffusersProvider(fresh).generate(request()))
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert slot_for(fresh).load_count == 1
    assert len(results) == 3
    assert {r.png for r in results} == {results[0].png}
    assert sum("load_seconds" in r.details for r in results) == 1


def test_a_reference_goes_through_img2img_without_ip_adapter(options: DiffusionOptions) -> None:
    provider = DiffusersProvider(options)
    green = png_bytes((100, 80), (20, 200, 40))
    with_reference = provider.generate(request(reference_png=green))
    assert with_reference.details["reference_mode"] == "img2img"
    assert decode(with_reference.png).size == (64, 64)
    assert provider.generate(request(reference_png=green)).png == with_reference.png
    assert np.abs(pixels(with_reference) - pixels(provider.generate(request()))).mean() > 1


def test_a_reference_goes_through_ip_adapter_when_configured(
    options: DiffusionOptions, tiny_ip_adapter: Path
) -> None:
    adapted = dataclasses.replace(
        options,
        ip_adapter_path=str(tiny_ip_adapter),
        ip_adapter_subfolder="models",
        ip_adapter_weight_name=IP_ADAPTER_WEIGHTS,
        ip_adapter_scale=1.0,
    )
    provider = DiffusersProvider(adapted)
    without = provider.generate(request())
    assert without.details["reference_mode"] == "none"
    with_reference = provider.generate(request(reference_png=png_bytes((64, 64), (200, 30, 30))))
    assert with_reference.details["reference_mode"] == "ip-adapter"
    assert decode(with_reference.png).size == (64, 64)
    assert with_reference.png != without.png
    # At scale 0 the neutral stand-in changes nothing: the same as the plain pipeline.
    plain = DiffusersProvider(options).generate(request())
    assert np.abs(pixels(without) - pixels(plain)).mean() < 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"width": 96}, "width must be 64 to 1024 pixels, in steps of 64"),
        ({"model": "sdxl"}, "runs tiny-sd"),
        ({"reference_png": b"junk"}, "reference image cannot be used"),
    ],
)
def test_requests_it_cannot_take_are_refused(
    options: DiffusionOptions, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        DiffusersProvider(options).generate(request(**changes))


def test_a_missing_model_folder_is_a_plain_error(tmp_path: Path) -> None:
    options = DiffusionOptions(model_path=str(tmp_path / "nowhere"), device="cpu")
    with pytest.raises(ProviderError, match="not a diffusers pipeline folder"):
        DiffusersProvider(options).generate(request(model="nowhere"))


def test_a_broken_model_folder_is_a_plain_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    options = DiffusionOptions(model_path=str(broken), device="cpu")
    with pytest.raises(ProviderError, match="The local image model failed: "):
        DiffusersProvider(options).generate(request(model="broken"))
