"""Screenshots of the dashboard's main pages (PNG, into docs/) and their load times.

    .venv/bin/python api/web/scripts/screenshots.py http://127.0.0.1:8000 [--runs 5] [--out docs]

against a running `gridcast serve` (e.g. the one `gridcast demo` leaves live). For each page the
time to interactive is measured in a fresh browser context (cold cache) as the page's own clock
(performance.now(), from navigation start) when its main content is visible and its data loaded;
the median of --runs loads is printed."""

from __future__ import annotations

import argparse
import json
import statistics
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


def _first(base: str, query: str, path: list[str]) -> str | None:
    req = urllib.request.Request(
        f"{base}/graphql",
        json.dumps({"query": query}).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        data: Any = json.loads(r.read())["data"]
    for key in path:
        data = data[key]
        if isinstance(data, list):
            if not data:
                return None
            data = data[0]
    return str(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", help="The API's base URL, e.g. http://127.0.0.1:8000")
    ap.add_argument("--runs", type=int, default=5, help="Cold loads per page for the timing.")
    ap.add_argument("--out", type=Path, default=Path("docs"), help="Where the PNGs go.")
    args = ap.parse_args()
    base = args.base.rstrip("/")
    # the feed of the newest consensus: one with epochs to chart
    feed = _first(
        base,
        "{ consensuses(first: 1, orderBy: finalizedBlock, orderDirection: desc) { feedId } }",
        ["consensuses", "feedId"],
    )
    op = _first(
        base,
        "{ operators(first: 1, orderBy: forecastsRevealed, orderDirection: desc) { id } }",
        ["operators", "id"],
    )
    # (name, hash route, what must be visible for the page to count as interactive)
    pages = [
        ("overview", "#/", "table tbody tr >> nth=0"),
        ("feed", f"#/feed/{feed}", "[data-epochs] canvas"),
        ("operators", "#/operators", "[data-testid=leaderboard] tbody tr >> nth=0"),
        ("operator", f"#/operator/{op}", "[role=img] canvas"),
        ("exchange", "#/exchange", "[data-testid=books] tbody tr >> nth=0"),
        ("carbon", "#/carbon", "[data-testid=carbon-leaderboard] tbody tr >> nth=0"),
        ("governance", "#/governance", "[data-testid=proposals] tbody tr >> nth=0"),
        ("wallet", "#/wallet", "text=Connect wallet"),
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for name, route, ready in pages:
            times = []
            for i in range(args.runs):
                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                page = ctx.new_page()
                page.goto(f"{base}/{route}")
                page.locator(ready).first.wait_for(state="visible", timeout=30_000)
                times.append(float(page.evaluate("performance.now()")))
                if i == args.runs - 1:
                    if name == "feed":  # show one operator's forecasts next to the consensus
                        page.get_by_role("checkbox").first.check()
                    if name == "exchange":  # open the newest cleared book's depth
                        depth = page.get_by_role("button", name="Depth of epoch").first
                        if depth.count():
                            depth.click()
                    if name == "governance":  # open the newest proposal: actions and votes
                        opener = page.locator("[data-proposal] th button").first
                        if opener.count():
                            opener.click()
                    page.wait_for_timeout(300)  # let the chart settle for the picture
                    page.screenshot(path=str(args.out / f"dashboard-{name}.png"), full_page=False)
                ctx.close()
            print(
                f"{name:10s} time to interactive: median {statistics.median(times):7.1f} ms "
                f"(min {min(times):.1f}, max {max(times):.1f}, {args.runs} cold loads)"
            )
        browser.close()


if __name__ == "__main__":
    main()
