"""Refuses text holding NUL characters before any route sees it.

JSON and URLs can carry U+0000 (`\\u0000`, `%00`), but PostgreSQL text cannot store it: a NUL
in an email, a key name or a prompt would fail deep inside a write (or leave a generation
without its row). One check for every route, with a message the caller can act on.
"""

from __future__ import annotations

import re

from fastapi import Request

from core.errors import InvalidInput

# `\u0000` preceded by an even number of backslashes: an escaped NUL, not the text "\u0000".
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
NUL_REFUSED = "Text may not contain NUL characters (U+0000). Remove them and send it again."


def _is_text(content_type: str) -> bool:
    # Every body the API takes is JSON; a binary upload (multipart, raw bytes) may hold zeros.
    return not content_type or "json" in content_type


async def refuse_nul_characters(request: Request) -> None:
    if "\x00" in request.url.path or "%00" in request.url.query:
        raise InvalidInput(NUL_REFUSED)
    if not _is_text(request.headers.get("content-type", "")):
        return
    # FastAPI has read the body already for routes that take one; this reads the same bytes.
    body = await request.body()
    if b"\x00" in body or _ESCAPED_NUL.search(body):
        raise InvalidInput(NUL_REFUSED)
