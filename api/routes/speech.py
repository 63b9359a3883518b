"""Seed 001's speech routes: `POST /tts/generate`, `GET /tts/{id}`, `GET /tts/{id}/download`.

`voice` is the language code and `model` names the provider and its speed as seed 001 does:
`gtts`, `gtts-slow` (Google), `offline`, `offline-slow` (piper, Kokoro or espeak-ng, chosen by
language; `"instant": true` always espeak-ng). The download answers like the image one: a
signed link on S3, the MP3 on the local folder store.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.deps import GeneratingAccount, ReadingAccount, ServicesDep
from api.job_answers import ACCEPTED, Asynchronous, accepted, finished
from api.media import SPEECH_DOWNLOAD_ROUTE, download_answer, download_responses, download_url
from api.schemas.generations import DownloadOut, SpeechGenerateBody, SpeechOut
from core.generation.records import Source
from core.generation.speech import SpeechOrder
from core.modality import Modality

router = APIRouter(prefix="/tts", tags=["speech"])
DOWNLOAD_ROUTE = SPEECH_DOWNLOAD_ROUTE


@router.post("/generate", response_model=SpeechOut, responses=ACCEPTED)
def generate_speech(
    body: SpeechGenerateBody,
    account: GeneratingAccount,
    app: ServicesDep,
    request: Request,
    asynchronous: Asynchronous = False,
) -> SpeechOut | JSONResponse:
    """Seed 001's synchronous answer once the job is done; `?async=true`: 202 and the job."""
    provider, slow = app.speech.provider_for_model(body.model)
    job = app.jobs.submit_speech(
        account.id,
        SpeechOrder(
            text=body.prompt,
            language=body.voice,
            slow=slow,
            provider=provider,
            source=Source.API,
            instant=body.instant,
        ),
    )
    if asynchronous:
        return accepted(app, request, job)
    made = finished(app, request, account.id, [job], SpeechOut)
    return made if isinstance(made, JSONResponse) else made[0]


@router.get("/{audio_id}")
def get_speech(
    audio_id: uuid.UUID, account: ReadingAccount, app: ServicesDep, request: Request
) -> SpeechOut:
    item = app.gallery.open(account.id, audio_id, modality=Modality.SPEECH)
    url = download_url(request, item.signed_url, DOWNLOAD_ROUTE, audio_id=str(audio_id))
    return SpeechOut.of(item.record, url)


@router.get(
    "/{audio_id}/download",
    name=DOWNLOAD_ROUTE,
    response_model=DownloadOut,
    responses=download_responses("audio/mpeg"),
)
def download_speech(
    audio_id: uuid.UUID, account: ReadingAccount, app: ServicesDep
) -> DownloadOut | Response:
    found = app.gallery.download(account.id, audio_id, modality=Modality.SPEECH)
    return download_answer(app, found, f"speech-{audio_id}")
