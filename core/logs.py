"""Logging with context: `extra={...}` fields are printed as key=value after the message."""

from __future__ import annotations

import logging

_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class ContextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES}
        if context:
            text += " " + " ".join(f"{k}={v}" for k, v in sorted(context.items()))
        return text


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(ContextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # Streamlit installs its own handlers; ours owns the app's namespaces only.
    for name in ("core", "storage", "ui", "pages", "app"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
