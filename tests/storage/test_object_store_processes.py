"""The folder store's conditional writes hold across processes, not only across threads.

A web process and a worker process on one machine share the folder; both append to the same
history day file through the compare-and-swap loop of `HistoryIndex`, and no line may be lost.
"""

from __future__ import annotations

import multiprocessing
import uuid
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path

from core.history import HistoryIndex, IndexEntry, index_key
from core.modality import Modality
from storage.objects import LocalObjectStore

BUCKET = "atelier-image"
USER = uuid.UUID("00000000-0000-0000-0000-00000000a11c")
DAY = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
WRITERS = 2
# Enough for the test to fail every time with the file lock made a no-op (checked: 3 to 43 of
# 1,000 lines lost over ten runs), still about a second.
LINES_PER_WRITER = 500


def _entry_id(writer: int, number: int) -> uuid.UUID:
    return uuid.uuid5(USER, f"{writer}-{number}")


def _append_lines(root: str, writer: int, start: Barrier) -> None:
    """Runs in a child process: one store and one index of its own, as a worker would have."""
    index = HistoryIndex(LocalObjectStore(Path(root)), lambda _modality: BUCKET)
    start.wait()
    try:
        for number in range(LINES_PER_WRITER):
            entry_id = _entry_id(writer, number)
            index.append(
                USER,
                IndexEntry(
                    id=entry_id,
                    created_at=DAY,
                    modality=Modality.IMAGE,
                    provider="test",
                    model="test",
                    prompt=f"writer {writer} line {number}",
                    media_key=f"requests/2026/11/22/{entry_id}/original.png",
                    record_key=f"requests/2026/11/22/{entry_id}/record.json",
                    content_type="image/png",
                ),
            )
    finally:
        index.close()


def test_two_processes_appending_to_one_index_lose_no_line(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    store.ensure_buckets([BUCKET])
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WRITERS)
    writers = [
        context.Process(target=_append_lines, args=(str(store.root), writer, start))
        for writer in range(WRITERS)
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=60)
    for process in writers:
        if process.is_alive():
            process.kill()
    assert [process.exitcode for process in writers] == [0] * WRITERS

    body = store.get(BUCKET, index_key(USER, Modality.IMAGE, DAY.date())).data
    ids = [IndexEntry.from_line(line).id for line in body.splitlines()]
    expected = {
        _entry_id(writer, number) for writer in range(WRITERS) for number in range(LINES_PER_WRITER)
    }
    assert len(ids) == len(set(ids)), "a line was written twice"
    assert len(expected - set(ids)) == 0, f"{len(expected - set(ids))} lines were lost"
    # The lock files stay outside every bucket: listing the bucket shows the index only.
    assert [info.key for info in store.list_objects(BUCKET, "")] == [
        index_key(USER, Modality.IMAGE, DAY.date())
    ]
