"""The embedded SQLite database: writers queue for the one write lock, readers do not."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from storage.db import create_db_engine, create_session_factory, reading, transaction
from storage.migrate import upgrade_to_head
from storage.models import User


def test_a_reader_is_not_held_up_by_a_writer_holding_the_lock(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'atelier.db'}")
    upgrade_to_head(engine)
    sessions = create_session_factory(engine)
    writing, read_done = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with transaction(sessions) as db:
            db.add(User(email="ada@example.com", password_hash="x"))
            db.flush()
            writing.set()
            # Stays open until the reader has finished: a reader that needed the write lock
            # would wait for the busy timeout and fail.
            read_done.wait(timeout=60)

    writer = threading.Thread(target=hold_the_write_lock)
    writer.start()
    assert writing.wait(timeout=30)
    try:
        with reading(sessions) as db:
            # The writer's row is not committed yet: the reader sees the snapshot before it.
            assert db.scalar(select(func.count()).select_from(User)) == 0
    finally:
        read_done.set()
        writer.join()
    with reading(sessions) as db:
        assert db.scalar(select(func.count()).select_from(User)) == 1
    engine.dispose()
