"""The database or the object store goes away in the middle of a batch of concurrent
generations and comes back (issue 12): every generation ends completed or failed with a plain
message, the stores agree afterwards, and every user's Gallery and Home still render."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import core.runtime
from core.errors import StorageUnavailable
from core.generation.records import UNEXPECTED_FAILURE
from storage.db import DATABASE_UNAVAILABLE
from tests.hardening.entry_points import PASSWORD
from tests.hardening.outages import DOWN, WAVES, Outage, Stack, open_stack, own_stores, run_batch
from tests.support.consistency import disagreements
from tests.support.pg_cluster import PostgresCluster
from tests.support.seaweedfs import SeaweedFS
from tests.ui.conftest import APP, log_in


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PostgresCluster, SeaweedFS]]:
    with own_stores(tmp_path_factory.mktemp("stores")) as both:
        yield both


@pytest.fixture
def stack(stores: tuple[PostgresCluster, SeaweedFS], tmp_path: Path) -> Iterator[Stack]:
    with open_stack(tmp_path, *stores) as built:
        yield built


def test_the_database_going_down_mid_batch(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    _survives(stack, stack.database_outage(), monkeypatch)


def test_the_object_store_going_down_mid_batch(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    _survives(stack, stack.object_store_outage(), monkeypatch)


def test_a_stopped_database_is_said_in_plain_words_then_found_again(stack: Stack) -> None:
    stack.cluster.stop("immediate")
    try:
        with pytest.raises(StorageUnavailable, match=DATABASE_UNAVAILABLE):
            stack.services.auth.login(stack.emails[0], PASSWORD, ip=None)
    finally:
        stack.cluster.start()
    # The pool's connections died with the server: they are replaced, nothing to restart.
    signed_in = stack.services.auth.login(stack.emails[0], PASSWORD, ip=None)
    assert signed_in.account.id == stack.users[0]


def _survives(stack: Stack, outage: Outage, monkeypatch: pytest.MonkeyPatch) -> None:
    batch = run_batch(stack, outage)

    assert not batch.crashed, "\n".join(
        "".join(traceback.format_exception(o.crash)) for o in batch.crashed if o.crash
    )
    assert len(batch.completed) + len(batch.failed) == sum(WAVES)
    for outcome in batch.failed:
        assert outcome.failure and outcome.failure.strip() != UNEXPECTED_FAILURE
    assert all(o.failure for o in batch.outcomes if o.wave == DOWN), outage.name
    # Back by itself: nothing was restarted but the store.
    assert all(o.generation_id for o in batch.outcomes if o.wave == DOWN + 1)
    assert disagreements(stack.services) == []
    monkeypatch.setattr(core.runtime, "_services", stack.services)
    for email, user in zip(stack.emails, stack.users, strict=True):
        kept = sum(1 for o in batch.completed if o.user == user)
        _renders(email, kept)


def _renders(email: str, kept: int) -> None:
    """Both pages show the user's kept generations and no error; the gallery a page of them,
    Home the last four."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    log_in(at, email, PASSWORD)
    for page, shown in (("gallery", 24), ("home", 4)):
        at.switch_page(f"../pages/{page}.py").run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        cards = [b for b in at.button if b.label.startswith("Open “")]
        assert len(cards) == min(kept, shown), (page, email)
