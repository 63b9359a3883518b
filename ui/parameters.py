"""A generation's parameters as a two-column table of plain words, wherever one is opened."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import streamlit as st

from ui.text import escape_markdown

# A whole seed, size or model name, most prompts' first line; the full value stays in the record.
MAX_VALUE_CHARS = 120
_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def show_parameters(params: Mapping[str, object]) -> None:
    """Name and value, one row each; nothing when there are none."""
    rows = parameter_rows(params)
    if not rows:
        return
    # st.table reads Markdown in its cells: a prompt (someone else's, on the admin page) must
    # show as written, never as a link or an image to load.
    st.table(
        {
            "Parameter": [escape_markdown(name) for name, _ in rows],
            "Value": [escape_markdown(value) for _, value in rows],
        },
        hide_index=True,
        hide_header=False,
        alt="The parameters this generation was made with",
    )


def parameter_rows(params: Mapping[str, object]) -> list[tuple[str, str]]:
    """(name, value) in plain words: `sourceUrl` is "Source url", a list is "a, b", True "yes"."""
    return [(_name(key), _value(value)) for key, value in params.items()]


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis when longer."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _name(key: str) -> str:
    words = _WORD_START.sub(" ", key).replace("_", " ").strip()
    return words[:1].upper() + words[1:].lower()


def _value(value: object) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple) and all(map(_is_simple, value)):
        return shorten(", ".join(map(_value, value)), MAX_VALUE_CHARS) or "–"
    if isinstance(value, Mapping | list | tuple):
        # Only a nested structure (a reference image's id and key) needs its JSON shape.
        return shorten(json.dumps(value, ensure_ascii=False, default=str), MAX_VALUE_CHARS)
    return shorten(str(value), MAX_VALUE_CHARS)


def _is_simple(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)
