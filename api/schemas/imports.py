"""Seed 003's import bodies: a collection of documents, or a plain list of URLs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator


class BatchBody(BaseModel):
    """Either `documents` (with the fields that hold each one's id and its image URLs) or
    `urls`. Field paths: `photo`, `images[].url`, `gallery.*.src`."""

    collection: str = Field("pasted", min_length=1, max_length=100, examples=["hotels"])
    documents: list[dict[str, Any]] | None = Field(None, max_length=100_000)
    id_field: str = Field("_id", min_length=1, max_length=200)
    url_field: str = Field("photo", min_length=1, max_length=200, examples=["images[].url"])
    # Only documents whose fields equal these values (seed 003's `filter`).
    filter: dict[str, Any] | None = Field(None, examples=[{"city": "Madrid"}])
    limit: int | None = Field(None, ge=1, description="At most this many documents.")
    urls: list[str] | None = Field(None, max_length=100_000)

    @model_validator(mode="after")
    def _one_source(self) -> BatchBody:
        if (self.documents is None) == (self.urls is None):
            raise ValueError("Send either 'documents' or 'urls', not both and not neither.")
        return self
