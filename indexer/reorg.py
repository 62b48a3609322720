"""Reorg detection (parent-hash check against stored hashes of unfinalized blocks) and rollback
(delete versions born after the common ancestor, reopen versions closed after it)."""

from __future__ import annotations

from typing import Any

import psycopg

from indexer.errors import ReorgTooDeepError, RetryableError
from indexer.rpc import RpcClient


class ReorgDetected(RetryableError):  # noqa: N818 - a signal to the loop, not a failure
    """The chain no longer contains a block we indexed; roll back and resume."""

    def __init__(self, block: int) -> None:
        self.block = block
        super().__init__(f"block {block} is no longer on the canonical chain")


def stored_hash(conn: psycopg.Connection[Any], number: int) -> str | None:
    row = conn.execute("SELECT hash FROM indexed_blocks WHERE number = %s", (number,)).fetchone()
    return None if row is None else str(row[0])


def check_headers(conn: psycopg.Connection[Any], headers: list[dict[str, Any]]) -> None:
    """Headers must chain onto each other and onto the stored parent; raise ReorgDetected if not."""
    if not headers:
        return
    first = int(headers[0]["number"], 16)
    parent = stored_hash(conn, first - 1)
    if parent is not None and parent != headers[0]["parentHash"]:
        raise ReorgDetected(first - 1)
    for prev, cur in zip(headers, headers[1:], strict=False):
        if cur["parentHash"] != prev["hash"]:
            # the chain changed while we read it: re-read
            raise RetryableError(f"headers do not chain at block {int(cur['number'], 16)}")


def find_ancestor(conn: psycopg.Connection[Any], rpc: RpcClient, finality_depth: int) -> int:
    """The highest stored block whose hash the chain still has; refuse if none is stored."""
    stored = conn.execute("SELECT number, hash FROM indexed_blocks ORDER BY number DESC").fetchall()
    checkpoint = conn.execute(
        "SELECT block_number FROM indexer_checkpoint WHERE name = 'default'"
    ).fetchone()
    top = int(checkpoint[0]) if checkpoint else (int(stored[0][0]) if stored else 0)
    for i in range(0, len(stored), 200):
        chunk = stored[i : i + 200]
        blocks = rpc.get_blocks([int(n) for n, _ in chunk])
        for (number, h), block in zip(chunk, blocks, strict=True):
            if block is not None and block["hash"] == h:
                if top - int(number) > finality_depth:
                    raise ReorgTooDeepError(
                        f"chain reorganised {top - int(number)} blocks deep (below block "
                        f"{int(number) + 1}), deeper than the finality depth {finality_depth}: "
                        "refusing to roll back; re-index from scratch or raise "
                        "GRIDCAST_FINALITY_DEPTH."
                    )
                return int(number)
    lowest = int(stored[-1][0]) if stored else top
    raise ReorgTooDeepError(
        f"chain reorganised below block {lowest} (indexed up to {top}, finality depth "
        f"{finality_depth}): no common ancestor within the finality window. The indexed data "
        "cannot be rolled back safely; re-index from scratch (drop the indexer tables) or raise "
        "GRIDCAST_FINALITY_DEPTH."
    )


def rollback(conn: psycopg.Connection[Any], ancestor: int) -> int:
    """Undo everything after ``ancestor`` in the caller's transaction; returns the depth."""
    row = conn.execute(
        "SELECT block_number FROM indexer_checkpoint WHERE name = 'default'"
    ).fetchone()
    top = int(row[0]) if row else ancestor
    # imported here: the models (SQLAlchemy) are half the indexer's start-up imports
    from indexer.models.indexer_entities import ENTITY_TABLES

    for table in ENTITY_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE block_from > %s", (ancestor,))
        conn.execute(f"UPDATE {table} SET block_to = NULL WHERE block_to > %s", (ancestor,))
    for table in ("raw_logs", "indexing_errors"):
        conn.execute(f"DELETE FROM {table} WHERE block_number > %s", (ancestor,))
    conn.execute("DELETE FROM indexed_blocks WHERE number > %s", (ancestor,))
    conn.execute(
        "UPDATE indexer_checkpoint SET block_number = %s, block_hash = "
        "(SELECT hash FROM indexed_blocks WHERE number = %s), updated_at = now() "
        "WHERE name = 'default'",
        (ancestor, ancestor),
    )
    return top - ancestor
