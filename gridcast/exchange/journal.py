"""A crash-safe journal of an exchange participant's orders and actions (SQLite, one transaction
per change), like the operator's (:mod:`gridcast.operator.journal`).

An order is written as *planned* (with everything needed to send it again) before its transaction
is sent; on a restart a planned order is first looked for in the book (the chain is the authority
on what landed) and only sent when it is not there, so an order is never placed twice. Clearing,
settlement, certificate claims and retirements are recorded the same way, as actions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gridcast.operator.journal import open_durable

PLANNED, PLACED, SETTLED, DONE = "planned", "placed", "settled", "done"

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    feed TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    trader TEXT NOT NULL,
    side TEXT NOT NULL,
    asset_id INTEGER NOT NULL,
    volume_wh INTEGER NOT NULL,
    limit_price TEXT NOT NULL,
    status TEXT NOT NULL,
    idx INTEGER,
    tx TEXT,
    note TEXT,
    PRIMARY KEY (feed, epoch, trader, side, asset_id)
);
CREATE TABLE IF NOT EXISTS actions (
    kind TEXT NOT NULL,
    feed TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    tx TEXT,
    detail TEXT,
    PRIMARY KEY (kind, feed, epoch, subject)
);
"""


@dataclass(frozen=True)
class OrderEntry:
    feed: str  # 0x-hex feed id
    epoch: int
    trader: str
    side: str  # "buy" | "sell"
    asset_id: int  # 0 for a buy
    volume_wh: int
    limit_price: int
    status: str
    index: int | None
    tx: str | None

    @property
    def is_sell(self) -> bool:
        return self.side == "sell"


class ExchangeJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_durable(path, SCHEMA)

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------ orders

    def plan(
        self,
        feed: str,
        epoch: int,
        trader: str,
        side: str,
        asset_id: int,
        volume_wh: int,
        limit_price: int,
    ) -> OrderEntry:
        """Record an order before sending it; a re-plan of the same order keeps the first."""
        self._db.execute(
            "INSERT OR IGNORE INTO orders (feed, epoch, trader, side, asset_id, volume_wh,"
            " limit_price, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (feed.lower(), epoch, trader, side, asset_id, volume_wh, str(limit_price), PLANNED),
        )
        entry = self.order(feed, epoch, trader, side, asset_id)
        assert entry is not None
        return entry

    def mark_order(
        self,
        entry: OrderEntry,
        status: str,
        *,
        index: int | None = None,
        tx: str | None = None,
        note: str | None = None,
    ) -> None:
        self._db.execute(
            "UPDATE orders SET status = ?, idx = COALESCE(?, idx), tx = COALESCE(?, tx),"
            " note = COALESCE(?, note)"
            " WHERE feed = ? AND epoch = ? AND trader = ? AND side = ? AND asset_id = ?",
            (
                status,
                index,
                tx,
                note,
                entry.feed,
                entry.epoch,
                entry.trader,
                entry.side,
                entry.asset_id,
            ),
        )

    def order(
        self, feed: str, epoch: int, trader: str, side: str, asset_id: int
    ) -> OrderEntry | None:
        rows = self._orders(
            " WHERE feed = ? AND epoch = ? AND trader = ? AND side = ? AND asset_id = ?",
            (feed.lower(), epoch, trader, side, asset_id),
        )
        return rows[0] if rows else None

    def orders(self, *statuses: str) -> list[OrderEntry]:
        if not statuses:
            return self._orders("", ())
        marks = ",".join("?" * len(statuses))
        return self._orders(f" WHERE status IN ({marks})", statuses)

    def _orders(self, where: str, params: tuple[object, ...]) -> list[OrderEntry]:
        rows = self._db.execute(
            "SELECT feed, epoch, trader, side, asset_id, volume_wh, limit_price, status, idx, tx"
            " FROM orders" + where + " ORDER BY epoch, feed, side, asset_id",
            params,
        ).fetchall()
        return [
            OrderEntry(
                r[0],
                int(r[1]),
                r[2],
                r[3],
                int(r[4]),
                int(r[5]),
                int(r[6]),
                r[7],
                None if r[8] is None else int(r[8]),
                r[9],
            )  # fmt: skip
            for r in rows
        ]

    # ------------------------------------------------------------------ actions

    def action(self, kind: str, feed: str, epoch: int, subject: str = "") -> str | None:
        row = self._db.execute(
            "SELECT status FROM actions WHERE kind = ? AND feed = ? AND epoch = ? AND subject = ?",
            (kind, feed.lower(), epoch, subject),
        ).fetchone()
        return None if row is None else str(row[0])

    def record(
        self,
        kind: str,
        feed: str,
        epoch: int,
        status: str,
        *,
        subject: str = "",
        tx: str | None = None,
        detail: str | None = None,
    ) -> None:
        self._db.execute(
            "INSERT INTO actions (kind, feed, epoch, subject, status, tx, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, feed, epoch, subject) DO UPDATE"
            " SET status = excluded.status, tx = COALESCE(excluded.tx, actions.tx),"
            " detail = COALESCE(excluded.detail, actions.detail)",
            (kind, feed.lower(), epoch, subject, status, tx, detail),
        )

    def actions(self, kind: str, status: str | None = None) -> list[tuple[str, int, str, str]]:
        """(feed, epoch, subject, status) of the actions of a kind."""
        rows = self._db.execute(
            "SELECT feed, epoch, subject, status FROM actions WHERE kind = ?"
            " AND (? IS NULL OR status = ?) ORDER BY epoch, feed, subject",
            (kind, status, status),
        ).fetchall()
        return [(r[0], int(r[1]), r[2], r[3]) for r in rows]
