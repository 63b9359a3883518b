"""Optional offline models as the app finds them, without their gigabytes."""

from __future__ import annotations

from pathlib import Path

from core.providers.chat.catalogue import OfflineModel, write_marker


def install_fake(models_dir: Path, model: OfflineModel) -> Path:
    """A file where `make models` puts the model, of its size but holding nothing (sparse),
    marked as the assembly marks a file it checked: enough to be offered, never to be loaded."""
    assert model.parts is not None, f"{model.name} ships whole, there is nothing to install"
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / model.file_name
    with path.open("wb") as file:
        file.truncate(model.size_bytes)
    write_marker(path, model.parts.sha256)
    return path
