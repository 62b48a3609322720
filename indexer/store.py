"""The unit of work of one batch: a bounded cache of current entity versions, new versions and
closed versions collected by the handlers, written with a few bulk statements (COPY + one
UPDATE per table) in the caller's transaction.

Memory depends on the batch, not on history: before a batch runs, :meth:`Store.prefetch` loads
the current versions of the ids its events name (one query per table); ids the prefetch did not
foresee are loaded one by one (counted in ``misses``). After each commit the cache is trimmed to
``capacity`` entries, least recently used first. The indexer is the only writer of its tables,
so a cached version stays true until a rollback or a failed batch, after which
:meth:`Store.reset` drops the cache.

Pipelining: :meth:`Store.seal` hands a batch's writes over as a :class:`WriteSet` (written by
:func:`write` on the writer connection, possibly on another thread) and the next batch's
handlers run at once on the cache. Reads go through their own connection (:meth:`Store.bind`'s
``reader``): they see committed rows only, which is enough because every version of a batch not
yet committed is in the cache, pinned there (never trimmed) until :meth:`Store.release`.
"""

from __future__ import annotations

import io
import re
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import Copy
from psycopg.copy import FileWriter

from indexer.writer import Step, run

# Versioned table → its columns but id/block_from/block_to, read from the database's catalog
# (load_columns; the migrations made it from indexer.models, whose import costs the indexer
# ~0.5 s of start-up CPU).
COLUMNS: dict[str, list[str]] = {}


def load_columns(conn: psycopg.Connection[Any]) -> dict[str, list[str]]:
    """(Re)read COLUMNS: every table of the current schema with id, block_from and block_to."""
    rows = conn.execute(
        "SELECT c.relname::text, array_agg(a.attname::text ORDER BY a.attnum) "
        "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') "
        "AND a.attnum > 0 AND NOT a.attisdropped GROUP BY c.relname"
    ).fetchall()
    versioned = {"id", "block_from", "block_to"}
    COLUMNS.clear()
    for table, cols in rows:
        if versioned <= set(cols):
            COLUMNS[table] = [c for c in cols if c not in versioned]
    return COLUMNS


_ARRAY_SAFE = re.compile(r"[0-9A-Za-z_.:x-]+(,[0-9A-Za-z_.:x-]+)*")


def text_array(values: list[str]) -> str | list[str]:
    """A text[] parameter as its array literal when no element needs quoting (hex ids, keys
    joined by '-'), else the list: psycopg dumps a list element by element in Python (for a
    batch's prefetch and closes, ~7% of the backfill's CPU)."""
    literal = ",".join(values)
    if values and _ARRAY_SAFE.fullmatch(literal) and "NULL" not in literal.upper():
        return "{" + literal + "}"
    return values


