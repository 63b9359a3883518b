"""Someone else's words shown literally: Markdown that would load, link or style is inert."""

from __future__ import annotations

import html

import pytest
from markdown_it import MarkdownIt

from ui.text import escape_markdown

HOSTILE = [
    "![px](http://attacker.example/pixel.png?who=admin)",
    "[Your session expired, log in here](https://attacker.example/login)",
    "<img src=x onerror=alert(1)> **bold** _it_ `code` ~~gone~~",
    "# Heading\n- item\n1. first\n> quote",
    ":red[alarm] $x^2$ | a | b |\n|---|---|",
    "a\\*b & c < d",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_as_the_same_words_and_nothing_else(text: str) -> None:
    # CommonMark with GitHub's tables and strikethrough, as Streamlit's Markdown has them.
    markdown = MarkdownIt("commonmark").enable(["table", "strikethrough"])

    rendered = markdown.render(escape_markdown(text))

    assert rendered == f"<p>{html.escape(text, quote=True)}</p>\n"
