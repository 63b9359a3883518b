"""Each user's avatar: one image uploaded once, kept in the object store, used as a reference."""

from __future__ import annotations

import uuid

from PIL import Image

from core.providers.image.checks import decode_reference
from core.providers.image.decoding import encode_png
from storage.objects import ObjectMissing, ObjectStore

AVATAR_SIDE = 512


def avatar_key(user_id: uuid.UUID) -> str:
    return f"users/{user_id}/avatar.png"


class Avatars:
    def __init__(self, store: ObjectStore, bucket: str) -> None:
        self._store = store
        self._bucket = bucket

    def save(self, user_id: uuid.UUID, upload: bytes) -> bytes:
        """Check the upload, shrink it to at most 512 px, store it as PNG; return the PNG."""
        image = decode_reference(upload)
        image.thumbnail((AVATAR_SIDE, AVATAR_SIDE), Image.Resampling.LANCZOS)
        png = encode_png(image)
        self._store.put(self._bucket, avatar_key(user_id), png, "image/png")
        return png

    def load(self, user_id: uuid.UUID) -> bytes | None:
        try:
            return self._store.get(self._bucket, avatar_key(user_id)).data
        except ObjectMissing:
            return None

    def remove(self, user_id: uuid.UUID) -> None:
        self._store.delete(self._bucket, avatar_key(user_id))
