"""The word-slicing log decoder gives what eth-abi gives on every log of a real chain, and
refuses the same malformed payloads."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from gridcast.node import AnvilNode
from indexer.decoder import DecodeError, LogDecoder
from indexer.runner import indexed_addresses
from tests.indexer.scenario import market, play_round
from tests.indexer.test_indexer import _chain_logs


def _slow(decoder: LogDecoder) -> LogDecoder:
    slow = copy.copy(decoder)
    slow._specs = {t: copy.copy(s) for t, s in decoder._specs.items()}
    for spec in slow._specs.values():
        spec.fast = None
    return slow


def test_fast_decoder_matches_eth_abi_on_a_real_chain(tmp_path: Path) -> None:
    with AnvilNode() as node:
        m = market(node, tmp_path)
        play_round(node, m, sorted(m.params)[0], 1)
        logs = _chain_logs(node, m.deployment)
    fast = LogDecoder(indexed_addresses(m.deployment))
    slow = _slow(fast)
    names = set()
    for lg in logs:
        a, b = fast.decode(lg), slow.decode(lg)
        assert a == b
        names.add(a.name)
    assert {"ForecastsCommitted", "ForecastsRevealed", "ForecastScored", "EpochSettled"} <= names
    assert sum(s.fast is not None for s in fast._specs.values()) >= 20
    # malformed payloads: refused (eth-abi agrees on these three; it reads some short heads)
    reveal = next(lg for lg in logs if fast.decode(lg).name == "ForecastsRevealed")
    scored = next(lg for lg in logs if fast.decode(lg).name == "ForecastScored")
    bad = [
        dict(reveal, data=reveal["data"][:-64]),  # truncated array
        dict(scored, data="0x" + "ff" * 32 + scored["data"][66:]),  # bool out of range
        dict(scored, data="0x12345"),  # odd hex
    ]
    for lg in bad:
        for dec in (fast, slow):
            with pytest.raises(DecodeError, match="undecodable"):
                dec.decode(lg)
    with pytest.raises(DecodeError, match="too short"):
        fast.decode(dict(scored, data=scored["data"][:130]))  # a head cut after two words
