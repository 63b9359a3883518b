"""Live job cards: where each queued generation stands, and what it made once done.

They read the jobs table, not the session, so they survive a reload and a page switch. While
any shown job is still queued or running, the cards are a fragment that refreshes itself; once
all have ended, one full rerun puts the page back to rest (no timer left running).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import streamlit as st

from core.auth.account import Account
from core.generation.status import Status
from core.imports.reasons import PLAIN_WORDS, FailureReason
from core.jobs.generation_jobs import MODALITY
from core.jobs.model import Job, JobKind
from core.modality import Modality
from core.runtime import services
from ui.feedback import user_errors
from ui.media import human_size, show_media, show_signed_url
from ui.text import escape_markdown

REFRESH_SECONDS = 1.0
_STATE_LABELS = {
    Status.PENDING: "⏳ Waiting",
    Status.RUNNING: "⚙️ Running",
    Status.COMPLETED: "✅ Done",
    Status.FAILED: "❌ Failed",
    Status.CANCELLED: "🚫 Cancelled",
}


def job_cards(account: Account, kind: JobKind, *, limit: int = 4) -> None:
    """The user's latest jobs of one kind, newest first, with their results."""

    def fetch() -> list[Job]:
        return services().queue.listing(account.id, kinds=[kind], limit=limit)

    def draw(jobs: list[Job]) -> None:
        if jobs:
            st.subheader("Your latest")
        for job in jobs:
            job_card(account, job, show_result=True)

    live_jobs(fetch, draw)


def live_jobs(fetch: Callable[[], list[Job]], draw: Callable[[list[Job]], None]) -> None:
    """Draw jobs; while any is queued or running, as a fragment that redraws itself."""
    jobs = fetch()
    if any(job.is_active for job in jobs):
        _live(fetch, draw)
    else:
        draw(jobs)


@st.fragment(run_every=REFRESH_SECONDS)
def _live(fetch: Callable[[], list[Job]], draw: Callable[[list[Job]], None]) -> None:
    jobs = fetch()
    draw(jobs)
    if not any(job.is_active for job in jobs):
        # Everything ended: one rerun of the page leaves it with no timer running.
        st.rerun()


def job_card(account: Account, job: Job, *, show_result: bool) -> None:
    with st.container(border=True, key=f"job-{job.id}"):
        st.markdown(f"**{_STATE_LABELS[job.state]}** · {escape_markdown(describe(job))}")
        if job.state is Status.PENDING:
            ahead = job.position or 0
            st.caption("Next in line." if ahead == 0 else f"{ahead} job{'s' * (ahead != 1)} ahead.")
        if job.is_active:
            st.progress(job.progress, text=job.progress_message)
        if job.kind is JobKind.IMPORT and job.summary:
            import_counts(job)
        if job.state is Status.FAILED:
            st.error(job.error or "It failed.", icon="⚠️")
        if job.state is Status.CANCELLED:
            st.caption(job.progress_message)
        if job.state is Status.COMPLETED and show_result and job.kind in MODALITY:
            for generation_id in job.generation_ids:
                _result(job.owner_id, MODALITY[job.kind], generation_id)
        _actions(account, job)


def describe(job: Job) -> str:
    """A line that says which job this is: its prompt or text, shortened."""
    if job.kind is JobKind.IMPORT:
        plan = job.request["plan"]
        images = sum(len(document["images"]) for document in plan["documents"])
        return f"Import into “{plan['collection']}” · {images} image{'s' * (images != 1)}"
    words = str(job.request.get("prompt") or job.request.get("text") or "")
    return words if len(words) <= 80 else words[:79] + "…"


def import_counts(job: Job) -> None:
    """An import's counts: overall, per domain, and its failures by reason."""
    summary = job.summary or {}
    done, failed, total = summary["done"], summary["failed"], summary["total"]
    duplicates = (
        f" ({summary['duplicates']} already in your library)" if summary["duplicates"] else ""
    )
    st.markdown(
        f"**{done}** of {total} imported{duplicates} · **{failed}** failed · "
        f"{human_size(summary['bytes'])}"
    )
    # Keyed: the card's layout changes when the import ends, and an open breakdown stays open.
    with st.expander("Per domain and failures", key=f"import-details-{job.id}"):
        st.dataframe(
            [
                {"domain": domain, "done": c["done"], "failed": c["failed"], "now": c["inFlight"]}
                for domain, c in summary["domains"].items()
            ],
            hide_index=True,
        )
        for reason, count in summary["reasons"].items():
            st.caption(f"{count} × {PLAIN_WORDS[FailureReason(reason)]}")


def _actions(account: Account, job: Job) -> None:
    app = services()
    actions: list[tuple[str, Callable[[], Any]]] = []
    whose = None if account.is_admin else account.id
    if job.can_cancel:
        actions.append(("Cancel", lambda: app.queue.cancel(whose, job.id)))
    if job.can_retry and job.owner_id == account.id:
        actions.append(("Try again", lambda: app.retries.retry(account.id, job.id)))
    if not actions:
        return
    for column, (label, act) in zip(st.columns(len(actions) + 3), actions, strict=False):
        if column.button(label, key=f"{label}-{job.id}"):
            with user_errors():
                act()
                st.rerun()


def _result(owner_id: uuid.UUID, modality: Modality, generation_id: uuid.UUID) -> None:
    app = services()
    with user_errors():
        item = app.gallery.open(owner_id, generation_id, modality=modality)
        meta = item.record.get("meta", {})
        data = app.gallery.media(owner_id, generation_id, item.entry.media_key)
        show_media(
            modality,
            data,
            item.entry.content_type,
            name=f"{modality.value}-{generation_id}",
            key=str(generation_id),
        )
        st.caption(_result_line(modality, meta))
        show_signed_url(item.signed_url)


def _result_line(modality: Modality, meta: dict[str, Any]) -> str:
    made = f"{human_size(meta.get('sizeBytes'))} · made in {meta.get('latencyMs')} ms"
    if modality is Modality.SPEECH:
        return (
            f"Spoken by **{meta.get('spokenBy', meta.get('provider'))}** · "
            f"{meta.get('durationSeconds', 0):.1f} s · "
            f"{'slow' if meta.get('slow') else 'normal'} speed · {made}"
        )
    return (
        f"**{meta.get('engine', meta.get('provider'))}** · model {meta.get('model')} · "
        f"{meta.get('size')} · seed {meta.get('seed')} · "
        f"style {meta.get('style') or 'none'} · {made}"
    )
