"""The streaming package's error tree: loops back off on retryable errors, stop on the rest."""


class StreamingError(Exception):
    """Base of every error raised by the streaming pipeline."""


class RetryableError(StreamingError):
    """A transient failure (broker or database unavailable); retry with back-off."""


class NonRetryableError(StreamingError):
    """A failure that retrying cannot fix (bad input, bad configuration)."""


class InvalidTelemetry(NonRetryableError):
    """A telemetry message that breaks the schema; `reason` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
