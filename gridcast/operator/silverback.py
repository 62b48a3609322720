"""The oracle operator as a Silverback bot (``gridcast oracle run --runner silverback``).

Silverback delivers every new block (over a websocket subscription where the provider has one);
each block runs one :meth:`OperatorBot.step` — the same pass the loop runner makes, with the same
journal, so either runner can take over from the other. A pass still running when the next block
arrives makes that block a no-op rather than a second, concurrent pass. The operator's key comes
from the Gridcast options (Ape keystore alias or a local dev key), not from Silverback's signer:
the submitter signs with it directly. Returned numbers are Silverback metrics.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ape import chain
from silverback import SilverbackBot

from gridcast.operator.bot import OperatorBot
from gridcast.operator.build import OracleOptions, build_operator

log = logging.getLogger(__name__)

bot = SilverbackBot()
_pass_lock = threading.Lock()
# Kept out of `bot.state`, which Silverback snapshots and must stay plain data.
_operator: list[OperatorBot] = []


@bot.on_startup()
def start_operator(_startup_state: Any) -> None:
    operator, described = build_operator(OracleOptions.from_env(), w3=bot.provider.web3)
    _operator[:] = [operator]
    log.info("%s via silverback", described)


@bot.on_(chain.blocks)
def on_block(block: Any) -> dict[str, int]:
    if not _pass_lock.acquire(blocking=False):
        return {"skipped": 1}
    try:
        report = _operator[0].step()
    finally:
        _pass_lock.release()
    if report.did_something:
        log.info("block %s: %s", block.number, report)
    return {
        "committed": len(report.committed),
        "revealed": len(report.revealed),
        "missed": len(report.missed),
        "claimed": len(report.claimed),
        "errors": len(report.errors),
    }
