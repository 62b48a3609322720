"""A crash-safe journal of the operator's own batches (SQLite, one transaction per change).

The curve (with its salt) is written *before* the commit is sent, so a kill at any moment can
always be followed by a reveal; the chain remains the authority on what actually landed.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from gridcast.chain.commitments import Curve

PLANNED, COMMITTED, REVEALED, MISSED, ABANDONED = (
    "planned",
    "committed",
    "revealed",
    "missed",
    "abandoned",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    feed TEXT NOT NULL,
    operator TEXT NOT NULL,
    first_epoch INTEGER NOT NULL,
    count INTEGER NOT NULL,
    status TEXT NOT NULL,
    curve TEXT NOT NULL,
    commit_tx TEXT,
    reveal_tx TEXT,
    note TEXT,
    PRIMARY KEY (feed, operator, first_epoch)
);
CREATE TABLE IF NOT EXISTS claims (
    feed TEXT NOT NULL,
    operator TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (feed, operator, epoch)
);
"""


@dataclass
class JournalEntry:
    curve: Curve
    status: str
    commit_tx: str | None
    reveal_tx: str | None
    note: str | None

    @property
    def feed_hex(self) -> str:
        return "0x" + self.curve.feed.hex()


def open_durable(path: Path, schema: str) -> sqlite3.Connection:
    """An autocommit SQLite journal at `path` whose every write is on disk when it returns (WAL,
    synchronous=FULL), with `schema` applied: what a restart-safe agent reads back after a crash.
    The operator's and the exchange agents' journals both open theirs here."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_durable(path, SCHEMA)

    def close(self) -> None:
        self._db.close()

    def plan(self, curve: Curve) -> None:
        """Record a curve before committing it; a re-plan of the same batch keeps the first."""
        self._db.execute(
            "INSERT OR IGNORE INTO batches (feed, operator, first_epoch, count, status, curve) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                "0x" + curve.feed.hex(),
                curve.operator,
                curve.first_epoch,
                len(curve.values),
                PLANNED,
                json.dumps(curve.to_json()),
            ),
        )

    def mark(
        self, curve: Curve, status: str, *, tx: str | None = None, note: str | None = None
    ) -> None:
        column = {COMMITTED: "commit_tx", REVEALED: "reveal_tx"}.get(status)
        sets = "status = ?, note = COALESCE(?, note)" + (f", {column} = ?" if column else "")
        params: list[object] = [status, note]
        if column:
            params.append(tx)
        params += ["0x" + curve.feed.hex(), curve.operator, curve.first_epoch]
        self._db.execute(
            f"UPDATE batches SET {sets} WHERE feed = ? AND operator = ? AND first_epoch = ?", params
        )

    def entries(self, *statuses: str) -> list[JournalEntry]:
        query = "SELECT curve, status, commit_tx, reveal_tx, note FROM batches"
        params: tuple[str, ...] = ()
        if statuses:
            query += f" WHERE status IN ({','.join('?' * len(statuses))})"
            params = statuses
        rows = self._db.execute(query + " ORDER BY first_epoch", params).fetchall()
        return [
            JournalEntry(Curve.from_json(json.loads(r[0])), r[1], r[2], r[3], r[4]) for r in rows
        ]

    def get(self, feed: bytes, operator: str, first_epoch: int) -> JournalEntry | None:
        for e in self.entries():
            c = e.curve
            if c.feed == feed and c.operator == operator and c.first_epoch == first_epoch:
                return e
        return None

    def record_claim(self, feed: bytes, operator: str, epoch: int, outcome: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO claims (feed, operator, epoch, outcome) VALUES (?, ?, ?, ?)",
            ("0x" + feed.hex(), operator, epoch, outcome),
        )

    def claimed_epochs(self, feed: bytes, operator: str) -> set[int]:
        rows = self._db.execute(
            "SELECT epoch FROM claims WHERE feed = ? AND operator = ?",
            ("0x" + feed.hex(), operator),
        ).fetchall()
        return {int(r[0]) for r in rows}
