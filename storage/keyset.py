"""Keyset pagination on (created_at, id), with an opaque cursor a client hands back.

A page is read by comparing the key of its edge row instead of skipping rows with OFFSET, so a
deep page costs as little as the first one as long as an index covers (created_at, id); the id
breaks ties between rows created at the same instant.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, Uuid, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from core.errors import InvalidInput
from storage.models import UTCDateTime

# Bumped when the cursor's document changes, so an old cursor is refused rather than misread.
_CURSOR_VERSION = 1
Row = TypeVar("Row")


@dataclass(frozen=True)
class Cursor:
    """A position in a list: the (created_at, id) of a row and which side of it to read."""

    created_at: datetime
    id: uuid.UUID
    backwards: bool = False

    def encode(self) -> str:
        document = {
            "v": _CURSOR_VERSION,
            "t": self.created_at.isoformat(),
            "i": self.id.hex,
            "b": self.backwards,
        }
        return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Cursor:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            document = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if document["v"] != _CURSOR_VERSION:
                raise ValueError(document["v"])
            created_at = datetime.fromisoformat(document["t"])
            if created_at.tzinfo is None:
                raise ValueError("naive time")
            return cls(created_at, uuid.UUID(hex=document["i"]), bool(document["b"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise InvalidInput(
                "This page position is no longer valid; start from the first page."
            ) from None


@dataclass(frozen=True)
class KeysetPage(Generic[Row]):
    rows: list[Row]
    # Opaque cursors for the next page further in the chosen order and the one before it;
    # None when there is nothing there.
    next_cursor: str | None
    previous_cursor: str | None


@dataclass(frozen=True)
class Keyset:
    """One page to read: where from (`cursor`, None for the first page) and in which order."""

    created_at: InstrumentedAttribute[datetime]
    id: InstrumentedAttribute[uuid.UUID]
    newest_first: bool
    cursor: Cursor | None
    limit: int

    @property
    def _descending(self) -> bool:
        # Going back means reading the other way from the cursor, then flipping the rows.
        return self.newest_first != self._backwards

    @property
    def _backwards(self) -> bool:
        return self.cursor is not None and self.cursor.backwards

    def query(self, query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
        """`query` cut to the page, with one row more than the limit to tell if there is more."""
        if self.cursor is not None:
            key = tuple_(self.created_at, self.id)
            bound = tuple_(
                literal(self.cursor.created_at, UTCDateTime()), literal(self.cursor.id, Uuid())
            )
            query = query.where(key < bound if self._descending else key > bound)
        if self._descending:
            query = query.order_by(self.created_at.desc(), self.id.desc())
        else:
            query = query.order_by(self.created_at.asc(), self.id.asc())
        return query.limit(self.limit + 1)

    def page(
        self, found: list[Row], key: Callable[[Row], tuple[datetime, uuid.UUID]]
    ) -> KeysetPage[Row]:
        """The page from what `query` read, in the chosen order, with its cursors either way."""
        more = len(found) > self.limit
        rows = found[: self.limit]
        if self._backwards:
            rows.reverse()
        if not rows:
            return KeysetPage([], None, None)
        from_cursor = self.cursor is not None
        # In the direction we read, `more` tells; the other way, a cursor means we came from there.
        further = from_cursor if self._backwards else more
        earlier = more if self._backwards else from_cursor
        return KeysetPage(
            rows,
            Cursor(*key(rows[-1]), backwards=False).encode() if further else None,
            Cursor(*key(rows[0]), backwards=True).encode() if earlier else None,
        )
