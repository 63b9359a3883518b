"""Finding a user's text inside a column, where `%`, `_` and `\\` are plain characters."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Function, func
from sqlalchemy.orm import InstrumentedAttribute, Session

_ESCAPE = "\\"
_CASEFOLD = "atelier_casefold"


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


def contains_any_case(
    session: Session, column: InstrumentedAttribute[str], text: str
) -> ColumnElement[bool]:
    """`column` holds `text` in any letter case, beyond ASCII too ("привет" finds "Привет").

    PostgreSQL: ILIKE, which the pg_trgm index serves. It folds case by the database's
    LC_CTYPE: every alphabet under C.UTF-8 or a language's locale (only foldings such as
    "ß" = "ss" differ from Python's casefold), ASCII alone under plain "C".
    SQLite's LIKE and lower() fold ASCII letters only: there both sides go through Python's
    casefold, a function registered on the session's connection.
    """
    if session.get_bind().dialect.name == "postgresql":
        return contains_text(column, text, ignore_case=True)
    sqlite = session.connection().connection.driver_connection
    sqlite.create_function(_CASEFOLD, 1, _casefold, deterministic=True)  # type: ignore[union-attr]
    return func.instr(Function(_CASEFOLD, column), text.casefold()) > 0


def _casefold(value: str | None) -> str | None:
    return None if value is None else value.casefold()
