"""Joining a model's parts, with small part packages installed for real in a folder of their
own (dist-info records and data files, as pip lays them out)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core.providers.chat.assembly import AssemblyError, assemble_model, installed_parts
from core.providers.chat.catalogue import OfflineModel, PartPackages, installed_path

PARTS = [f"<part {index}>".encode() for index in range(1, 13)]
JOINED = b"".join(PARTS)


def install_parts(site: Path, contents: list[bytes], *, skip: int | None = None) -> list[str]:
    """Packages fake-part1..N, each with one data/part<i>.bin; the search path that finds them."""
    for index, content in enumerate(contents, start=1):
        if index == skip:
            continue
        module = f"fake_part{index}"
        # Not zero-padded, so an order by file name would put part10 before part2.
        data = site / module / "data" / f"part{index}.bin"
        data.parent.mkdir(parents=True)
        data.write_bytes(content)
        info = site / f"{module}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fake-part{index}\n")
        (info / "RECORD").write_text(f"{module}/data/part{index}.bin,,\n")
    return [str(site)]


def tiny_model(content: bytes = JOINED, count: int = len(PARTS)) -> OfflineModel:
    return OfflineModel(
        name="tiny-model",
        label="Tiny",
        speed_class="Instant",
        tokens_per_second=1,
        first_token_seconds=1,
        size_bytes=len(content),
        parts=PartPackages("fake-part", count, hashlib.sha256(content).hexdigest()),
    )


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_parts_are_joined_in_package_order_into_a_readable_file(tmp_path: Path) -> None:
    path = install_parts(tmp_path / "site", PARTS)
    models = tmp_path / "models"

    assembled = assemble_model(tiny_model(), models, path)

    assert assembled == models / "tiny-model.gguf"
    assert assembled.read_bytes() == JOINED
    assert assembled.stat().st_mode & 0o777 == 0o644
    assert files_in(models) == ["tiny-model.gguf", "tiny-model.gguf.verified"]
    assert installed_path(tiny_model(), models) == assembled


def test_a_file_joined_before_markers_is_checked_once_and_kept(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "tiny-model.gguf").write_bytes(JOINED)
    assert installed_path(tiny_model(), models) is None
    (tmp_path / "site").mkdir()

    # No parts needed: the file is hashed where it is, then marked.
    assert (
        assemble_model(tiny_model(), models, [str(tmp_path / "site")]) == models / "tiny-model.gguf"
    )
    assert installed_path(tiny_model(), models) == models / "tiny-model.gguf"


def test_a_damaged_file_is_joined_again_from_the_parts(tmp_path: Path) -> None:
    models = tmp_path / "models"
    site = install_parts(tmp_path / "site", PARTS)
    assembled = assemble_model(tiny_model(), models, site)
    assert assembled is not None
    assembled.write_bytes(JOINED.replace(b"<part 3>", b"<part X>"))  # same size
    assert installed_path(tiny_model(), models) is None

    assert assemble_model(tiny_model(), models, site) == assembled
    assert assembled.read_bytes() == JOINED
    assert installed_path(tiny_model(), models) == assembled


def test_a_model_is_assembled_once(tmp_path: Path) -> None:
    site = tmp_path / "site"
    models = tmp_path / "models"
    assembled = assemble_model(tiny_model(), models, install_parts(site, PARTS))
    assert assembled is not None
    (site / "fake_part3" / "data" / "part3.bin").write_bytes(b"<damaged>")

    # The joined file is kept as it is; the parts are not read again.
    assert assemble_model(tiny_model(), models, [str(site)]) == assembled
    assert assembled.read_bytes() == JOINED


def test_a_wrong_total_size_is_refused_before_writing(tmp_path: Path) -> None:
    parts = install_parts(tmp_path / "site", [*PARTS[:-1], b"<short>"])
    models = tmp_path / "models"

    with pytest.raises(AssemblyError, match=r"add up to \d+ bytes, not \d+: a download is inc"):
        assemble_model(tiny_model(), models, parts)
    assert files_in(models) == []


def test_a_wrong_sha256_is_refused_and_leaves_no_file_behind(tmp_path: Path) -> None:
    swapped = [PARTS[1], PARTS[0], *PARTS[2:]]  # the same bytes in the wrong order
    parts = install_parts(tmp_path / "site", swapped)
    models = tmp_path / "models"

    with pytest.raises(AssemblyError, match="do not make the expected file") as refused:
        assemble_model(tiny_model(), models, parts)
    assert "make models" in str(refused.value)
    assert files_in(models) == []


def test_a_missing_part_is_named(tmp_path: Path) -> None:
    parts = install_parts(tmp_path / "site", PARTS, skip=7)
    with pytest.raises(AssemblyError, match=r"not installed \(fake-part7\)"):
        assemble_model(tiny_model(), tmp_path / "models", parts)


def test_a_model_whose_parts_are_not_downloaded_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    assert assemble_model(tiny_model(), tmp_path / "models", [str(tmp_path / "site")]) is None


def test_a_package_that_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_parts(site, PARTS[:2])
    record = site / "fake_part2-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + "fake_part2/data/part99.bin,,\n")
    with pytest.raises(AssemblyError, match="should hold one data/part"):
        installed_parts(PartPackages("fake-part", 2, ""), [str(site)])
