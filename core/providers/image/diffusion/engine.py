"""The local diffusers engine: text-to-image with weights the user provides.

A reference image is used in one of two documented ways:
- with IP-Adapter configured (IMAGE_DIFFUSERS_IP_ADAPTER_PATH), as an image prompt at
  IMAGE_DIFFUSERS_IP_ADAPTER_SCALE: the picture borrows the reference's look and subject;
- without it, through img2img at IMAGE_DIFFUSERS_REFERENCE_STRENGTH: the picture starts from
  the (cover-cropped) reference, so it keeps its layout and colours.
With IP-Adapter loaded, a request without a reference runs at adapter scale 0 on a neutral
grey image: diffusers needs an image once an adapter is in the UNet, and scale 0 removes it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PIL import Image, ImageOps

from core.errors import InvalidInput, ProviderError
from core.providers.image.base import ImageRequest, ImageResult
from core.providers.image.checks import check_request, decode_reference
from core.providers.image.decoding import encode_png
from core.providers.image.diffusion.pipeline import (
    DiffusionOptions,
    LoadedPipeline,
    missing_pipeline_reason,
    slot_for,
)
from core.providers.image.sizes import SizeLimits
from core.providers.image.styles import styled_prompt

log = logging.getLogger(__name__)

NEUTRAL_REFERENCE_SIZE = (224, 224)


class DiffusersProvider:
    name = "diffusers"
    label = "Local diffusion model"
    is_ai = True
    # Loaded once per GPU worker (seed 004's singleton), never in a web process.
    job_queue = "gpu"
    # The UNet halves the latent three times and the VAE shrinks by 8: sides in steps of 64.
    size_limits = SizeLimits(minimum=64, maximum=1024, multiple=64)

    def __init__(self, options: DiffusionOptions) -> None:
        self._options = options

    def close(self) -> None:
        """Nothing to release: the loaded pipeline belongs to the process (`slot_for`)."""

    def models(self) -> list[str]:
        return [self._options.model_name]

    def generate(self, request: ImageRequest) -> ImageResult:
        check_request(request, self.size_limits)
        if request.model != self._options.model_name:
            raise InvalidInput(
                f"The local engine runs {self._options.model_name}; not {request.model!r}."
            )
        problem = missing_pipeline_reason(self._options.model_path)
        if problem:
            raise ProviderError(f"The local image model is not set up: {problem}.")
        reference = decode_reference(request.reference_png) if request.reference_png else None
        prompt = styled_prompt(request.prompt, request.style)

        def work(loaded: LoadedPipeline, loaded_now: bool) -> ImageResult:
            return self._run(loaded, loaded_now, request, prompt, reference)

        try:
            return slot_for(self._options).run(work)
        except (ProviderError, InvalidInput):
            raise
        except Exception as error:
            # torch and diffusers raise many unrelated types; each becomes one plain message.
            raise _plain_failure(error) from error

    def _run(
        self,
        loaded: LoadedPipeline,
        loaded_now: bool,
        request: ImageRequest,
        prompt: str,
        reference: Image.Image | None,
    ) -> ImageResult:
        import torch

        options = self._options
        size = (request.width, request.height)
        arguments: dict[str, Any] = {
            "prompt": prompt,
            "num_inference_steps": options.steps,
            "guidance_scale": options.guidance,
            # A CPU generator gives the same picture for a seed on any device.
            "generator": torch.Generator(device="cpu").manual_seed(request.seed),
            "output_type": "pil",
        }
        if options.uses_ip_adapter:
            mode = "ip-adapter" if reference else "none"
            loaded.text_to_image.set_ip_adapter_scale(options.ip_adapter_scale if reference else 0)
            arguments["ip_adapter_image"] = reference or Image.new(
                "RGB", NEUTRAL_REFERENCE_SIZE, (128, 128, 128)
            )
            pipe = loaded.text_to_image
            arguments |= {"width": size[0], "height": size[1]}
        elif reference is not None:
            if loaded.image_to_image is None:
                raise InvalidInput(
                    "This local model cannot start from a reference image. Remove the reference, "
                    "or configure IMAGE_DIFFUSERS_IP_ADAPTER_PATH."
                )
            mode = "img2img"
            pipe = loaded.image_to_image
            arguments |= {
                "image": ImageOps.fit(reference, size, Image.Resampling.LANCZOS),
                "strength": options.reference_strength,
            }
        else:
            mode = "none"
            pipe = loaded.text_to_image
            arguments |= {"width": size[0], "height": size[1]}

        started = time.perf_counter()
        with torch.inference_mode():
            output = pipe(**arguments)
        seconds = time.perf_counter() - started
        if any(getattr(output, "nsfw_content_detected", None) or []):
            raise ProviderError(
                "The local model's safety checker blocked this image. Change the prompt."
            )
        image: Image.Image = output.images[0]
        log.info(
            "diffusion image drawn",
            extra={"size": f"{image.width}x{image.height}", "seconds": round(seconds, 2)},
        )
        return ImageResult(
            png=encode_png(image),
            width=image.width,
            height=image.height,
            model=options.model_name,
            details={
                "prompt_sent": prompt,
                "steps": options.steps,
                "guidance": options.guidance,
                "device": loaded.device,
                "reference_mode": mode,
                "generation_seconds": round(seconds, 3),
                **({"load_seconds": round(loaded.load_seconds, 3)} if loaded_now else {}),
            },
        )


def _plain_failure(error: Exception) -> ProviderError:
    name = type(error).__name__
    if name == "OutOfMemoryError":
        return ProviderError(
            "The local model ran out of GPU memory. Try a smaller size.", retryable=True
        )
    log.exception("local diffusion failed")
    return ProviderError(f"The local image model failed: {name}: {error}")
