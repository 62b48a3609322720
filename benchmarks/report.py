"""How every gas benchmark reports: a table on the terminal and the flat JSON under results/."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table


def publish(results: dict[str, float], title: str, unit: str, fmt: str, out: Path) -> None:
    """Print `results` as a two-column table (`fmt` formats each value) and write them to `out`."""
    table = Table(title=title)
    table.add_column("measure")
    table.add_column(unit, justify="right")
    for name, value in results.items():
        table.add_row(name, format(value, fmt))
    Console().print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
