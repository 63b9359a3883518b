"""Why a URL of an import was not kept: one code per cause, counted in Analytics and written in
metadata.json, and the plain words a user reads for it."""

from __future__ import annotations

from enum import StrEnum


class FailureReason(StrEnum):
    BAD_URL = "bad_url"
    BLOCKED_ADDRESS = "blocked_address"
    DNS_FAILED = "dns_failed"
    CONNECTION_FAILED = "connection_failed"
    TIMEOUT = "timeout"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    HTTP_ERROR = "http_error"
    TOO_LARGE = "too_large"
    TRUNCATED = "truncated"
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    CORRUPT_IMAGE = "corrupt_image"
    TOO_MANY_PIXELS = "too_many_pixels"
    NOT_STORED = "not_stored"


PLAIN_WORDS: dict[FailureReason, str] = {
    FailureReason.BAD_URL: "Not an http(s) address.",
    FailureReason.BLOCKED_ADDRESS: "Points at a private, loopback or link-local address.",
    FailureReason.DNS_FAILED: "The host name could not be resolved.",
    FailureReason.CONNECTION_FAILED: "The server could not be reached.",
    FailureReason.TIMEOUT: "The server took too long to answer.",
    FailureReason.TOO_MANY_REDIRECTS: "Too many redirects.",
    FailureReason.RATE_LIMITED: "The server kept answering 429 Too Many Requests.",
    FailureReason.SERVER_ERROR: "The server kept failing (5xx).",
    FailureReason.HTTP_ERROR: "The server refused the request.",
    FailureReason.TOO_LARGE: "The file is larger than the import limit.",
    FailureReason.TRUNCATED: "The transfer was cut off before the end.",
    FailureReason.NOT_AN_IMAGE: "What arrived is not an image.",
    FailureReason.UNSUPPORTED_FORMAT: "An image format Atelier does not keep.",
    FailureReason.CORRUPT_IMAGE: "The image is damaged and cannot be decoded.",
    FailureReason.TOO_MANY_PIXELS: "The image has more pixels than the import limit.",
    FailureReason.NOT_STORED: "The image arrived but could not be stored.",
}
