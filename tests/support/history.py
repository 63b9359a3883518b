"""Reading what the stores hold, as the tests check it."""

from __future__ import annotations

import json
import uuid
from typing import Any

from core.services import Services


def image_index_lines(services: Services, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every line of the user's image history index, across its day files."""
    bucket = services.settings.s3_bucket_image
    lines = []
    for info in services.objects.list_objects(bucket, f"users/{user_id}/image/history/"):
        body = services.objects.get(bucket, info.key).data
        lines += [json.loads(line) for line in body.splitlines()]
    return lines
