"""Moved to :mod:`gridcast.chain.market`; this name stays importable."""

from gridcast.chain.market import FeedBinding, Market

__all__ = ["FeedBinding", "Market"]
