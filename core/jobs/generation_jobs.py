"""Image and speech generations as queued jobs: what is queued, and how a worker makes it.

A job's id is its generation's id, so a job delivered twice (its worker died and the broker or
the heartbeat gave it to another) makes one generation: the second attempt finds the first one's
row, or clears what it left and writes the same keys again.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from core.errors import InvalidInput
from core.generation.image import MAX_SEED, ImageOrder, ImageStudio, PreparedImage
from core.generation.pipeline import Attempt, GenerationPipeline
from core.generation.records import Progress, Source
from core.generation.speech import PreparedSpeech, SpeechOrder, SpeechStudio
from core.jobs.model import Job, JobKind, NewJob
from core.jobs.queue import JobQueue
from core.jobs.runner import JobControl, JobHandler
from core.limits import GenerationLimits
from core.modality import Modality
from core.providers.image.base import ImageRequest
from storage.objects import ObjectStore

MAX_BATCH = 8
MODALITY = {JobKind.IMAGE: Modality.IMAGE, JobKind.SPEECH: Modality.SPEECH}
# Where a pipeline step's message lands on a job's progress bar.
_STEPS = (("Generating", 0.15), ("Saving", 0.9))


class GenerationJobs:
    """Queues generations: checks each order and the limits, then queues one job per item."""

    def __init__(
        self,
        queue: JobQueue,
        images: ImageStudio,
        speech: SpeechStudio,
        limits: GenerationLimits,
        store: ObjectStore,
        *,
        image_bucket: str,
    ) -> None:
        self._queue = queue
        self._images = images
        self._speech = speech
        self._limits = limits
        self._store = store
        self._image_bucket = image_bucket

    # --- queueing ---

    def submit_images(
        self, owner_id: uuid.UUID, order: ImageOrder, *, count: int = 1, vary_seed: bool = False
    ) -> list[Job]:
        """`count` images of one order. `vary_seed` makes them seed, seed + 1, ...; otherwise
        each blank seed is drawn anew and a given seed is kept, so only variations differ."""
        if not 1 <= count <= MAX_BATCH:
            raise InvalidInput(f"Make from 1 to {MAX_BATCH} images at a time.")
        first = self._images.prepare(owner_id, order)
        prepared = [first]
        for index in range(1, count):
            if vary_seed:
                seed = (first.request.seed + index) % (MAX_SEED + 1)
            elif order.seed is None:
                seed = secrets.randbelow(MAX_SEED + 1)
            else:
                seed = first.request.seed
            prepared.append(replace(first, request=replace(first.request, seed=seed)))
        ids = [uuid.uuid4() for _ in prepared]
        reference = self._stage_reference(ids[0], first.request.reference_png)
        queue = self._images.provider(first.provider).job_queue
        return self._submit(
            owner_id,
            [
                NewJob(JobKind.IMAGE, queue, _image_request(p, reference), job_id)
                for p, job_id in zip(prepared, ids, strict=True)
            ],
        )

    def submit_speech(self, owner_id: uuid.UUID, order: SpeechOrder) -> Job:
        prepared = self._speech.prepare(order)
        request = {
            "provider": prepared.provider,
            "text": prepared.text,
            "language": prepared.language,
            "slow": prepared.slow,
            "instant": prepared.instant,
            "source": prepared.source.value,
        }
        queue = self._speech.provider(prepared.provider).job_queue
        return self._submit(owner_id, [NewJob(JobKind.SPEECH, queue, request, uuid.uuid4())])[0]

    def again(self, earlier: Job) -> Job:
        """The same request again, as a new job (same seed, same reference)."""
        again = NewJob(earlier.kind, earlier.queue, earlier.request, uuid.uuid4())
        return self._submit(earlier.owner_id, [again])[0]

    def _submit(self, owner_id: uuid.UUID, jobs: Sequence[NewJob]) -> list[Job]:
        kind = jobs[0].kind
        # Limits and quotas are checked here, for the whole batch, counting what is already
        # queued; the workers do not check them again.
        self._limits.admit(
            owner_id,
            MODALITY[kind],
            count=len(jobs),
            in_flight=lambda: self._queue.store.in_flight(owner_id, kind),
        )
        return self._queue.submit(owner_id, jobs)

    def _stage_reference(self, job_id: uuid.UUID, png: bytes | None) -> str | None:
        """An uploaded reference is stored before its jobs are queued: messages carry ids."""
        if png is None:
            return None
        key = f"jobs/{job_id}/reference.png"
        self._store.put(self._image_bucket, key, png, "image/png")
        return key


class GenerationJobHandlers:
    """Makes a queued generation on a worker, through the studios and the pipeline."""

    def __init__(
        self,
        pipeline: GenerationPipeline,
        images: ImageStudio,
        speech: SpeechStudio,
        store: ObjectStore,
        *,
        image_bucket: str,
    ) -> None:
        self._pipeline = pipeline
        self._images = images
        self._speech = speech
        self._store = store
        self._image_bucket = image_bucket

    def handlers(self) -> Mapping[JobKind, JobHandler]:
        return {JobKind.IMAGE: self._make_image, JobKind.SPEECH: self._make_speech}

    def _make_image(self, job: Job, control: JobControl) -> Sequence[uuid.UUID]:
        attempt = self._attempt(job, control)
        if self._made_before(job, Modality.IMAGE, attempt):
            return [job.id]
        prepared = self._prepared_image(job.request)
        record = self._images.make(
            job.owner_id,
            prepared,
            generation_id=job.id,
            progress=_progress(control),
            attempt=attempt,
        )
        return [record.id]

    def _make_speech(self, job: Job, control: JobControl) -> Sequence[uuid.UUID]:
        attempt = self._attempt(job, control)
        if self._made_before(job, Modality.SPEECH, attempt):
            return [job.id]
        request = job.request
        prepared = PreparedSpeech(
            provider=request["provider"],
            text=request["text"],
            language=request["language"],
            slow=bool(request["slow"]),
            source=Source(request["source"]),
            # Absent from the jobs queued before the choice existed.
            instant=bool(request.get("instant", False)),
        )
        record = self._speech.make(
            job.owner_id,
            prepared,
            generation_id=job.id,
            progress=_progress(control),
            attempt=attempt,
        )
        return [record.id]

    def _made_before(self, job: Job, modality: Modality, attempt: Attempt) -> bool:
        # Only a job given to a worker before can have left anything behind.
        return job.attempts > 1 and self._pipeline.settle_earlier_attempt(
            job.owner_id, job.id, modality, attempt
        )

    def _attempt(self, job: Job, control: JobControl) -> Attempt:
        started = job.started_at or job.created_at
        return Attempt(started_at=started, cancelled=control.cancelled)

    def _prepared_image(self, request: Mapping[str, Any]) -> PreparedImage:
        reference_key = request.get("referenceKey")
        reference = (
            self._store.get(self._image_bucket, reference_key).data if reference_key else None
        )
        return PreparedImage(
            provider=request["provider"],
            request=ImageRequest(
                prompt=request["prompt"],
                width=int(request["width"]),
                height=int(request["height"]),
                seed=int(request["seed"]),
                model=request["model"],
                style=request.get("style"),
                reference_png=reference,
            ),
            reference=request.get("reference"),
            source=Source(request["source"]),
        )


def _image_request(prepared: PreparedImage, reference_key: str | None) -> dict[str, Any]:
    request = prepared.request
    return {
        "provider": prepared.provider,
        "prompt": request.prompt,
        "width": request.width,
        "height": request.height,
        "seed": request.seed,
        "model": request.model,
        "style": request.style,
        "reference": prepared.reference,
        "referenceKey": reference_key,
        "source": prepared.source.value,
    }


def _progress(control: JobControl) -> Progress:
    def say(message: str) -> None:
        fraction = next((f for word, f in _STEPS if message.startswith(word)), 0.5)
        control.report(fraction, message)

    return say
