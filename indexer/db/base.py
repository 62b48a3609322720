"""Moved to :mod:`gridcast.db.base`; the same declarative base object, importable here too."""

from gridcast.db.base import NAMING, Base

__all__ = ["NAMING", "Base"]
