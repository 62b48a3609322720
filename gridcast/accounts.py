"""Moved to :mod:`gridcast.chain.accounts`; this name stays importable."""

from gridcast.chain.accounts import PASSPHRASE_ENV, resolve_account

__all__ = ["PASSPHRASE_ENV", "resolve_account"]
