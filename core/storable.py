"""What can be kept: text and numbers that every store takes as they are.

PostgreSQL refuses NUL in text and JSONB, JSON has no Infinity or NaN, and a lone surrogate
cannot be encoded as UTF-8 at all. Such a value would pass the studios, then fail deep inside a
write, after other stores already hold the generation. So the pipeline checks a generation's
whole input here, once, before anything starts, for every face (pages, API, importer).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from core.errors import InvalidInput

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_TEXT = (
    "The text holds a character that cannot be kept (a NUL, U+0000, or a broken character). "
    "Remove it and try again."
)


def require_storable(value: Any, what: str = "input") -> None:
    """Raise `InvalidInput` if `value`, or anything inside it, cannot be stored as it is."""
    if isinstance(value, str):
        if not is_storable_text(value):
            raise InvalidInput(UNSTORABLE_TEXT)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{what} must be a finite number, not {value}.")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            require_storable(key, what)
            require_storable(item, str(key))
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        for item in value:
            require_storable(item, what)


def is_storable_text(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def storable_note(text: str | None, max_chars: int) -> str | None:
    """Text a client sent that is kept for the record only (its user agent, its address): the
    characters no store takes are dropped rather than refused, and it is cut to `max_chars`;
    None when nothing is left."""
    return _UNSTORABLE.sub("", text or "")[:max_chars] or None


def storable_text(text: str) -> str:
    """Text that came from elsewhere (a model's answer) as every store can keep it. A UTF-16
    surrogate pair split over two pieces of a stream is whole again; a lone surrogate, or a
    NUL, becomes U+FFFD, the replacement character."""
    whole = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return whole.replace("\x00", "\ufffd")
