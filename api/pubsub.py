"""Fan-out of the indexer's notifications to subscription streams. One upstream connection per
process; each subscriber gets a queue.

The indexer writes every notification to its durable outbox (``indexer_outbox``, by position) and
sends one wake-up per batch (Redis pub/sub, or Postgres NOTIFY without Redis) carrying the newest
position. The hub reads the outbox from its cursor (the newest position when it started) on each
wake-up, after each reconnect and when idle for POLL_S, so no batch is lost to its size or to a
lost wake-up. A subscriber whose queue overflows is not dropped from: it reads the rows it missed
from the outbox itself, then rejoins the queue. ``on_message`` hooks (durable consumers with their
own cursor, like the record re-verifier) are called once per advance with
``("gridcast:outbox", {"position": p})``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from gridcast.diagnosis import as_service_error

log = logging.getLogger("gridcast.api")
CHANNELS = (
    "gridcast:newBlock", "gridcast:forecastCommitted", "gridcast:forecastRevealed",
    "gridcast:consensusUpdated", "gridcast:epochSettled", "gridcast:truthSubmitted",
    "gridcast:reorg",
)  # fmt: skip
QUEUE_SIZE = 1000
POLL_S = 5.0  # idle re-read of the outbox, in case a wake-up was lost
PAGE = 1000


class Hub:
    def __init__(self, redis_url: str | None, pg_url: str) -> None:
        self.redis_url = redis_url
        self.pg_url = pg_url
        self._subs: dict[str, set[_Sub]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.on_message: list[Any] = []  # async callbacks (channel, payload), e.g. re-verification
        self.position: int | None = None  # the outbox position dispatched up to
        self._db: Any = None
        self._lock = asyncio.Lock()

    @property
    def subscribers(self) -> int:
        return sum(len(s) for s in self._subs.values())

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._db is not None:
            with contextlib.suppress(Exception):
                await self._db.close()

    async def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        import psycopg

        from gridcast.services import libpq_url

        if self._db is None or self._db.closed:
            self._db = await psycopg.AsyncConnection.connect(
                libpq_url(self.pg_url), autocommit=True
            )
        try:
            cur = await self._db.execute(sql, params)
            return await cur.fetchall()
        except Exception:
            await self._db.close()
            self._db = None
            raise

    async def drain(self) -> None:
        """Dispatch every outbox row past ``position`` in order, then call the hooks once."""
        async with self._lock:
            if self.position is None:
                top = await self._query("SELECT max(position) FROM indexer_outbox", ())
                self.position = int(top[0][0] or 0)
            while True:
                rows = await self._query(
                    "SELECT position, channel, payload FROM indexer_outbox WHERE position > %s "
                    "ORDER BY position LIMIT %s",
                    (self.position, PAGE),
                )
                for pos, channel, payload in rows:
                    for sub in list(self._subs.get(channel, ())):
                        sub.offer(int(pos), payload)
                    self.position = int(pos)
                if len(rows) < PAGE:
                    break
            position = self.position
        for cb in self.on_message:
            try:
                await cb("gridcast:outbox", {"position": position})
            except Exception:  # noqa: BLE001 - a failing hook must not stop delivery
                log.warning("notification hook failed", exc_info=True)

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                if self.redis_url:
                    await self._run_redis()
                else:
                    await self._run_pg()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect with backoff
                self.ready.clear()
                down = as_service_error(exc)
                if down is not None:  # one line naming the URL, not a trace per retry
                    log.warning("notification listener: %s; reconnecting in %.1fs", down, delay)
                else:
                    log.warning("notification listener failed; reconnecting", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)

    async def _run_redis(self) -> None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.redis_url)  # type: ignore[arg-type]
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(*CHANNELS)
            await self.drain()  # what was committed while we were away
            self.ready.set()
            while True:
                msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_S)
                if msg is None or msg.get("type") == "message":
                    await self.drain()
        finally:
            await pubsub.aclose()
            await client.aclose()

    async def _run_pg(self) -> None:
        import psycopg

        from gridcast.services import libpq_url

        async with await psycopg.AsyncConnection.connect(
            libpq_url(self.pg_url), autocommit=True
        ) as conn:
            for ch in CHANNELS:
                await conn.execute(f'LISTEN "{ch}"')
            await self.drain()  # what was committed while we were away
            self.ready.set()
            while True:
                async for _ in conn.notifies(timeout=POLL_S, stop_after=1):
                    pass
                await self.drain()

    async def listen(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        sub = _Sub()
        last = 0  # the position of the last payload yielded
        self._subs[channel].add(sub)
        try:
            while True:
                if sub.lagging and sub.queue.empty():
                    # the queue overflowed: read what it missed from the outbox, then rejoin
                    upto = self.position or 0
                    last = max(last, sub.missed_after)
                    rows = await self._query(
                        "SELECT position, payload FROM indexer_outbox WHERE channel = %s AND "
                        "position > %s AND position <= %s ORDER BY position LIMIT %s",
                        (channel, last, upto, PAGE),
                    )
                    if len(rows) < PAGE and (self.position or 0) == upto:
                        sub.lagging = False
                    for pos, payload in rows:
                        last = int(pos)
                        yield payload
                    continue
                pos, payload = await sub.queue.get()
                if pos > last:
                    last = pos
                    yield payload
        finally:
            self._subs[channel].discard(sub)


class _Sub:
    """One subscriber's queue of (position, payload); ``lagging`` once it overflowed."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.lagging = False
        self.missed_after = 0  # rows after this position were not queued

    def offer(self, position: int, payload: dict[str, Any]) -> None:
        if self.lagging:
            return
        if self.queue.full():  # a slow consumer reads the rest from the outbox
            self.lagging = True
            self.missed_after = position - 1
            return
        self.queue.put_nowait((position, payload))
