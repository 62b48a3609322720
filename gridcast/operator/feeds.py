"""Moved to :mod:`gridcast.chain.feeds`; this name stays importable."""

from gridcast.chain.feeds import FeedView

__all__ = ["FeedView"]
