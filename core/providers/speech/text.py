"""What every speech provider checks in the text before it spends time on it."""

from __future__ import annotations

from core.errors import ProviderError


def speakable_text(text: str, *, max_characters: int) -> str:
    """The text without surrounding blanks; a plain error if it is empty, symbols or too long."""
    stripped = text.strip()
    if not stripped:
        raise ProviderError("There is no text to speak. Type a sentence first.")
    if len(stripped) > max_characters:
        raise ProviderError(
            f"The text is {len(stripped):,} characters long; the limit is {max_characters:,}. "
            "Shorten it or split it into parts."
        )
    if not any(character.isalnum() for character in stripped):
        raise ProviderError("There is nothing to speak in this text, only symbols.")
    return stripped
