"""Showing a generation's media the same way in the studios and the gallery."""

from __future__ import annotations

import json

import streamlit as st

from core.modality import Modality

_EXTENSIONS = {"image/png": "png", "audio/mpeg": "mp3", "application/json": "json"}


def show_media(modality: Modality, data: bytes, content_type: str, *, name: str, key: str) -> None:
    """The media itself (image, audio player), a download button and nothing else."""
    if modality is Modality.IMAGE:
        st.image(data, width="content")
    elif modality is Modality.SPEECH:
        st.audio(data, format=content_type)
    elif modality is Modality.CHAT:
        for message in json.loads(data).get("messages", []):
            with st.chat_message(message["role"]):
                st.markdown(message["content"])
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
