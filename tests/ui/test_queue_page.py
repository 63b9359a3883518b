"""The Queue page through AppTest: cancel a waiting job, try it again, and the admin's view."""

from __future__ import annotations

import uuid

from streamlit.testing.v1 import AppTest

from core.generation.status import Status
from core.jobs.model import JobKind, NewJob
from core.services import Services
from tests.ui.conftest import log_in

PASSWORD = "correct horse 42"


def _button(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def test_cancel_a_waiting_job_then_try_it_again(app: AppTest, app_services: Services) -> None:
    app_services.auth.register("admin@example.com", PASSWORD, ip=None)
    bob = app_services.auth.register("bob@example.com", PASSWORD, ip=None)
    # On a queue no worker listens to, so it waits as long as the test needs.
    request = {"prompt": "A kite that waits", "provider": "sketch"}
    [job] = app_services.queue.store.add(
        bob.id, [NewJob(JobKind.IMAGE, "nobody", request, uuid.uuid4())]
    )
    at = log_in(app, "bob@example.com", PASSWORD).switch_page("../pages/queue.py").run()
    assert "⏳ Waiting" in at.markdown[0].value or any("⏳ Waiting" in m.value for m in at.markdown)

    at = _button(at, "Cancel")

    assert app_services.queue.get(bob.id, job.id).state is Status.CANCELLED
    assert any("🚫 Cancelled" in m.value for m in at.markdown)
    at = _button(at, "Try again")
    jobs = app_services.queue.listing(bob.id)
    assert len(jobs) == 2 and jobs[0].request == request
    assert not at.error, [e.value for e in at.error]


def test_an_admin_sees_everyones_jobs_and_the_counts(app: AppTest, app_services: Services) -> None:
    app_services.auth.register("admin@example.com", PASSWORD, ip=None)
    bob = app_services.auth.register("bob@example.com", PASSWORD, ip=None)
    app_services.queue.store.add(
        bob.id, [NewJob(JobKind.IMAGE, "nobody", {"prompt": "A kite for bob"}, uuid.uuid4())]
    )
    at = log_in(app, "admin@example.com", PASSWORD).switch_page("../pages/queue.py").run()
    assert not any("A kite for bob" in m.value for m in at.markdown)

    at.toggle(key="queue_everyone").set_value(True).run()

    assert any("A kite for bob" in m.value for m in at.markdown)
    pending = next(m for m in at.metric if m.label == "Pending")
    assert pending.value == "1"
