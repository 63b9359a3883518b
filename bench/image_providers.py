"""Image engine timings, printed as JSON.

    python -m bench.image_providers

- the offline sketch: milliseconds per image (request → PNG bytes) at 256, 512 and 1024;
- the Pollinations client over a local fake of the service: milliseconds from request to
  decoded PNG, the fake's own handler time, and the difference (our client's overhead);
- the tiny random diffusers pipeline on CPU (if torch and diffusers are installed): load
  time and milliseconds per 64x64 image. A real model is orders of magnitude slower.
"""

from __future__ import annotations

import importlib
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.providers.http import RetryPolicy
from core.providers.image.base import ImageRequest
from core.providers.image.decoding import decode_image, encode_png
from core.providers.image.pollinations import PollinationsOptions, PollinationsProvider
from core.providers.image.sketch.engine import MODEL, SketchProvider
from tests.support.fake_pollinations import FakePollinations, jpeg_of_size

PROMPTS = [
    "misty mountains at sunset",
    "a quiet lake at night",
    "city skyline in the rain",
    "a pine forest",
    "a single red flower",
    "an alpaca thinking about breakfast",
]


def summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(p95, 2),
        "runs": len(ordered),
    }


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def bench_sketch() -> dict[str, Any]:
    sketch = SketchProvider()
    sketch.generate(ImageRequest("warm up", 256, 256, 0, MODEL))
    results: dict[str, Any] = {}
    for size, runs in ((256, 36), (512, 36), (1024, 12)):
        samples = [
            timed(
                lambda i=i, size=size: sketch.generate(
                    ImageRequest(PROMPTS[i % len(PROMPTS)], size, size, i, MODEL)
                )
            )
            for i in range(runs)
        ]
        results[f"{size}x{size}"] = summary(samples)
    styled = [
        timed(
            lambda i=i, style=style: sketch.generate(
                ImageRequest(PROMPTS[i % len(PROMPTS)], 512, 512, i, MODEL, style=style)
            )
        )
        for i, style in enumerate(["photo", "watercolor", "line-art", "pixel-art"] * 6)
    ]
    results["512x512_with_styles"] = summary(styled)
    return results


def bench_pollinations() -> dict[str, Any]:
    fake = FakePollinations().start()
    provider = PollinationsProvider(
        PollinationsOptions(base_url=fake.base_url, fetch_models=False, retry=RetryPolicy())
    )
    try:
        provider.generate(ImageRequest("warm up", 512, 512, 0, "flux"))
        fake.handler_seconds.clear()
        totals = [
            timed(lambda i=i: provider.generate(ImageRequest(PROMPTS[i % 6], 512, 512, i, "flux")))
            for i in range(30)
        ]
        server = [seconds * 1000 for seconds in fake.handler_seconds]
    finally:
        provider.close()
        fake.stop()
    # The part of the overhead that is image work, not HTTP: JPEG decode + PNG encode.
    jpeg = jpeg_of_size(512, 512)
    conversions = [timed(lambda: encode_png(decode_image(jpeg))) for _ in range(30)]
    return {
        "size": "512x512",
        "request_to_png": summary(totals),
        "fake_server_handler": summary(server),
        "client_overhead": summary([t - s for t, s in zip(totals, server, strict=True)]),
        "of_which_jpeg_to_png": summary(conversions),
    }


def bench_tiny_diffusers() -> dict[str, Any]:
    try:
        import torch

        importlib.import_module("diffusers")
        importlib.import_module("transformers")
    except ImportError as error:
        return {"skipped": f"{error} (install requirements-diffusers.txt)"}

    from core.providers.image.diffusion.engine import DiffusersProvider
    from core.providers.image.diffusion.pipeline import DiffusionOptions, load_pipeline
    from tests.support.tiny_diffusion import build_tiny_pipeline

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        model = build_tiny_pipeline(Path(folder) / "tiny-sd")
        build_ms = (time.perf_counter() - started) * 1000
        options = DiffusionOptions(model_path=str(model), steps=4, device="cpu")
        loads = [timed(lambda: load_pipeline(options)) for _ in range(3)]
        provider = DiffusersProvider(options)
        first = provider.generate(ImageRequest("warm up", 64, 64, 0, "tiny-sd"))
        per_image = [
            timed(lambda i=i: provider.generate(ImageRequest(PROMPTS[i % 6], 64, 64, i, "tiny-sd")))
            for i in range(10)
        ]
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "build_and_save_ms": round(build_ms, 1),
        "load": summary(loads),
        "first_generation_load_s": first.details.get("load_seconds"),
        "per_image_64x64_4_steps": summary(per_image),
    }


def main() -> None:
    report = {
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "sketch": bench_sketch(),
        "pollinations_over_local_fake": bench_pollinations(),
        "tiny_diffusers_cpu": bench_tiny_diffusers(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
