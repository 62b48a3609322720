"""Errors of the ML package: one base class, split by whether retrying can help."""

from __future__ import annotations

from gridcast import errors as base


class MLError(base.GridcastError):
    """Base of every error raised by ``ml``."""


class RetryableError(MLError, base.RetryableError):
    """A transient failure (database busy, file being written); trying again may succeed."""


class NonRetryableError(MLError, base.NonRetryableError):
    """A failure that repeats on retry (bad input, corrupt artifact, unknown feed)."""


class DatasetError(NonRetryableError):
    """A packaged dataset is missing, malformed, or out of its documented units and ranges."""


class UnknownFeedError(NonRetryableError):
    """The feed name is not one of the known feeds."""


class ModelNotFoundError(NonRetryableError):
    """No artifact with the given model hash exists in the model directory."""


class ArtifactIntegrityError(NonRetryableError):
    """An artifact's bytes no longer hash to the model hash it is stored under."""


class HistoryError(NonRetryableError):
    """The history handed to a forecaster is too short or malformed."""
