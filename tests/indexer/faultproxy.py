"""A real HTTP JSON-RPC proxy in front of anvil that injects the faults public RPC providers
produce: 429s, 500s, timeouts (a reply slower than the client waits), truncated bodies, and
"too many results" / "range too large" refusals of wide eth_getLogs ranges."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOO_MANY = "query returned more than 10000 results"
RANGE_TOO_LARGE = "block range too large"


class FaultProxy:
    """``counts`` tallies injected faults under the indexer's metric kinds."""

    def __init__(
        self,
        upstream: str,
        *,
        seed: int = 7,
        p_429: float = 0.08,
        p_500: float = 0.08,
        p_truncate: float = 0.06,
        p_timeout: float = 0.03,
        max_timeouts: int = 3,
        timeout_sleep_s: float = 1.5,
        max_log_range: int = 16,
    ) -> None:
        self.upstream = upstream
        self.rng = random.Random(seed)
        self.p = (p_429, p_500, p_truncate, p_timeout)
        self.max_timeouts = max_timeouts
        self.timeout_sleep_s = timeout_sleep_s
        self.max_log_range = max_log_range
        self.counts: Counter[str] = Counter()
        self.requests = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.handle(self, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _choose(self, payload: Any) -> str | None:
        with self._lock:
            self.requests += 1
            if isinstance(payload, dict) and payload.get("method") == "eth_getLogs":
                f = payload["params"][0]
                span = int(f["toBlock"], 16) - int(f["fromBlock"], 16) + 1
                if span > self.max_log_range:
                    self.counts["too_large"] += 1
                    return "too_many" if self.rng.random() < 0.5 else "range"
            p429, p500, ptrunc, ptimeout = self.p
            r = self.rng.random()
            kind: str | None = None
            if r < p429:
                kind = "rate_limit"
            elif r < p429 + p500:
                kind = "server"
            elif r < p429 + p500 + ptrunc:
                kind = "bad_body"
            elif r < p429 + p500 + ptrunc + ptimeout and self.counts["timeout"] < self.max_timeouts:
                kind = "timeout"
            if kind is not None:
                self.counts[kind] += 1
            return kind

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def handle(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        payload = json.loads(body)
        fault = self._choose(payload)
        if fault in ("too_many", "range"):
            message = TOO_MANY if fault == "too_many" else RANGE_TOO_LARGE
            err = {"jsonrpc": "2.0", "id": payload.get("id"),
                   "error": {"code": -32005, "message": message}}  # fmt: skip
            return self._reply(h, 200, json.dumps(err).encode())
        if fault == "rate_limit":
            return self._reply(h, 429, b'{"error":"too many requests"}')
        if fault == "server":
            return self._reply(h, 500, b"upstream exploded")
        if fault == "timeout":
            time.sleep(self.timeout_sleep_s)
        req = urllib.request.Request(self.upstream, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            data = resp.read()
        if fault == "bad_body":
            data = data[: max(1, len(data) // 2)]  # a complete HTTP reply carrying half a JSON
        try:
            self._reply(h, 200, data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): exactly the point