def int_array(values: list[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


class Version:
    """One version of an entity; ``pending`` until the batch that made it commits."""

    __slots__ = ("block_from", "block_to", "data", "id", "pending")

    def __init__(self, id: str, data: dict[str, Any], block_from: int, pending: bool) -> None:
        self.id = id
        self.data = data
        self.block_from = block_from
        self.block_to: int | None = None
        self.pending = pending


class WriteSet:
    """A sealed batch's writes: new versions and closes by table, and its notifications."""

    __slots__ = ("closes", "inserts", "keys", "notifications")

    def __init__(
        self,
        inserts: dict[str, list[Version]],
        closes: dict[str, list[tuple[str, int, int]]],
        notifications: list[tuple[str, dict[str, Any]]],
        keys: set[tuple[str, str]],
    ) -> None:
        self.inserts = inserts
        self.closes = closes
        self.notifications = notifications
        self.keys = keys  # cached entities this batch wrote: pinned until it commits

    @property
    def rows(self) -> int:
        return sum(len(v) for v in self.inserts.values())


def steps(ws: WriteSet, cursor: psycopg.Cursor[Any]) -> list[Step]:
    """The writes of ``ws`` as plan steps (see indexer.writer): closes, then new versions as
    COPY text, formatted here by psycopg (``Copy`` into a ``FileWriter``: no I/O, ``cursor``
    only lends its adapters) so that the writer only sends bytes."""
    out: list[Step] = []
    for table, closes in ws.closes.items():
        if not closes:
            continue
        ids, bfs, bts = zip(*closes, strict=True)
        out.append((
            "exec",
            f"UPDATE {table} AS t SET block_to = v.bt "
            "FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS v(id, bf, bt) "
            "WHERE t.id = v.id AND t.block_from = v.bf",
            (text_array(list(ids)), int_array(list(bfs)), int_array(list(bts))),
        ))  # fmt: skip
    for table, versions in ws.inserts.items():
        if not versions:
            continue
        cols = COLUMNS[table]
        buf = io.BytesIO()
        with Copy(cursor, binary=False, writer=FileWriter(buf)) as copy:
            write_row = copy.write_row
            for v in versions:  # map(d.get): ~2x a comprehension over 20-odd columns
                write_row((v.id, v.block_from, v.block_to, *map(v.data.get, cols)))
        out.append((
            "copy", f"COPY {table} (id, block_from, block_to, {', '.join(cols)}) FROM STDIN",
            buf.getvalue(), [],
        ))  # fmt: skip
    return out


def write(conn: psycopg.Connection[Any], ws: WriteSet) -> int:
    """Write closes then new versions in the caller's transaction; returns rows inserted."""
    run(conn, steps(ws, conn.cursor()))
    return ws.rows


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
        self._written: set[tuple[str, str]] = set()  # cached keys the open batch wrote
        self._pinned: dict[tuple[str, str], int] = {}  # key → sealed batches not yet committed

    # ---- loading ----

    def bind(self, reader: psycopg.Connection[Any]) -> None:
        """The connection reads go through (autocommit: each read sees the latest commit)."""
        self._conn = reader
        load_columns(reader)

    def reset(self) -> None:
        """Forget everything (after a rollback or a failed batch)."""
        self._cache.clear()
        self._pinned.clear()
        self.discard()

    def discard(self) -> None:
        self._inserts = defaultdict(list)
        self._closes = defaultdict(list)
        self._absent.clear()
        self._written = set()
        self.notifications = []
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
        """Load the current versions of ``(table, id)`` keys not cached: one query per table;
        the cached ones become the most recently used (recency is kept per batch: a read does
        not reorder the cache, ~15% of the handlers' time when it did). Returns the number of
        ids asked for."""
        wanted: dict[str, set[str]] = defaultdict(set)
        cache, absent, move = self._cache, self._absent, self._cache.move_to_end
        for key in keys:
            if key in cache:
                move(key)
            elif key[0] in COLUMNS and key not in absent:
                wanted[key[0]].add(key[1])
        for table, ids in wanted.items():
            for v in self._select(table, "id = ANY(%s::text[])", text_array(list(ids))):
                self._cache[(table, v.id)] = v
                ids.discard(v.id)
            self._absent.update((table, i) for i in ids)
        return sum(len(ids) for ids in wanted.values())

    def _load(self, key: tuple[str, str]) -> Version | None:
        """A key not cached: known absent, or read on its own (a miss of the prefetch)."""
        if key in self._absent:
            return None
        self.misses += 1
        found = self._select(key[0], "id = %s", key[1])
        if not found:
            self._absent.add(key)
            return None
        self._cache[key] = found[0]
        return found[0]

    def _lookup(self, table: str, id: str) -> Version | None:
        key = (table, id)
        v = self._cache.get(key)
        return v if v is not None else self._load(key)

    # ---- handler API ----

    def get(self, table: str, id: str) -> dict[str, Any] | None:
        """The current row (do not mutate it; use :meth:`update`)."""
        key = (table, id)
        v = self._cache.get(key)
        if v is None:
            v = self._load(key)
            if v is None:
                return None
        return v.data

    def put(self, table: str, id: str, data: dict[str, Any], block: int) -> None:
        """Make ``data`` the version of ``id`` from ``block`` on, closing the previous one."""
        key = (table, id)
        cur = self._cache.get(key)
        self._put(key, cur if cur is not None else self._load(key), data, block)

    def _put(
        self, key: tuple[str, str], cur: Version | None, data: dict[str, Any], block: int
    ) -> None:
        if cur is not None:
            if cur.pending:
                if cur.block_from == block:
                    cur.data = data
                    return
                cur.block_to = block
            else:
                self._closes[key[0]].append((key[1], cur.block_from, block))
        new = Version(key[1], data, block, True)
        self._inserts[key[0]].append(new)
        self._cache[key] = new  # a new key goes last (most recent); an existing one stays
        self._written.add(key)

    def update(self, table: str, id: str, block: int, **changes: Any) -> dict[str, Any] | None:
        """Copy the current row with ``changes`` into a new version; None if ``id`` is unknown."""
        key = (table, id)
        cur = self._cache.get(key)
        if cur is None:
            cur = self._load(key)
            if cur is None:
                return None
        data = {**cur.data, **changes}
        if cur.pending and cur.block_from == block:  # same block: the version is rewritten
            cur.data = data
            return data
        self._put(key, cur, data, block)
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

    def seal(self) -> WriteSet:
        """End the open batch: its writes as a :class:`WriteSet` (see :func:`write`); its
        versions count as stored from now on (the next batch closes them by UPDATE) and stay
        cached until :meth:`release`. The next batch can start at once."""
        ws = WriteSet(self._inserts, self._closes, self.notifications, self._written)
        for versions in ws.inserts.values():
            for v in versions:
                v.pending = False
        for key in ws.keys:
            self._pinned[key] = self._pinned.get(key, 0) + 1
        self.discard()
        self._trim()
        return ws

    def release(self, ws: WriteSet) -> None:
        """``ws`` committed: its versions may leave the cache."""
        pinned = self._pinned
        for key in ws.keys:
            n = pinned.get(key, 0) - 1
            if n > 0:
                pinned[key] = n
            else:
                pinned.pop(key, None)
        self._trim()

    def _trim(self) -> None:
        """Drop least recently used entries above ``capacity``, never a pinned one."""
        excess = len(self._cache) - self.capacity
        if excess <= 0:
            return
        victims = []
        for key in self._cache:  # least recently used first
            if key not in self._pinned:
                victims.append(key)
                if len(victims) == excess:
                    break
        for key in victims:
            del self._cache[key]

    def flush(self, conn: psycopg.Connection[Any]) -> WriteSet:
        """Seal the open batch and write it in the caller's transaction (unpipelined use);
        call :meth:`release` with the result once that transaction commits."""
        ws = self.seal()
        write(conn, ws)
        return ws
