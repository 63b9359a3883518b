from enum import StrEnum


class Modality(StrEnum):
    """What a generation produces; also the name used in S3 index keys."""

    IMAGE = "image"
    SPEECH = "speech"
    CHAT = "chat"
