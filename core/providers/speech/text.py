"""What every speech provider checks in the text before it spends time on it."""

from __future__ import annotations

from core.errors import AtelierError, ProviderError


def speakable_text(
    text: str, *, max_characters: int, refusal: type[AtelierError] = ProviderError
) -> str:
    """The text without surrounding blanks; a plain error if it is empty, symbols or too long.

    The studio asks first with `InvalidInput`, so such a request leaves nothing behind; each
    provider asks again, for callers that use it directly."""
    stripped = text.strip()
    if not stripped:
        raise refusal("There is no text to speak. Type a sentence first.")
    if len(stripped) > max_characters:
        raise refusal(
            f"The text is {len(stripped):,} characters long; the limit is {max_characters:,}. "
            "Shorten it or split it into parts."
        )
    if not any(character.isalnum() for character in stripped):
        raise refusal("There is nothing to speak in this text, only symbols.")
    return stripped
