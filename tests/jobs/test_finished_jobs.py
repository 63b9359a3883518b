"""A waiter hears of every job end announced after it looked, even one that came before it
started waiting: missing it would leave a synchronous API call asleep for a whole poll."""

import threading

from core.jobs.notices import FinishedJobs


def test_an_end_announced_between_the_look_and_the_wait_is_not_missed() -> None:
    finished = FinishedJobs()
    seen = finished.mark()
    finished.announce()

    assert finished.wait(seen, 30.0) is True


def test_a_wait_with_nothing_announced_runs_out() -> None:
    finished = FinishedJobs()

    assert finished.wait(finished.mark(), 0.01) is False


def test_an_end_announced_while_waiting_wakes_the_waiter() -> None:
    finished = FinishedJobs()
    seen = finished.mark()
    woken: list[bool] = []
    waiter = threading.Thread(target=lambda: woken.append(finished.wait(seen, 30.0)))
    waiter.start()
    finished.announce()
    waiter.join()

    assert woken == [True]
