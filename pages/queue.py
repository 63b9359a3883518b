"""Queue: my jobs with their state and progress; cancel what waits or runs, retry what failed.
Administrators also see everyone's, with counts per state and per worker."""

import streamlit as st

from core.generation.status import Status
from core.jobs.model import Job
from core.runtime import services
from ui.feedback import user_errors
from ui.jobs import job_card, live_jobs
from ui.session import current_account

account = current_account()
app = services()
SHOWN = 50

st.title("⏳ Queue")
st.caption(
    "Image and speech generations wait here for a worker. Each user's jobs take turns with "
    "everyone else's, so a big batch never holds others back."
)

everyone = account.is_admin and st.toggle("Everyone's jobs", key="queue_everyone")
states = st.multiselect(
    "State",
    list(Status),
    format_func=lambda state: state.value,
    key="queue_states",
    placeholder="Any state",
)


def _jobs() -> list[Job]:
    return app.queue.listing(None if everyone else account.id, states=states, limit=SHOWN)


def _draw(jobs: list[Job]) -> None:
    with user_errors():
        if everyone:
            _counts()
        if not jobs:
            st.info("No jobs here. What you queue in the studios shows up here.", icon="⏳")
            return
        for job in jobs:
            job_card(account, job, show_result=False)
        if len(jobs) == SHOWN:
            st.caption(f"The newest {SHOWN} are shown.")


def _counts() -> None:
    counts = app.queue.counts()
    columns = st.columns(len(Status))
    for column, state in zip(columns, Status, strict=True):
        column.metric(state.value.capitalize(), counts.total(state))
    if counts.workers:
        st.dataframe(
            [
                {
                    "worker": worker.id,
                    "queues": ", ".join(worker.queues),
                    "running": worker.running,
                    "engines": ", ".join(worker.engines),
                    "last seen": worker.seen_at,
                }
                for worker in counts.workers
            ],
            hide_index=True,
        )
    else:
        st.warning("No worker has reported in: queued jobs wait until one starts.", icon="⚠️")


with user_errors():
    live_jobs(_jobs, _draw)
