"""The indexing loop: backfill from the checkpoint to the head, then follow new heads.

Each batch (one adaptive block range) is one transaction: raw logs, entity versions, indexing
errors, hashes of unfinalized blocks and the checkpoint, planned by the handlers' thread as COPY
text and statements (indexer.writer). Blocks older than head − finality_depth are fetched and
decoded ahead by a thread, and written by a writer (a process for a long backfill, else a
thread): batch n's transaction runs while batch n+1's handlers run (one batch in flight,
committed in order); younger blocks are fetched with their headers, checked for reorgs and
written one at a time.
"""

from __future__ import annotations

import gc
import logging
import queue
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from gridcast.chain.deployment import Deployment
from indexer import metrics, reorg
from indexer.decoder import DecodeError, Event, LogDecoder
from indexer.errors import NonRetryableError, RangeTooLargeError, RetryableError
from indexer.handlers import HANDLERS
from indexer.handlers.common import KeyCollector
from indexer.heads import HeadWatcher
from indexer.notify import Notifier
from indexer.rpc import RpcClient
from indexer.store import Store, WriteSet
from indexer.store import steps as version_steps
from indexer.writer import Step, Wake, WriterProcess
from indexer.writer import commit as commit_plan

log = logging.getLogger("gridcast.indexer")
INDEXED_CONTRACTS = ("OperatorStaking", "ForecastRegistry", "Settlement")
# Second-wave contract → the Deployment field holding its address (empty when not deployed).
SECOND_WAVE = {
    "MeteredDelivery": "delivery",
    "AssetRegistry": "assets",
    "EnergyExchange": "exchange",
    "EnergyCertificates": "certificates",
}


def indexed_addresses(dep: Deployment) -> dict[str, str]:
    """Address → contract name of everything the indexer follows: INDEXED_CONTRACTS, plus the
    governor when the deployment has one (its events: indexer/handlers/governance.py) and the
    second-wave contracts it has (handlers: delivery, assets, exchange, certificates)."""
    addresses = {dep.addresses[c]: c for c in INDEXED_CONTRACTS}
    if dep.governor:
        addresses[dep.governor] = "GridGovernor"
    for name, address in SECOND_WAVE.items():
        if getattr(dep, address, ""):
            addresses[getattr(dep, address)] = name
    return addresses


LOCK_KEY = 0x67726964  # one writer per database
BACKFILL_SWITCH_INTERVAL_S = 0.005  # sys.setswitchinterval while backfilling (see _backfill)
BACKFILL_GC_THRESHOLD = (100_000, 20, 10)  # gc.set_threshold while backfilling (see _backfill)


