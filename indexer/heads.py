"""New-head notifications: WebSocket ``eth_subscribe newHeads`` where the node offers it."""

from __future__ import annotations

import json
import logging
import threading

log = logging.getLogger("gridcast.indexer")


class HeadWatcher:
    """Sets an event on every new head; ``wait`` falls back to the poll interval without one."""

    def __init__(self, ws_url: str | None, poll_interval_s: float) -> None:
        self.ws_url = ws_url
        self.poll_interval_s = poll_interval_s
        self._event = threading.Event()
        self._stop = threading.Event()
        self.subscribed = False
        self._thread: threading.Thread | None = None
        if ws_url:
            self._thread = threading.Thread(target=self._run, name="heads", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        from websockets.sync.client import connect

        while not self._stop.is_set():
            try:
                with connect(self.ws_url or "", open_timeout=3, max_size=None) as ws:
                    ws.send(
                        json.dumps(
                            {
                                "jsonrpc": "2.0",
                                "id": 1,
                                "method": "eth_subscribe",
                                "params": ["newHeads"],
                            }  # fmt: skip
                        )
                    )
                    reply = json.loads(ws.recv(timeout=5))
                    if "error" in reply:
                        log.info("node refuses newHeads subscriptions; polling")
                        return
                    self.subscribed = True
                    while not self._stop.is_set():
                        try:
                            ws.recv(timeout=1.0)
                        except TimeoutError:
                            continue
                        self._event.set()
            except Exception as exc:  # noqa: BLE001 - any socket failure → poll, then retry
                self.subscribed = False
                log.info("newHeads subscription lost (%s); polling", exc)
                self._stop.wait(2.0)

    def wait(self) -> None:
        """Until a new head arrives (or the poll interval passes when not subscribed)."""
        timeout = 2.0 if self.subscribed else self.poll_interval_s
        self._event.wait(timeout)
        self._event.clear()

    def close(self) -> None:
        self._stop.set()
        self._event.set()
