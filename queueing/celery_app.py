"""One Celery app configuration, shared by the senders and the workers."""

from __future__ import annotations

from celery import Celery

from core.config import Settings

# The only task: "there is work in this queue". The job to run is chosen by the worker from the
# jobs table (fairly between users), so a message carries ids only.
RUN_JOBS = "atelier.jobs.run"
# A broker that does not answer must be said at once to whoever queued, not after minutes.
_CONNECT_TIMEOUT_SECONDS = 3


def celery_app(settings: Settings) -> Celery:
    app = Celery("atelier", broker=settings.celery_broker_url, set_as_current=False)
    app.conf.update(
        # A job is acknowledged once it has ended, so a worker that dies mid-job (kill -9,
        # lost node) leaves its message to be delivered again; the jobs table makes the
        # second delivery harmless.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message at a time per worker slot: a slot never holds work another could do.
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue="cpu",
        broker_connection_timeout=_CONNECT_TIMEOUT_SECONDS,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.celery_visibility_timeout_seconds,
            "socket_connect_timeout": _CONNECT_TIMEOUT_SECONDS,
            "socket_timeout": _CONNECT_TIMEOUT_SECONDS * 2,
            # Publishing: one quick second try, not kombu's default of seconds of retries
            # (the worker's own connection retries are broker_connection_retry's).
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.2,
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
    )
    return app
