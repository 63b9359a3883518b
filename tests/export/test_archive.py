"""The archive itself, on both backends: what it holds, what a selection lets in, what happens
to a file gone from storage, and that it is handed on in small pieces."""

from __future__ import annotations

import json
import os
import tracemalloc
from datetime import timedelta

import pytest

from core.errors import InvalidInput
from core.export import CHUNK, MAX_IDS, Exports, ExportSelection
from core.modality import Modality
from core.services import Services
from tests.export.conftest import folder, index_rows, make, make_failed, new_user, unzip
from tests.support.clock import FakeClock

EVERYTHING = ExportSelection()


def test_every_file_of_every_generation_and_an_index_row_each(
    services: Services, exports: Exports, clock: FakeClock
) -> None:
    owner = new_user(services)
    first = make(services, owner, "a red kite", data=b"kite bytes", seed=1)
    clock.advance(days=1)
    spoken = make(services, owner, "Hola", modality=Modality.SPEECH, data=b"ID3 hola")
    clock.advance(minutes=1)
    failed = make_failed(services, owner, "a broken lamp")

    archive = unzip(exports.archive(owner, EVERYTHING))

    assert sorted(archive.namelist()) == sorted(
        [
            *(folder(first) + name for name in ("input.json", "record.json", "image/original.png")),
            *(folder(spoken) + name for name in ("input.json", "record.json", "audio/output.mp3")),
            *(folder(failed) + name for name in ("input.json", "record.json")),
            "index.csv",
        ]
    )
    assert archive.read(folder(first) + "image/original.png") == b"kite bytes"
    assert archive.read(folder(spoken) + "audio/output.mp3") == b"ID3 hola"
    assert json.loads(archive.read(folder(first) + "input.json"))["seed"] == 1
    assert json.loads(archive.read(folder(failed) + "record.json"))["status"] == "failed"
    # Media is stored as it is (already compressed); the JSON is deflated.
    assert archive.getinfo(folder(first) + "image/original.png").compress_type == 0
    assert archive.getinfo(folder(first) + "record.json").compress_type == 8

    rows = index_rows(archive)
    assert [r["id"] for r in rows] == [str(first.id), str(spoken.id), str(failed.id)]
    assert rows[0] | {"created": ""} == rows[0] | {
        "created": "",
        "modality": "image",
        "provider": "test-maker",
        "model": "m1",
        "status": "completed",
        "prompt": "a red kite",
        "error": "",
        "folder": folder(first),
        "seed": "1",
        "size": "64x48",
        # A parameter named like a column keeps the name record.json gives it.
        "input.prompt": "a red kite",
    }
    assert rows[0]["created"] == first.created_at.isoformat()
    assert rows[2]["status"] == "failed" and rows[2]["error"]


def test_a_selection_narrows_by_day_kind_and_id(
    services: Services, exports: Exports, clock: FakeClock
) -> None:
    owner = new_user(services)
    made = []
    for day in range(3):
        made.append(make(services, owner, f"day {day}"))
        clock.advance(days=1)
    spoken = make(services, owner, "Hola", modality=Modality.SPEECH)
    second_day = made[1].created_at.date()

    def exported(selection: ExportSelection) -> list[str]:
        ids = [r["id"] for r in index_rows(unzip(exports.archive(owner, selection)))]
        assert exports.count(owner, selection) == len(ids)
        return ids

    assert exported(ExportSelection(first_day=second_day, last_day=second_day)) == [str(made[1].id)]
    assert exported(ExportSelection(first_day=second_day + timedelta(days=1))) == [
        str(made[2].id),
        str(spoken.id),
    ]
    assert exported(ExportSelection(modalities=(Modality.SPEECH,))) == [str(spoken.id)]
    assert exported(ExportSelection(ids=(made[0].id, spoken.id))) == [
        str(made[0].id),
        str(spoken.id),
    ]
    assert exported(ExportSelection(modalities=(Modality.CHAT,))) == []


def test_only_the_owners_generations_go_in_even_when_named(
    services: Services, exports: Exports
) -> None:
    ada, bob = new_user(services, "ada"), new_user(services, "bob")
    hers = make(services, ada, "ada's secret garden")
    his = make(services, bob, "bob's boat")

    everything = unzip(exports.archive(bob, EVERYTHING))
    named = unzip(exports.archive(bob, ExportSelection(ids=(hers.id, his.id))))

    for archive in (everything, named):
        assert [r["id"] for r in index_rows(archive)] == [str(his.id)]
        assert not [n for n in archive.namelist() if str(hers.id) in n and n != "missing.txt"]
    assert "missing.txt" not in everything.namelist()
    assert f"{hers.id}: not among your generations" in named.read("missing.txt").decode()


def test_a_file_gone_from_storage_is_listed_and_the_rest_kept(
    services: Services, exports: Exports
) -> None:
    owner = new_user(services)
    gone = make(services, owner, "a fading photo")
    kept = make(services, owner, "a sharp photo", data=b"sharp")
    assert gone.media_key is not None
    services.objects.delete(gone.bucket, gone.media_key)

    archive = unzip(exports.archive(owner, EVERYTHING))

    assert (folder(gone) + "image/original.png") not in archive.namelist()
    assert (folder(gone) + "record.json") in archive.namelist()
    assert archive.read(folder(kept) + "image/original.png") == b"sharp"
    missing = archive.read("missing.txt").decode()
    assert f"{folder(gone)}image/original.png: not in storage" in missing
    assert sorted(r["id"] for r in index_rows(archive)) == sorted([str(gone.id), str(kept.id)])


@pytest.mark.parametrize("backend", ["embedded"])
def test_cells_that_a_spreadsheet_would_run_are_quoted(
    services: Services, exports: Exports
) -> None:
    owner = new_user(services)
    prompts = ['=HYPERLINK("http://evil.example")', "+1+2", "-3", "@SUM(A1)", "plain words"]
    for prompt in prompts:
        make(services, owner, prompt)

    rows = index_rows(unzip(exports.archive(owner, EVERYTHING)))

    assert sorted(r["prompt"] for r in rows) == sorted(
        ["'" + p for p in prompts[:-1]] + [prompts[-1]]
    )
    assert all(r["input.prompt"] == r["prompt"] for r in rows)


@pytest.mark.parametrize("backend", ["embedded"])
def test_the_archive_is_handed_on_in_pieces_never_whole(
    services: Services, exports: Exports
) -> None:
    owner = new_user(services)
    media = 1024 * 1024
    for number in range(16):
        make(services, owner, f"noise {number}", data=os.urandom(media))

    tracemalloc.start()
    try:
        sizes = [len(piece) for piece in exports.archive(owner, EVERYTHING)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    total = sum(sizes)
    assert total > 16 * media
    # A piece is at most what waits when a member's last piece goes in: about two CHUNKs.
    assert max(sizes) <= 2 * CHUNK + 64 * 1024
    # The few generations read ahead, never the archive.
    assert peak < total / 2


def test_a_selection_refuses_what_it_cannot_export() -> None:
    with pytest.raises(InvalidInput, match="first day"):
        ExportSelection.parse(first_day="2026-11-02", last_day="2026-11-01")
    with pytest.raises(InvalidInput, match=f"at most {MAX_IDS}"):
        ExportSelection(ids=tuple(__import__("uuid").uuid4() for _ in range(MAX_IDS + 1)))
