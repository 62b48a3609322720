"""Fan-out of the indexer's notifications (Redis pub/sub, or Postgres LISTEN without Redis) to
subscription streams. One upstream connection per process; each subscriber gets a queue."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger("gridcast.api")
CHANNELS = (
    "gridcast:newBlock", "gridcast:forecastCommitted", "gridcast:forecastRevealed",
    "gridcast:consensusUpdated", "gridcast:epochSettled", "gridcast:truthSubmitted",
    "gridcast:reorg",
)  # fmt: skip
QUEUE_SIZE = 1000


class Hub:
    def __init__(self, redis_url: str | None, pg_url: str) -> None:
        self.redis_url = redis_url
        self.pg_url = pg_url
        self._subs: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.on_message: list[Any] = []  # async callbacks (channel, payload), e.g. re-verification

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

    async def _dispatch(self, channel: str, data: str | bytes) -> None:
        try:
            payload = json.loads(data)
        except ValueError:
            log.warning("undecodable notification on %s", channel)
            return
        for q in list(self._subs.get(channel, ())):
            if q.full():  # a slow consumer loses its oldest event rather than stalling the hub
                q.get_nowait()
            q.put_nowait(payload)
        for cb in self.on_message:
            try:
                await cb(channel, payload)
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
            except Exception:  # noqa: BLE001 - reconnect with backoff
                self.ready.clear()
                log.warning("notification listener failed; reconnecting", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)

    async def _run_redis(self) -> None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.redis_url)  # type: ignore[arg-type]
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(*CHANNELS)
            self.ready.set()
            async for msg in pubsub.listen():
                if msg.get("type") == "message":
                    ch = msg["channel"]
                    await self._dispatch(ch.decode() if isinstance(ch, bytes) else ch, msg["data"])
        finally:
            await pubsub.aclose()
            await client.aclose()

    async def _run_pg(self) -> None:
        import psycopg

        from indexer.runner import pg_url

        async with await psycopg.AsyncConnection.connect(
            pg_url(self.pg_url), autocommit=True
        ) as conn:
            for ch in CHANNELS:
                await conn.execute(f'LISTEN "{ch}"')
            self.ready.set()
            async for n in conn.notifies():
                await self._dispatch(n.channel, n.payload)

    async def listen(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subs[channel].add(q)
        try:
            while True:
                yield await q.get()
        finally:
            self._subs[channel].discard(q)
