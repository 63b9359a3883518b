"""Loading a diffusers pipeline once per process and running it one request at a time.

torch and diffusers are imported inside functions only: the app must start without them
(requirements-diffusers.txt is an optional install). Weights come from a local folder and
never from a hub: `local_files_only=True`, and `HF_HUB_OFFLINE=1` unless set otherwise.

One `PipelineSlot` holds the process's pipeline. Its lock covers loading (two Streamlit
sessions asking at once load once) and generation (a pipeline is not safe to call from two
threads, and two concurrent runs would only fight for the same cores or GPU memory).
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from core.config import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class DiffusionOptions:
    model_path: str
    steps: int = 25
    guidance: float = 7.0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # How far img2img may move away from the reference (0 keeps it, 1 ignores it).
    reference_strength: float = 0.6
    ip_adapter_path: str = ""
    ip_adapter_subfolder: str = "models"
    ip_adapter_weight_name: str = "ip-adapter_sd15.safetensors"
    ip_adapter_scale: float = 0.6

    @classmethod
    def from_settings(cls, settings: Settings) -> DiffusionOptions:
        return cls(
            model_path=settings.image_diffusers_model_path,
            steps=settings.image_diffusers_steps,
            guidance=settings.image_diffusers_guidance,
            device=settings.image_diffusers_device,
            reference_strength=settings.image_diffusers_reference_strength,
            ip_adapter_path=settings.image_diffusers_ip_adapter_path,
            ip_adapter_subfolder=settings.image_diffusers_ip_adapter_subfolder,
            ip_adapter_weight_name=settings.image_diffusers_ip_adapter_weight_name,
            ip_adapter_scale=settings.image_diffusers_ip_adapter_scale,
        )

    @property
    def uses_ip_adapter(self) -> bool:
        return bool(self.ip_adapter_path)

    @property
    def model_name(self) -> str:
        return Path(self.model_path).name or self.model_path


def missing_pipeline_reason(model_path: str) -> str | None:
    """Why `model_path` is not a diffusers pipeline folder, or None if it looks like one."""
    if not model_path:
        return "IMAGE_DIFFUSERS_MODEL_PATH is empty"
    if not (Path(model_path) / "model_index.json").is_file():
        return f"{model_path} is not a diffusers pipeline folder (no model_index.json in it)"
    return None


@functools.cache
def libraries_available() -> bool:
    """True when torch and diffusers import (checked once per process: importing is slow)."""
    try:
        importlib.import_module("torch")
        importlib.import_module("diffusers")
    except ImportError as error:
        log.warning(
            "local diffusion unavailable: install requirements-diffusers.txt",
            extra={"error": repr(error)},
        )
        return False
    return True


@dataclass
class LoadedPipeline:
    text_to_image: Any
    # None when IP-Adapter is used (references go through it) or the model has no img2img.
    image_to_image: Any | None
    device: str
    load_seconds: float


def _resolve_device(choice: str) -> str:
    import torch

    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return choice


def load_pipeline(options: DiffusionOptions) -> LoadedPipeline:
    """Load the pipeline from its folder (and the IP-Adapter, if configured). Slow: seconds."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    # Through importlib so that type checking reads diffusers as Any whether it is installed
    # or not: its loaders are untyped, and CI may type-check without the optional install.
    diffusers = importlib.import_module("diffusers")
    started = time.perf_counter()
    device = _resolve_device(options.device)
    # Half precision halves GPU memory; CPUs compute it slowly or not at all.
    dtype = torch.float16 if device == "cuda" else torch.float32
    pipe = diffusers.AutoPipelineForText2Image.from_pretrained(
        options.model_path, dtype=dtype, local_files_only=True
    )
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    image_to_image = None
    if options.uses_ip_adapter:
        pipe.load_ip_adapter(
            options.ip_adapter_path,
            subfolder=options.ip_adapter_subfolder,
            weight_name=options.ip_adapter_weight_name,
            local_files_only=True,
        )
    else:
        try:
            # Shares every component with `pipe`: no second copy of the weights.
            image_to_image = diffusers.AutoPipelineForImage2Image.from_pipe(pipe)
            image_to_image.set_progress_bar_config(disable=True)
        except ValueError as error:
            log.warning("model has no img2img form", extra={"error": repr(error)})
    seconds = time.perf_counter() - started
    log.info(
        "diffusion pipeline loaded",
        extra={
            "model": options.model_path,
            "device": device,
            "ip_adapter": options.uses_ip_adapter,
            "seconds": round(seconds, 2),
        },
    )
    return LoadedPipeline(pipe, image_to_image, device, seconds)


class PipelineSlot:
    """The process's pipeline: loaded on first use, under a lock that also serialises runs."""

    def __init__(self, options: DiffusionOptions) -> None:
        self.options = options
        self._lock = threading.Lock()
        self._loaded: LoadedPipeline | None = None
        self.load_count = 0

    def run(self, work: Callable[[LoadedPipeline, bool], T]) -> T:
        """Call `work(pipeline, loaded_now)` with the pipeline, loading it first if needed."""
        with self._lock:
            loaded_now = self._loaded is None
            if self._loaded is None:
                self._loaded = load_pipeline(self.options)
                self.load_count += 1
            return work(self._loaded, loaded_now)


_current_slot: PipelineSlot | None = None
_current_slot_lock = threading.Lock()


def slot_for(options: DiffusionOptions) -> PipelineSlot:
    """The one slot of this process; new options (settings changed) replace it."""
    global _current_slot
    with _current_slot_lock:
        if _current_slot is None or _current_slot.options != options:
            _current_slot = PipelineSlot(options)
        return _current_slot
