"""One stack for the browser tests: anvil with a bootstrapped market and two played rounds,
indexed into Postgres by the real indexer, the API (with the built dashboard at /) served by
uvicorn, and Debian's chromium driven by Playwright with an EIP-1193 test provider injected into
every page. Everything is session-scoped: the stack starts once for all browser tests."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from gridcast.localnet import LocalMarket
from gridcast.node import AnvilNode

CHROMIUM = Path("/usr/bin/chromium")
DIST = Path(__file__).resolve().parents[2] / "api" / "web" / "dist"
WALLET_KEY = 7  # a dev key no market operator uses
CHAIN_ID = 31337


def _load_api_helpers() -> Any:
    # the API tests' world helpers (market, play_round, index, serve, api_settings), by path: a
    # `tests` package from site-packages shadows ours. Loaded as a module of a stand-in package
    # over tests/api, so the conftest's relative imports (its second-wave world) resolve.
    import types

    here = Path(__file__).resolve().parent.parent / "api"
    pkg = types.ModuleType("gridcast_web_api")
    pkg.__path__ = [str(here)]
    sys.modules[pkg.__name__] = pkg
    spec = importlib.util.spec_from_file_location(f"{pkg.__name__}.conftest", here / "conftest.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


api = _load_api_helpers()


@dataclass
class Stack:
    node: AnvilNode
    market: LocalMarket
    feed: str
    db_url: str
    redis_url: str
    url: str
    app: Any
    rounds: list[dict[str, Any]] = field(default_factory=list)

    def index(self) -> int:
        return int(api.index(self.node, self.market, self.db_url, self.redis_url))

    def gql(self, query: str) -> Any:
        r = httpx.post(f"{self.url}/graphql", json={"query": query}, timeout=30)
        body = r.json()
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, fresh_database: Any, redis_url: str
) -> Iterator[Stack]:
    from api.app import create_app
    from indexer.db.engine import upgrade

    if not (DIST / "index.html").is_file():
        pytest.fail("the dashboard is not built: run ./scripts/setup.sh (npm run build in api/web)")
    db_url = fresh_database("gridcast_web")
    upgrade(db_url)
    state: Path = tmp_path_factory.mktemp("web-stack")
    with AnvilNode() as node:
        m = api.market(node, state, operators=3)
        feed = sorted(m.params)[0]
        # play from the feed's genesis on: rounds far ahead of the chain's clock may be refused
        api.scenario._warp(node, m.params[feed].genesis)
        rounds = [api.play_round(node, m, feed, seed=s) for s in (1, 2)]
        api.index(node, m, db_url, redis_url)
        settings = api.api_settings(node, db_url, redis_url, state)
        app = create_app(settings, deployment="gridcast-web-test")
        with api.serve(app) as url:
            yield Stack(node, m, feed, db_url, redis_url, url, app, rounds)


# An EIP-1193 provider: every request goes to the test's Python handler (exposed as a binding).
PROVIDER_JS = """
(() => {
  const listeners = {};
  window.ethereum = {
    isGridcastTest: true,
    async request({ method, params }) {
      const out = JSON.parse(await window.__gridcastRpc(method, JSON.stringify(params ?? [])));
      if (out.error) {
        const err = new Error(out.error.message);
        err.code = out.error.code;
        if (out.error.data !== undefined) err.data = out.error.data;
        throw err;
      }
      return out.result;
    },
    on(ev, fn) { (listeners[ev] ??= []).push(fn); },
    removeListener(ev, fn) { listeners[ev] = (listeners[ev] ?? []).filter((f) => f !== fn); },
  };
})();
"""


class TestProvider:
    """Answers the page's wallet requests with a dev key: accounts and chain id locally,
    personal_sign and eth_sendTransaction signed here, everything else forwarded to anvil."""

    def __init__(self, rpc_url: str, key: int = WALLET_KEY) -> None:
        from web3 import Web3

        from gridcast.chain.keys import dev_account

        self.account = dev_account(key, CHAIN_ID)
        self.rpc_url = rpc_url
        self.w3 = Web3(Web3.HTTPProvider(rpc_url))

    def _forward(self, method: str, params: list[Any]) -> dict[str, Any]:
        r = httpx.post(
            self.rpc_url,
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
            timeout=30,
        )
        body: dict[str, Any] = r.json()
        return {k: body[k] for k in ("result", "error") if k in body}

    def handle(self, method: str, params_json: str) -> str:
        from eth_account.messages import encode_defunct

        params: list[Any] = json.loads(params_json)
        address = self.account.address
        if method in ("eth_requestAccounts", "eth_accounts"):
            out: dict[str, Any] = {"result": [address]}
        elif method == "eth_chainId":
            out = {"result": hex(CHAIN_ID)}
        elif method == "personal_sign":
            msg = encode_defunct(hexstr=params[0])
            out = {
                "result": "0x" + self.account.sign_message(msg).signature.hex().removeprefix("0x")
            }
        elif method == "eth_sendTransaction":
            tx = dict(params[0])
            fields: dict[str, Any] = {
                "from": address,
                "to": self.w3.to_checksum_address(tx["to"]),
                "data": tx.get("data") or tx.get("input") or "0x",
                "value": int(tx.get("value") or "0x0", 16),
                "chainId": CHAIN_ID,
                "nonce": self.w3.eth.get_transaction_count(address, "pending"),
            }
            fields["gas"] = self.w3.eth.estimate_gas(fields)  # type: ignore[arg-type]
            fields["gasPrice"] = self.w3.eth.gas_price
            signed = self.account.sign_transaction(fields)
            out = self._forward("eth_sendRawTransaction", ["0x" + signed.raw_transaction.hex()])
        else:
            out = self._forward(method, params)
        return json.dumps(out)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    # waits, not timings: a loaded 2-core machine can take seconds to sign, mine and index
    expect.set_options(timeout=60_000)

    exe = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if not exe:
        pytest.fail("Debian's chromium is missing: ./scripts/setup.sh installs it (as root)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(exe), args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@dataclass
class Session:
    page: Any
    provider: TestProvider
    errors: list[str]


@contextmanager
def _session(browser: Any, url: str, node: AnvilNode) -> Iterator[Session]:
    """A fresh page on ``url`` with the test wallet; fails on any console or page error."""
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    provider = TestProvider(node.url)
    # the dev key is outside anvil's funded mnemonic accounts: give it gas money
    node.rpc("anvil_setBalance", [provider.account.address, hex(10**21)])
    context.expose_function("__gridcastRpc", provider.handle)
    context.add_init_script(PROVIDER_JS)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.set_default_timeout(60_000)
    try:
        yield Session(page, provider, errors)
        assert errors == [], errors
    finally:
        context.close()


@pytest.fixture()
def web(browser: Any, stack: Stack) -> Iterator[Session]:
    """A fresh page with the test wallet; fails the test on any console error or page error."""
    with _session(browser, stack.url, stack.node) as s:
        yield s


@dataclass
class Green:
    """The second-wave world (tests/indexer/second_wave.py: assets, a traded and settled book
    with an imbalance, certificates claimed, moved and retired), indexed and served."""

    g: Any
    db_url: str
    redis_url: str
    url: str
    app: Any

    def index(self) -> int:
        return int(api.index(self.g.node, self.g.lm, self.db_url, self.redis_url))

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        r = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30
        )
        body = r.json()
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture(scope="session")
def green(
    tmp_path_factory: pytest.TempPathFactory, fresh_database: Any, redis_url: str
) -> Iterator[Green]:
    from api.app import create_app
    from indexer.db.engine import upgrade

    if not (DIST / "index.html").is_file():
        pytest.fail("the dashboard is not built: run ./scripts/setup.sh (npm run build in api/web)")
    world = sys.modules["gridcast_web_api.second_wave_world"]
    sw = world.sw
    db_url = fresh_database("gridcast_web_green")
    upgrade(db_url)
    state: Path = tmp_path_factory.mktemp("web-green")
    with AnvilNode() as node:
        g = sw.build(node, state)
        sw.trade(g, sw.consensus(g, api.scenario.play_round))
        sw.certify(g)
        sw.settle_renewable(g)
        api.index(node, g.lm, db_url, redis_url)
        world.land(db_url, g)
        app = create_app(
            api.api_settings(node, db_url, redis_url, state), deployment="gridcast-web-green"
        )
        with api.serve(app) as url:
            yield Green(g, db_url, redis_url, url, app)


@pytest.fixture()
def green_web(browser: Any, green: Green) -> Iterator[Session]:
    with _session(browser, green.url, green.g.node) as s:
        yield s
