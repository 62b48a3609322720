"""Raw JSON-RPC over one persistent HTTP session (eth_getLogs, eth_getBlockByNumber, ...).

Faults are classified into :class:`RpcError` kinds so the caller can back off (rate limits, 5xx,
connection errors, truncated bodies) or shrink the block range (too many results, timeouts).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson

from indexer.errors import NonRetryableError, RangeTooLargeError, RpcError

TOO_LARGE_HINTS = (
    "too many",
    "range too large",
    "block range",
    "response size",
    "limit exceeded",
    "query returned more than",
    "exceed",
    "too large",
)


class RpcClient:
    """A JSON-RPC client with retries: ``on_error(kind)`` is called for every fault (metrics)."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 30.0,
        max_attempts: int = 12,
        backoff_base_s: float = 0.05,
        backoff_max_s: float = 5.0,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.url = url
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            limits=httpx.Limits(max_keepalive_connections=4),
            headers={"Content-Type": "application/json"},
        )
        self._id = 0
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.on_error = on_error or (lambda kind: None)

    def close(self) -> None:
        self._client.close()

    # ---- one request, classified ----

    def _post(self, payload: Any) -> Any:
        self._id += 1
        try:
            resp = self._client.post(self.url, content=json.dumps(payload))
        except httpx.TimeoutException as exc:
            raise RangeTooLargeError("timeout", str(exc) or "request timed out") from exc
        except (httpx.TransportError, OSError) as exc:
            raise RpcError("connection", str(exc) or type(exc).__name__) from exc
        if resp.status_code == 429:
            raise RpcError("rate_limit", "HTTP 429")
        if resp.status_code == 413:
            raise RangeTooLargeError("too_large", "HTTP 413")
        if resp.status_code >= 500:
            raise RpcError("server", f"HTTP {resp.status_code}")
        if resp.status_code >= 400:
            raise NonRetryableError(f"HTTP {resp.status_code}: {resp.text[:200]}")
        try:
            return orjson.loads(resp.content)  # 2-3x json.loads on large eth_getLogs replies
        except ValueError as exc:
            raise RpcError("bad_body", f"undecodable response ({len(resp.content)} bytes)") from exc

    @staticmethod
    def _check(reply: Any, method: str) -> Any:
        if not isinstance(reply, dict):
            raise RpcError("bad_body", f"{method}: unexpected reply shape")
        err = reply.get("error")
        if err:
            message = str(err.get("message", err)) if isinstance(err, dict) else str(err)
            low = message.lower()
            if any(h in low for h in TOO_LARGE_HINTS):
                raise RangeTooLargeError("too_large", f"{method}: {message}")
            if "rate" in low or "429" in low:
                raise RpcError("rate_limit", f"{method}: {message}")
            raise RpcError("rpc_error", f"{method}: {message}")
        if "result" not in reply:
            raise RpcError("bad_body", f"{method}: reply without result")
        return reply["result"]

    def _retrying(self, what: str, fn: Callable[[], Any], *, retry_too_large: bool) -> Any:
        for attempt in range(1, self.max_attempts + 1):
            try:
                return fn()
            except RangeTooLargeError as exc:
                self.on_error(exc.kind)
                if not retry_too_large or attempt == self.max_attempts:
                    raise
            except RpcError as exc:
                self.on_error(exc.kind)
                if attempt == self.max_attempts:
                    raise
            # exponential backoff with full jitter
            delay = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
            time.sleep(random.uniform(0, delay))
        raise AssertionError(f"unreachable: {what}")

    # ---- public calls ----

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        payload = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
        return self._retrying(
            method, lambda: self._check(self._post(payload), method), retry_too_large=True
        )

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """One HTTP request with many calls; results in the order given."""
        if not calls:
            return []
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)
        ]

        def once() -> list[Any]:
            replies = self._post(payload)
            if not isinstance(replies, list) or len(replies) != len(calls):
                raise RpcError("bad_body", "batch reply of the wrong length")
            by_id = {r.get("id"): r for r in replies if isinstance(r, dict)}
            return [self._check(by_id.get(i), calls[i][0]) for i in range(len(calls))]

        return list(self._retrying("batch", once, retry_too_large=True))

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def get_block(self, number: int) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.call("eth_getBlockByNumber", [hex(number), False])
        return result

    def get_blocks(self, numbers: list[int]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i in range(0, len(numbers), 500):
            chunk = numbers[i : i + 500]
            out += self.batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk])
        return out

    def get_logs(self, addresses: list[str], start: int, end: int) -> list[dict[str, Any]]:
        """Logs of ``addresses`` in [start, end]; RangeTooLargeError tells the caller to split."""
        params = [{"address": addresses, "fromBlock": hex(start), "toBlock": hex(end)}]
        payload = {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": params}
        result = self._retrying(
            "eth_getLogs",
            lambda: self._check(self._post(payload), "eth_getLogs"),
            retry_too_large=False,
        )
        if not isinstance(result, list):
            raise RpcError("bad_body", "eth_getLogs: result is not a list")
        return result
