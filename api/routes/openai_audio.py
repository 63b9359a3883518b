"""`POST /v1/audio/speech`: OpenAI's text to speech, through `SpeechStudio`; raw audio back.

Models and voices are mapped as `api/openai_names.py` describes (OpenAI's voice names speak
English; any other voice is a language code). The generation is kept as the studio keeps it,
an MP3; `wav` is that same MP3 decoded by LAME, so what the client hears is what was kept.
Other formats (opus, aac, flac, pcm) are refused. `speed` below 1.0 asks for the slow reading
(providers that have one); 1.0 and above read at normal speed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.deps import CurrentAccount, ServicesDep
from api.job_answers import finished
from api.openai_names import speech_language, speech_provider
from api.schemas.generations import SpeechOut
from api.schemas.openai import OPENAI_ERRORS, SpeechBody
from core.errors import InvalidInput
from core.generation.records import Source
from core.generation.speech import SpeechOrder
from core.providers.speech.audio import decode_mp3

router = APIRouter(prefix="/v1", tags=["openai"], responses=OPENAI_ERRORS)

CONTENT_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav"}
_AUDIO = {"schema": {"type": "string", "format": "binary"}}


@router.post(
    "/audio/speech",
    response_class=Response,
    responses={
        200: {
            "description": "The audio itself, as mp3 or wav.",
            "content": {content_type: _AUDIO for content_type in CONTENT_TYPES.values()},
        }
    },
)
def create_speech(
    body: SpeechBody, account: CurrentAccount, app: ServicesDep, request: Request
) -> Response:
    if body.response_format not in CONTENT_TYPES:
        raise InvalidInput(
            f"Atelier answers speech as mp3 or wav, not {body.response_format}: "
            "set response_format to one of those."
        )
    provider = speech_provider(app, body.model)
    voice = body.voice if isinstance(body.voice, str) else body.voice.id
    job = app.jobs.submit_speech(
        account.id,
        SpeechOrder(
            text=body.input,
            language=speech_language(app, provider, voice),
            slow=body.speed < 1.0,
            provider=provider,
            source=Source.API,
        ),
    )
    made = finished(app, request, account.id, [job], SpeechOut)
    if isinstance(made, JSONResponse):
        return made
    speech = made[0]
    mp3 = app.gallery.media(account.id, speech.id, speech.s3.audio or "")
    audio = decode_mp3(mp3) if body.response_format == "wav" else mp3
    return Response(audio, media_type=CONTENT_TYPES[body.response_format])