def pg_url(url: str) -> str:
    """SQLAlchemy URL → libpq URL."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


@dataclass
class IndexerConfig:
    rpc_url: str
    database_url: str
    deployment: Deployment
    ws_url: str | None = None
    redis_url: str | None = None
    start_block: int | None = None
    finality_depth: int = 64
    max_block_range: int = 10_000
    initial_block_range: int = 100
    target_logs_per_batch: int = 10_000  # and the most one batch holds (see _split)
    poll_interval_s: float = 0.2
    progress: bool = False
    max_consecutive_failures: int = 20
    rpc_timeout_s: float = 30.0
    cache_entities: int = 50_000  # current entity versions kept between batches
    # a backfill of at least this many blocks commits through a writer process (see _backfill)
    writer_process_min_blocks: int = 256
    outbox_keep: int = 100_000  # outbox retention: see indexer.models.outbox
    outbox_max_age_s: float = 7 * 86_400


@dataclass
class Chunk:
    start: int
    end: int
    raw: list[tuple[Any, ...]]
    items: list[Event | tuple[dict[str, Any], str]] = field(default_factory=list)
    keys: KeyCollector = field(default_factory=KeyCollector)  # entities the handlers may read


@dataclass
class Batch:
    """A chunk whose handlers ran: what its transaction writes, as a plan (indexer.writer)."""

    chunk: Chunk
    writes: WriteSet
    errors: int
    plan: list[Step]


_COPY_SAFE = re.compile(r"[0-9A-Za-z_\t,]*")


def _copy_line(row: tuple[Any, ...]) -> str | None:
    """A raw_logs row as one line of COPY text, or None when a field would need quoting or
    escaping (never for a well-formed log: numbers, 0x-hex and names); ~3x cheaper than
    ``write_row``, which dumps the topics list value by value."""
    bn, li, bh, tx, addr, topics, data, contract, name = row
    tp = ",".join(topics)
    text = f"{bh}\t{tx}\t{addr}\t{tp}\t{data}\t{contract or ''}\t{name or ''}"
    # no tab inside a field, no comma inside a topic, no empty topic (the array literal)
    if (not _COPY_SAFE.fullmatch(text) or text.count("\t") != 6
            or tp.count(",") != max(0, len(topics) - 1) or "" in topics):  # fmt: skip
        return None
    return (f"{bn}\t{li}\t{bh}\t{tx}\t{addr}\t{{{tp}}}\t{data}\t"
            f"{contract if contract is not None else NULL}\t"
            f"{name if name is not None else NULL}\n")  # fmt: skip


NULL = "\\N"


class Indexer:
    def __init__(self, cfg: IndexerConfig) -> None:
        self.cfg = cfg
        self.rpc = RpcClient(cfg.rpc_url, timeout_s=cfg.rpc_timeout_s, on_error=metrics.rpc_error)
        addresses = indexed_addresses(cfg.deployment)
        self.addresses = [a.lower() for a in addresses]
        self.decoder = LogDecoder(addresses)
        self.store = Store(cfg.cache_entities)
        self.notifier = Notifier(
            cfg.redis_url, keep=cfg.outbox_keep, max_age_s=cfg.outbox_max_age_s
        )
        self.range_size = min(cfg.initial_block_range, cfg.max_block_range)
        self.conn: psycopg.Connection[Any] | None = None
        self.reader: psycopg.Connection[Any] | None = None  # the store's reads
        self.events_total = 0
        self.head = 0

    # ---- setup ----

    def connect(self) -> psycopg.Connection[Any]:
        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(pg_url(self.cfg.database_url))
            self.conn.autocommit = True
            got = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
            if not got or not got[0]:
                raise NonRetryableError("another indexer holds this database's writer lock")
            # autocommit: every write goes through an explicit `with conn.transaction()` block
            if self.reader is not None and not self.reader.closed:
                self.reader.close()
            self.reader = psycopg.connect(pg_url(self.cfg.database_url), autocommit=True)
            self.store.reset()
            self.store.bind(self.reader)
        return self.conn

    def checkpoint(self) -> int:
        conn = self.connect()
        with conn.transaction():
            row = conn.execute(
                "SELECT block_number FROM indexer_checkpoint WHERE name = 'default'"
            ).fetchone()
            if row is not None:
                return int(row[0])
            start = self.cfg.start_block
            if start is None:
                start = self.cfg.deployment.block
            conn.execute(
                "INSERT INTO indexer_checkpoint (name, chain_id, block_number) "
                "VALUES ('default', %s, %s)",
                (self.cfg.deployment.chain_id, start - 1),
            )
            return start - 1

    # ---- fetching ----

    def _decode(self, start: int, end: int, logs: list[dict[str, Any]]) -> Chunk:
        chunk = Chunk(start, end, [])
        decode, items, raw, add_keys = self.decoder.decode, chunk.items, chunk.raw, chunk.keys.add
        for lg in logs:
            contract: str | None
            name: str | None
            try:
                ev = decode(lg)
                items.append(ev)
                add_keys(ev)
                bn, li, address = ev.block_number, ev.log_index, ev.address
                contract, name = ev.contract, ev.name
            except DecodeError as exc:
                bn, li = int(lg["blockNumber"], 16), int(lg["logIndex"], 16)
                items.append((lg, str(exc)))
                address = str(lg["address"]).lower()
                contract = self.decoder.addresses.get(address)
                name = None
            raw.append(
                (bn, li, lg["blockHash"], lg["transactionHash"], address,
                 lg["topics"], lg["data"], contract, name)
            )  # fmt: skip
        return chunk

    def fetch(self, start: int, end: int) -> Iterator[Chunk]:
        """Adaptive ranges: grow while results are small, halve on refusals; never skip."""
        pos = start
        failures = 0
        while pos <= end:
            stop = min(end, pos + self.range_size - 1)
            try:
                logs = self.rpc.get_logs(self.addresses, pos, stop)
            except RangeTooLargeError:
                if self.range_size > 1:
                    self.range_size = max(1, self.range_size // 2)
                else:
                    failures += 1
                    time.sleep(random.uniform(0, min(5.0, 0.05 * 2**failures)))
                continue
            failures = 0
            yield from self._split(pos, stop, logs)
            pos = stop + 1
            if len(logs) < self.cfg.target_logs_per_batch // 2:
                self.range_size = min(self.cfg.max_block_range, self.range_size * 2)
            elif len(logs) > self.cfg.target_logs_per_batch:
                self.range_size = max(1, self.range_size // 2)

    def _split(self, start: int, end: int, logs: list[dict[str, Any]]) -> Iterator[Chunk]:
        """A reply above target_logs_per_batch becomes several batches cut at block boundaries
        (a block is never split), so a batch's memory is bounded whatever the range held."""
        limit = max(1, self.cfg.target_logs_per_batch)
        lo, first = 0, start
        while True:
            hi = min(len(logs), lo + limit)
            last = end
            if hi < len(logs):
                block = logs[hi - 1]["blockNumber"]
                while hi < len(logs) and logs[hi]["blockNumber"] == block:
                    hi += 1
                if hi < len(logs):
                    last = int(block, 16)
            yield self._decode(first, last, logs[lo:hi])
            if last == end:
                return
            lo, first = hi, last + 1

    def _prefetch(self, start: int, end: int) -> Iterator[Chunk]:
        """Fetch and decode ahead on a thread while the main thread writes."""
        q: queue.Queue[Chunk | BaseException | None] = queue.Queue(maxsize=2)
        stop = threading.Event()

        def work() -> None:
            try:
                for chunk in self.fetch(start, end):
                    while not stop.is_set():
                        try:
                            q.put(chunk, timeout=0.5)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                q.put(None)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                q.put(exc)

        t = threading.Thread(target=work, name="fetch", daemon=True)
        t.start()
        try:
            while True:
                item = q.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            t.join(timeout=5)

    # ---- writing ----

    def write(self, chunk: Chunk, headers: list[dict[str, Any]] | None) -> None:
        """Run the chunk's handlers and commit it (unpipelined)."""
        batch = self.handle(chunk, headers)
        try:
            self.commit(batch)
        except BaseException:
            self.store.reset()
            raise
        self.store.release(batch.writes)

    def handle(self, chunk: Chunk, headers: list[dict[str, Any]] | None) -> Batch:
        """Run the handlers of a chunk on the store (no database write) and plan its
        transaction; the store is reset if one raises."""
        self.connect()
        store = self.store
        errors: list[tuple[Any, ...]] = []
        try:
            store.prefetch(chunk.keys.keys())
            get = HANDLERS.get
            for item in chunk.items:
                if isinstance(item, Event):
                    handler = get((item.contract, item.name))
                    if handler is not None:
                        handler(item, store)
                else:
                    lg, message = item
                    errors.append(
                        (int(lg["blockNumber"], 16), int(lg["logIndex"], 16),
                         lg.get("transactionHash"), str(lg.get("address", "")).lower()[:42],
                         "decode", message,
                         Jsonb({"topics": lg.get("topics"), "data": lg.get("data")}))
                    )  # fmt: skip
            writes = store.seal()
            plan = self._plan(chunk, headers, writes, errors)
        except BaseException:
            store.reset()
            raise
        return Batch(chunk, writes, len(errors), plan)

    def _plan(
        self,
        chunk: Chunk,
        headers: list[dict[str, Any]] | None,
        writes: WriteSet,
        errors: list[tuple[Any, ...]],
    ) -> list[Step]:
        """One transaction: raw logs, errors, headers, entity versions, checkpoint, outbox."""
        plan: list[Step] = []
        if chunk.raw:
            lines, odd = [], []
            for row in chunk.raw:
                line = _copy_line(row)
                if line is None:
                    odd.append(row)
                else:
                    lines.append(line)
            plan.append((
                "copy", "COPY raw_logs (block_number, log_index, block_hash, tx_hash, address, "
                "topics, data, contract, event) FROM STDIN", "".join(lines).encode(), odd,
            ))  # fmt: skip
        if errors:
            plan.append((
                "many", "INSERT INTO indexing_errors (block_number, log_index, tx_hash, address, "
                "kind, message, detail) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING", errors,
            ))  # fmt: skip
        end_hash = None
        if headers:
            plan.append((
                "many", "INSERT INTO indexed_blocks (number, hash, parent_hash, timestamp) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (number) DO UPDATE SET "
                "hash = EXCLUDED.hash, parent_hash = EXCLUDED.parent_hash, "
                "timestamp = EXCLUDED.timestamp",
                [(int(h["number"], 16), h["hash"], h["parentHash"], int(h["timestamp"], 16))
                 for h in headers],
            ))  # fmt: skip
            plan.append((
                "exec", "DELETE FROM indexed_blocks WHERE number < %s",
                (self.head - self.cfg.finality_depth,),
            ))  # fmt: skip
            if int(headers[-1]["number"], 16) == chunk.end:
                end_hash = headers[-1]["hash"]
        assert self.reader is not None
        plan += version_steps(writes, self.reader.cursor())
        plan.append((
            "exec", "UPDATE indexer_checkpoint SET block_number = %s, block_hash = %s, "
            "head_block = %s, updated_at = now() WHERE name = 'default'",
            (chunk.end, end_hash, self.head),
        ))  # fmt: skip
        messages = self.notifier.messages(writes.notifications, chunk.end, end_hash, len(chunk.raw))
        plan += self.notifier.steps(messages, chunk.end)
        return plan

    def commit(self, batch: Batch) -> None:
        """Run the batch's transaction on the writer connection (safe on the writer thread)."""
        conn = self.conn
        assert conn is not None and not conn.closed, "connect() first"
        t0 = time.perf_counter()
        self._committed(batch, commit_plan(conn, batch.plan), time.perf_counter() - t0)

    def _committed(self, batch: Batch, wake: Wake, dt: float) -> None:
        self.notifier.after_commit(wake)
        chunk = batch.chunk
        n = len(chunk.raw)
        self.events_total += n
        metrics.EVENTS.inc(n)
        metrics.INDEXING_ERRORS.inc(batch.errors)
        metrics.INDEXED_BLOCK.set(chunk.end)
        metrics.LAG_BLOCKS.set(max(0, self.head - chunk.end))
        if dt > 0:
            metrics.EVENTS_PER_S.set(n / dt)

    def _backfill(self, start: int, end: int, advance: Callable[[Chunk], None]) -> None:
        """Finalized blocks: fetch+decode on one thread, handlers (and the plan of each batch's
        transaction) here, each transaction on a writer while the next batch's handlers run.
        The writer is a process for a long range (``writer_process_min_blocks``, see
        indexer.writer: a thread waits for the GIL behind the handlers), else a thread (no
        start-up cost for the few blocks a followed head adds). Batches commit in order; the
        first failure stops the run (nothing after it is committed) and resets the store, and
        the caller resumes from the checkpoint."""
        self.connect()
        # The handlers' thread gives the GIL up every 5 ms for the fetch and writer threads
        # (100 ms made the writer thread wait: 12% slower at load 6-9; 1 ms: no better).
        previous = sys.getswitchinterval()
        sys.setswitchinterval(BACKFILL_SWITCH_INTERVAL_S)
        # A batch allocates ~20 objects per event (versions, rows, payloads), nearly all freed
        # by reference counting, yet at the default threshold (700) the cyclic collector ran
        # ~2,600 times per 100k events, full passes walking the cache, the startup heap and
        # all: a quarter of the process's CPU. The startup heap is frozen out of it and young
        # collections come every 100k allocations (some cyclic garbage does arise: with the
        # collector off, RSS at 100k events grew from ~350 to ~435 MB).
        gc_before = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(*BACKFILL_GC_THRESHOLD)
        process: WriterProcess | None = None
        pool: ThreadPoolExecutor | None = None
        if end - start + 1 >= self.cfg.writer_process_min_blocks:
            process = WriterProcess(pg_url(self.cfg.database_url))
            log.info("backfill %d..%d: transactions through a writer process", start, end)
        else:
            pool = ThreadPoolExecutor(1, thread_name_prefix="write")
        conn = self.conn
        inflight: tuple[Future[Wake] | None, Batch, float] | None = None

        def submit(batch: Batch) -> tuple[Future[Wake] | None, Batch, float]:
            t0 = time.perf_counter()
            if process is not None:
                process.submit(batch.plan)
                batch.plan = []  # the child has it: ~20 MB a batch less to hold meanwhile
                return None, batch, t0
            assert pool is not None
            return pool.submit(commit_plan, conn, batch.plan), batch, t0  # type: ignore[arg-type]

        def landed(fut: Future[Wake] | None, batch: Batch, t0: float) -> None:
            wake = fut.result() if fut is not None else process.result()  # type: ignore[union-attr]
            self._committed(batch, wake, time.perf_counter() - t0)
            self.store.release(batch.writes)
            advance(batch.chunk)

        try:
            for chunk in self._prefetch(start, end):
                batch = self.handle(chunk, None)
                if inflight is not None:
                    waiting, inflight = inflight, None
                    landed(*waiting)
                inflight = submit(batch)
            if inflight is not None:
                waiting, inflight = inflight, None
                landed(*waiting)
        except BaseException:
            if inflight is not None:  # wait: the writer connection is ours again after
                if inflight[0] is not None:
                    inflight[0].exception()
                else:
                    try:
                        process.result()  # type: ignore[union-attr]
                    except BaseException:  # noqa: BLE001 - the first failure is raised
                        pass
            self.store.reset()
            raise
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
            if process is not None:
                process.close()
            sys.setswitchinterval(previous)
            gc.set_threshold(*gc_before)
            gc.unfreeze()

    # ---- the loop ----

    def _tail(self, start: int, end: int) -> None:
        """Unfinalized blocks: logs with headers, checked against stored hashes."""
        for chunk in self.fetch(start, end):
            numbers = list(range(chunk.start, chunk.end + 1))
            headers = self.rpc.get_blocks(numbers)
            if any(h is None for h in headers):
                raise RetryableError(f"blocks {chunk.start}..{chunk.end} vanished (reorg?)")
            reorg.check_headers(self.connect(), headers)
            hashes = {int(h["number"], 16): h["hash"] for h in headers}
            if any(hashes.get(r[0]) != r[2] for r in chunk.raw):
                raise RetryableError("logs and headers disagree: the chain moved, re-reading")
            self.write(chunk, headers)

    def _verify_tip(self, checkpoint: int) -> None:
        """With no new blocks, make sure the block we stopped at is still canonical."""
        conn = self.connect()
        with conn.transaction():
            stored = reorg.stored_hash(conn, checkpoint)
        if stored is None:
            return
        block = self.rpc.get_block(checkpoint)
        if block is None or block["hash"] != stored:
            raise reorg.ReorgDetected(checkpoint)

    def _rollback(self) -> None:
        conn = self.connect()
        with conn.transaction():
            ancestor = reorg.find_ancestor(conn, self.rpc, self.cfg.finality_depth)
            depth = reorg.rollback(conn, ancestor)
            messages = self.notifier.messages(
                [("gridcast:reorg", {"ancestor": ancestor, "depth": depth, "block": ancestor})],
                ancestor, None, 0,
            )  # fmt: skip
            wake = self.notifier.in_transaction(conn, messages, ancestor)
        self.store.reset()
        self.notifier.after_commit(wake)
        metrics.REORGS.inc()
        metrics.ROLLBACK_DEPTH.set(depth)
        log.warning("reorg: rolled back %d blocks to ancestor %d", depth, ancestor)

    def sync(self) -> int:
        """Index everything up to the current head; returns the indexed block."""
        checkpoint = self.checkpoint()
        self.head = self.rpc.block_number()
        metrics.HEAD_BLOCK.set(self.head)
        if self.head <= checkpoint:
            self._verify_tip(min(checkpoint, self.head))
            return checkpoint
        safe = self.head - self.cfg.finality_depth
        if checkpoint < safe:
            # the backfill path reads no headers: first make sure our tip is still canonical
            self._verify_tip(checkpoint)
            with self._progress(checkpoint + 1, safe) as advance:
                self._backfill(checkpoint + 1, safe, advance)
            checkpoint = safe
        self._tail(checkpoint + 1, self.head)
        return self.head

    def run(self, *, follow: bool = True, stop: threading.Event | None = None) -> None:
        """Backfill, then follow new heads until ``stop`` is set (or once when not following)."""
        stop = stop or threading.Event()
        watcher = HeadWatcher(self.cfg.ws_url if follow else None, self.cfg.poll_interval_s)
        failures = 0
        try:
            while not stop.is_set():
                try:
                    self.sync()
                    failures = 0
                    if not follow:
                        return
                    watcher.wait()
                except reorg.ReorgDetected:
                    self._rollback()
                except RetryableError as exc:
                    failures += 1
                    log.warning("retrying after %s (%d in a row)", exc, failures)
                    if failures >= self.cfg.max_consecutive_failures:
                        raise NonRetryableError(
                            f"halting after {failures} consecutive failures: {exc}"
                        ) from exc
                    time.sleep(random.uniform(0, min(5.0, 0.1 * 2**failures)))
                except psycopg.OperationalError as exc:
                    failures += 1
                    log.warning("database error: %s", exc)
                    if failures >= self.cfg.max_consecutive_failures:
                        raise
                    self.conn = None
                    time.sleep(min(5.0, 0.1 * 2**failures))
        finally:
            watcher.close()

    def close(self) -> None:
        self.rpc.close()
        if self.conn is not None:
            self.conn.close()
        if self.reader is not None:
            self.reader.close()

    # ---- progress ----

    def _progress(self, start: int, end: int) -> Any:
        from contextlib import contextmanager

        @contextmanager
        def plain() -> Iterator[Any]:
            yield lambda chunk: None

        if not self.cfg.progress:
            return plain()
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        @contextmanager
        def bar() -> Iterator[Any]:
            t0 = time.perf_counter()
            events0 = self.events_total
            with Progress(
                TextColumn("[bold]backfill"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[bps]:>9.0f} blocks/s {task.fields[eps]:>9.0f} events/s"),
                TimeRemainingColumn(),
            ) as progress:
                task = progress.add_task("blocks", total=end - start + 1, bps=0.0, eps=0.0)

                def advance(chunk: Chunk) -> None:
                    dt = max(1e-9, time.perf_counter() - t0)
                    done = chunk.end - start + 1
                    progress.update(
                        task, completed=done, bps=done / dt, eps=(self.events_total - events0) / dt
                    )

                yield advance

        return bar()
