"""`GET /v1/models`: every model Atelier offers, in OpenAI's list shape.

Which id means which engine is written down in `api/openai_names.py`. The chat, image and
speech routes of the OpenAI-compatible face live in `openai_chat.py`, `openai_images.py` and
`openai_audio.py`.
"""

from __future__ import annotations

import time

from fastapi import APIRouter

from api.deps import CurrentAccount, ServicesDep
from api.openai_names import offered_models
from api.schemas.openai import OPENAI_ERRORS, ModelList, ModelOut

router = APIRouter(prefix="/v1", tags=["openai"], responses=OPENAI_ERRORS)

# OpenAI's `created` is when a model was published; ours are offered from server start.
_OFFERED_SINCE = int(time.time())


@router.get("/models")
def list_models(_account: CurrentAccount, app: ServicesDep) -> ModelList:
    return ModelList(
        data=[
            ModelOut(id=model.id, created=_OFFERED_SINCE, owned_by=model.owned_by)
            for model in offered_models(app)
        ]
    )
