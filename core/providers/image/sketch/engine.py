"""The offline sketch: a deterministic, clearly labelled non-AI picture from prompt and seed.

No model and no network: the prompt's nouns choose what is drawn (composition.py: a sky, land
layers, a subject, weather; or a portrait), its colour and mood words the colours (palette.py);
the seed varies the placement, the style picks a finishing treatment (treatments.py). The same
request gives byte-identical PNG bytes (on the same Pillow and numpy); the style changes only
the rendering, never the composition, and the size only scales the picture, so a 256 preview
and a 1024 final show the same scene.

A reference image, when given, does two documented things: its most common colourful hues
replace the prompt's colours, and a softened, cover-cropped copy of it shows through the
finished sketch at 30 % opacity.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

from core.errors import InvalidInput
from core.providers.image.base import ImageRequest, ImageResult
from core.providers.image.checks import check_request, decode_reference
from core.providers.image.decoding import encode_png
from core.providers.image.sizes import SizeLimits
from core.providers.image.sketch.canvas import Canvas
from core.providers.image.sketch.composition import compose
from core.providers.image.sketch.finish import blend_reference, draw_label
from core.providers.image.sketch.palette import build_palette, reference_hues, words_of
from core.providers.image.sketch.scene import draw_scene
from core.providers.image.sketch.treatments import apply_treatment
from core.providers.image.styles import STYLES, Style, Treatment

log = logging.getLogger(__name__)

# The version is part of the model name: a replay of an old record must not silently change.
# sketch-v1 (one scene per prompt) is gone: its records replay as a refusal naming this one.
MODEL = "sketch-v2"
# Shapes are drawn at twice the size and scaled down: Pillow does not antialias polygons.
SUPERSAMPLING = 2
# A style named in the prompt ("a street in the rain, watercolor") is drawn when none was
# chosen, as an AI engine would read it from the prompt.
PROMPT_STYLES: dict[str, str] = {
    "photo": "photo", "photograph": "photo", "photorealistic": "photo",
    "cinematic": "cinematic", "anime": "anime", "manga": "anime",
    "watercolor": "watercolor", "watercolour": "watercolor", "oil": "oil-painting",
    "ink": "line-art", "lineart": "line-art", "pixel": "pixel-art", "pixelart": "pixel-art",
    "3d": "3d-render", "clay": "3d-render",
}  # fmt: skip


@dataclass(frozen=True)
class Sketch:
    image: Image.Image
    scene: str
    palette: list[str]
    treatment: Treatment


def style_to_draw(words: list[str], chosen: Style | None) -> Style | None:
    """The chosen style, else the first one the prompt names, else none."""
    named = next((PROMPT_STYLES[word] for word in words if word in PROMPT_STYLES), None)
    return chosen or (STYLES[named] if named else None)


def render_sketch(
    prompt: str,
    seed: int,
    size: tuple[int, int],
    style: Style | None = None,
    reference: Image.Image | None = None,
) -> Sketch:
    # The style is not part of the seed's material: one seed is one composition in every style.
    material = f"{MODEL}\n{prompt.strip()}\n{seed}"
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(material.encode()).digest()))
    words = words_of(prompt)
    composition = compose(words, rng)
    hues = reference_hues(reference) if reference else ()
    palette = build_palette(words, rng, hues, composition.natural_hue)
    drawn_style = style_to_draw(words, style)

    width, height = size
    canvas = Canvas.create((width * SUPERSAMPLING, height * SUPERSAMPLING), rng, palette)
    draw_scene(canvas, composition, words)
    image = canvas.image.reduce(SUPERSAMPLING)
    treatment = drawn_style.treatment if drawn_style else "plain"
    image = apply_treatment(image, treatment, palette, rng)
    if reference is not None:
        image = blend_reference(image, reference)
    draw_label(image)
    return Sketch(image, composition.describe(), palette.hex_codes(), treatment)


class SketchProvider:
    name = "sketch"
    label = "Offline sketch (not AI)"
    is_ai = False
    job_queue = "cpu"
    size_limits = SizeLimits(minimum=64, maximum=1536, multiple=8)

    def close(self) -> None:
        """Nothing to release: it draws in memory."""

    def models(self) -> list[str]:
        return [MODEL]

    def generate(self, request: ImageRequest) -> ImageResult:
        style = check_request(request, self.size_limits)
        if request.model != MODEL:
            raise InvalidInput(f"The offline sketch has one model, {MODEL}; not {request.model!r}.")
        reference = decode_reference(request.reference_png) if request.reference_png else None
        started = time.perf_counter()
        sketch = render_sketch(
            request.prompt, request.seed, (request.width, request.height), style, reference
        )
        png = encode_png(sketch.image)
        log.info(
            "sketch drawn",
            extra={
                "scene": sketch.scene,
                "size": f"{request.width}x{request.height}",
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return ImageResult(
            png=png,
            width=sketch.image.width,
            height=sketch.image.height,
            model=MODEL,
            details={
                "engine": "offline sketch",
                "ai": False,
                "note": "Drawn by Atelier's offline sketch engine from the prompt's words and "
                "the seed; not an AI image.",
                "scene": sketch.scene,
                "palette": sketch.palette,
                "style_treatment": sketch.treatment,
                "reference": "colours and 30% blend" if reference else "none",
            },
        )
