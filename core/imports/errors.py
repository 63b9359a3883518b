"""The one error of an import's download and checks: a reason code and what was seen."""

from __future__ import annotations

from core.imports.reasons import PLAIN_WORDS, FailureReason


class DownloadRefused(Exception):
    """A URL that will not be kept; `str()` is the plain words followed by the specifics."""

    def __init__(self, reason: FailureReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{PLAIN_WORDS[reason]} ({detail})" if detail else PLAIN_WORDS[reason])
