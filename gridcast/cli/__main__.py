"""``python -m gridcast.cli``: the same app as the ``gridcast`` script."""

from gridcast.cli import app

app()
