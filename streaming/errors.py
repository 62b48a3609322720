"""The streaming package's errors, on the project's tree (:mod:`gridcast.errors`): loops back off
on retryable errors, stop on the rest."""

from gridcast import errors as base


class StreamingError(base.GridcastError):
    """Base of every error raised by the streaming pipeline."""


class RetryableError(StreamingError, base.RetryableError):
    """A transient failure (broker or database unavailable); retry with back-off."""


class NonRetryableError(StreamingError, base.NonRetryableError):
    """A failure that retrying cannot fix (bad input, bad configuration)."""


class BrokerUnavailableError(RetryableError, base.ServiceUnavailableError):
    """The MQTT broker did not accept the connection."""

    def __init__(self, host: str, port: int) -> None:
        base.ServiceUnavailableError.__init__(
            self, "MQTT broker", f"mqtt://{host}:{port}", base.HINTS["MQTT broker"]
        )


class InvalidTelemetry(NonRetryableError):
    """A telemetry message that breaks the schema; `reason` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
