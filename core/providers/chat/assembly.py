"""Joining a model's byte parts into its GGUF file, all or nothing.

The parts are joined into a temporary file next to the target while they are hashed; the
file is renamed into place only when its size and sha256 are the pinned ones, so an
interrupted or corrupt download never leaves a file that looks installed. A marker written
beside it then records the checked file's size and modification time, which is all the app
compares when it starts (`core.providers.chat.catalogue.is_verified`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from core.errors import AtelierError
from core.providers.chat.catalogue import (
    OfflineModel,
    PartPackages,
    installed_path,
    write_marker,
)

_CHUNK_BYTES = 1 << 20
INSTALL_HINT = "run `make models` again"


class AssemblyError(AtelierError):
    """The parts cannot make the pinned file; the message says what to do."""


def assemble_model(
    model: OfflineModel, models_dir: Path, search_path: Sequence[str] | None = None
) -> Path | None:
    """The model's file, joined from its parts unless that was done before; None when its
    parts are not installed."""
    assert model.parts is not None, f"{model.name} ships whole, it has no parts"
    if (path := installed_path(model, models_dir)) is not None:
        return path
    target = models_dir / model.file_name
    if _verify_in_place(target, model.size_bytes, model.parts.sha256):
        return target
    parts = installed_parts(model.parts, search_path)
    if not parts:
        return None
    assemble(parts, target, size_bytes=model.size_bytes, sha256=model.parts.sha256)
    return target


def _verify_in_place(target: Path, size_bytes: int, sha256: str) -> bool:
    """Mark a file already there (joined before markers existed, or touched since) when it
    still hashes right: one hash instead of a new join, and it works with the parts gone."""
    if not target.is_file() or target.stat().st_size != size_bytes:
        return False
    digest = hashlib.sha256()
    with target.open("rb") as joined:
        while chunk := joined.read(_CHUNK_BYTES):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        return False
    write_marker(target, sha256)
    return True


def installed_parts(parts: PartPackages, search_path: Sequence[str] | None = None) -> list[Path]:
    """The part files in join order (package 1, 2, ... 10, not by name), or [] when none of
    the packages is installed; `search_path` replaces sys.path, for tests."""
    found = [_part_file(name, search_path) for name in parts.names()]
    missing = [name for name, path in zip(parts.names(), found, strict=True) if path is None]
    if len(missing) == len(found):
        return []
    if missing:
        raise AssemblyError(f"Some parts are not installed ({', '.join(missing)}): {INSTALL_HINT}.")
    return [path for path in found if path is not None]


def assemble(parts: Sequence[Path], target: Path, *, size_bytes: int, sha256: str) -> None:
    """Join `parts` in the order given into `target`, or leave no new file at all."""
    total = sum(part.stat().st_size for part in parts)
    if total != size_bytes:
        # Found before writing a gigabyte: a part is short or one is missing.
        raise AssemblyError(
            f"The parts of {target.name} add up to {total:,} bytes, not {size_bytes:,}: "
            f"a download is incomplete; {INSTALL_HINT}."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as joined:
            for part in parts:
                with part.open("rb") as piece:
                    while chunk := piece.read(_CHUNK_BYTES):
                        digest.update(chunk)
                        joined.write(chunk)
            joined.flush()
            # On disk before the rename, so a crash cannot leave a short file under the name.
            os.fsync(joined.fileno())
        if digest.hexdigest() != sha256:
            raise AssemblyError(
                f"The parts of {target.name} do not make the expected file (sha256 "
                f"{digest.hexdigest()[:12]}…, expected {sha256[:12]}…): a part is damaged or "
                f"was republished; reinstall the parts ({INSTALL_HINT})."
            )
        # mkstemp makes the file private; a model is as readable as any installed package.
        temporary.chmod(0o644)
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    write_marker(target, sha256)


def _part_file(package: str, search_path: Sequence[str] | None) -> Path | None:
    path = sys.path if search_path is None else list(search_path)
    distribution = next(iter(importlib.metadata.distributions(name=package, path=path)), None)
    if distribution is None:
        return None
    data = [
        file
        for file in distribution.files or []
        if file.parent.name == "data" and file.name.startswith("part") and file.suffix == ".bin"
    ]
    if len(data) != 1:
        raise AssemblyError(
            f"{package} should hold one data/part*.bin file and holds {len(data)}: "
            f"it is not the package this app pins; {INSTALL_HINT}."
        )
    return Path(str(data[0].locate()))
