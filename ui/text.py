"""Text that came from a user or a model, shown as written: never as Markdown to interpret."""

from __future__ import annotations

import re

# Everything CommonMark lets a backslash escape, plus Streamlit's own ":color[...]" and "$" math.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&\"'=^])")


def escape_markdown(text: str) -> str:
    """A string that `st.markdown` shows literally: no links, images, emphasis or directives."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
