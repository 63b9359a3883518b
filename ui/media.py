"""Showing a generation's media the same way in the studios and the gallery."""

from __future__ import annotations

import json

import streamlit as st

from core.modality import Modality
from ui.text import escape_markdown

_EXTENSIONS = {"image/png": "png", "audio/mpeg": "mp3", "application/json": "json"}


def show_media(
    modality: Modality,
    data: bytes,
    content_type: str,
    *,
    name: str,
    key: str,
    literal_text: bool = False,
) -> None:
    """The media itself (image, audio player), a download button and nothing else.

    `literal_text` shows a chat's messages as written instead of as Markdown: for anyone who
    is not the author, such as an administrator, who must not load a link or image in them.
    """
    if modality is Modality.IMAGE:
        st.image(data, width="content")
    elif modality is Modality.SPEECH:
        st.audio(data, format=content_type)
    elif modality is Modality.CHAT:
        for message in json.loads(data).get("messages", []):
            with st.chat_message(message["role"]):
                content = message["content"]
                st.markdown(escape_markdown(content) if literal_text else content)
    st.download_button(
        "Download",
        data=data,
        file_name=f"{name}.{_EXTENSIONS.get(content_type, 'bin')}",
        mime=content_type,
        icon="⬇️",
        key=f"download-{key}",
    )


def show_signed_url(url: str | None) -> None:
    if url:
        st.caption("Signed link (expires; anyone with it can open the file):")
        st.code(url, language=None, wrap_lines=True)


def human_size(size_bytes: int | None) -> str:
    if size_bytes is None:
        return "–"
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:.0f} KB"
    return f"{size_bytes / (1024 * 1024):.1f} MB"
