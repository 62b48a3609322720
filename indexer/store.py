"""The unit of work of one batch: a bounded cache of current entity versions, new versions and
closed versions collected by the handlers, written with a few bulk statements (COPY + one
UPDATE per table) in the caller's transaction.

Memory depends on the batch, not on history: before a batch runs, :meth:`Store.prefetch` loads
the current versions of the ids its events name (one query per table); ids the prefetch did not
foresee are loaded one by one (counted in ``misses``). After each commit the cache is trimmed to
``capacity`` entries, least recently used first. The indexer is the only writer of its tables,
so a cached version stays true until a rollback or a failed batch, after which
:meth:`Store.reset` drops the cache.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from typing import Any

import psycopg

from indexer.models.indexer_entities import ENTITY_MODELS

COLUMNS: dict[str, list[str]] = {
    m.__tablename__: [  # type: ignore[attr-defined]
        c.name
        for c in m.__table__.columns  # type: ignore[attr-defined]
        if c.name not in ("id", "block_from", "block_to")
    ]
    for m in ENTITY_MODELS
}


class Version:
    """One version of an entity; ``pending`` until the batch that made it commits."""

    __slots__ = ("block_from", "block_to", "data", "id", "pending")

    def __init__(self, id: str, data: dict[str, Any], block_from: int, pending: bool) -> None:
        self.id = id
        self.data = data
        self.block_from = block_from
        self.block_to: int | None = None
        self.pending = pending


class Store:
    """Entity state for handlers: ``get`` the current row, ``put``/``update`` a new version."""

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._cache: OrderedDict[tuple[str, str], Version] = OrderedDict()
        self._absent: set[tuple[str, str]] = set()  # ids known to have no current version
        self._inserts: dict[str, list[Version]] = defaultdict(list)
        self._closes: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        self.notifications: list[tuple[str, dict[str, Any]]] = []
        self.scratch: dict[str, Any] = {}  # per-batch cross-event links (same-tx slash → score)
        self._conn: psycopg.Connection[Any] | None = None
        self.misses = 0  # single-id loads: ids a prefetch did not name

    # ---- loading ----

    def bind(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def reset(self) -> None:
        """Forget everything (after a rollback or a failed batch)."""
        self._cache.clear()
        self.discard()

    def discard(self) -> None:
        self._inserts.clear()
        self._closes.clear()
        self._absent.clear()
        self.notifications.clear()
        self.scratch.clear()

    @property
    def cached(self) -> int:
        return len(self._cache)

    def _select(self, table: str, where: str, param: Any) -> list[Version]:
        cols = COLUMNS[table]
        assert self._conn is not None, "Store.bind(conn) first"
        cur = self._conn.execute(
            f"SELECT id, block_from, {', '.join(cols)} FROM {table} "
            f"WHERE block_to IS NULL AND {where}",
            (param,),
        )
        return [
            Version(rec[0], dict(zip(cols, rec[2:], strict=True)), rec[1], False) for rec in cur
        ]

    def prefetch(self, keys: Iterable[tuple[str, str]]) -> int:
        """Load the current versions of ``(table, id)`` keys not cached: one query per table.
        Returns the number of ids asked for."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for key in keys:
            if key[0] in COLUMNS and key not in self._cache and key not in self._absent:
                wanted[key[0]].add(key[1])
        for table, ids in wanted.items():
            for v in self._select(table, "id = ANY(%s)", list(ids)):
                self._cache[(table, v.id)] = v
                ids.discard(v.id)
            self._absent.update((table, i) for i in ids)
        return sum(len(ids) for ids in wanted.values())

    def _lookup(self, table: str, id: str) -> Version | None:
        key = (table, id)
        v = self._cache.get(key)
        if v is not None:
            self._cache.move_to_end(key)
            return v
        if key in self._absent:
            return None
        self.misses += 1
        found = self._select(table, "id = %s", id)
        if not found:
            self._absent.add(key)
            return None
        self._cache[key] = found[0]
        return found[0]

    # ---- handler API ----

    def get(self, table: str, id: str) -> dict[str, Any] | None:
        """The current row (do not mutate it; use :meth:`update`)."""
        v = self._lookup(table, id)
        return v.data if v is not None else None

    def put(self, table: str, id: str, data: dict[str, Any], block: int) -> None:
        """Make ``data`` the version of ``id`` from ``block`` on, closing the previous one."""
        cur = self._lookup(table, id)
        if cur is not None:
            if cur.pending and cur.block_from == block:
                cur.data = data
                return
            if cur.pending:
                cur.block_to = block
            else:
                self._closes[table].append((id, cur.block_from, block))
        new = Version(id, data, block, True)
        self._inserts[table].append(new)
        self._cache[(table, id)] = new
        self._cache.move_to_end((table, id))

    def update(self, table: str, id: str, block: int, **changes: Any) -> dict[str, Any] | None:
        """Copy the current row with ``changes`` into a new version; None if ``id`` is unknown."""
        old = self.get(table, id)
        if old is None:
            return None
        data = {**old, **changes}
        self.put(table, id, data, block)
        return data

    def add(self, table: str, id: str, data: dict[str, Any], block: int) -> dict[str, Any]:
        """An immutable history row (never closed); returns its data, writable until flush."""
        self._inserts[table].append(Version(id, data, block, True))
        return data

    def notify(self, channel: str, payload: dict[str, Any]) -> None:
        self.notifications.append((channel, payload))

    @property
    def pending_rows(self) -> int:
        return sum(len(v) for v in self._inserts.values())

    # ---- writing ----

    def flush(self, conn: psycopg.Connection[Any]) -> int:
        """Write closes then new versions; returns the number of rows inserted."""
        for table, closes in self._closes.items():
            if not closes:
                continue
            ids, bfs, bts = zip(*closes, strict=True)
            conn.execute(
                f"UPDATE {table} AS t SET block_to = v.bt "
                "FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS v(id, bf, bt) "
                "WHERE t.id = v.id AND t.block_from = v.bf",
                (list(ids), list(bfs), list(bts)),
            )
        written = 0
        for table, versions in self._inserts.items():
            if not versions:
                continue
            cols = COLUMNS[table]
            with conn.cursor().copy(
                f"COPY {table} (id, block_from, block_to, {', '.join(cols)}) FROM STDIN"
            ) as copy:
                for v in versions:
                    d = v.data
                    copy.write_row([v.id, v.block_from, v.block_to, *[d.get(c) for c in cols]])
            written += len(versions)
        return written

    def committed(self) -> None:
        """The transaction holding :meth:`flush` committed: pending versions are now stored."""
        for versions in self._inserts.values():
            for v in versions:
                v.pending = False
        self.discard()
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
