"""Finding a user's text inside a column with LIKE, where `%`, `_` and `\\` are plain characters."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

_ESCAPE = "\\"


def escape_like(text: str) -> str:
    return (
        text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    )


def contains_text(
    column: InstrumentedAttribute[str], text: str, *, ignore_case: bool = False
) -> ColumnElement[bool]:
    """`column` holds `text` anywhere; `ignore_case` for ILIKE, as PostgreSQL's LIKE minds case."""
    pattern = "%" + escape_like(text) + "%"
    if ignore_case:
        return column.ilike(pattern, escape=_ESCAPE)
    return column.like(pattern, escape=_ESCAPE)
