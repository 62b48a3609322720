"""Gas of renewable certificates on a real anvil node.

A solar asset with one meter delivers over 25 epochs of one UTC day; each epoch's delivery root
holds 64 meters (proofs of 6 siblings). ``mint_gas_per_epoch_1`` is a claim of one epoch;
``mint_gas_per_epoch_24`` is a claim of 24 epochs in one transaction divided by 24 (one
certificate id per asset and day, so one balance write); ``retire_gas`` is an account's first
retirement (new wallet and per-id counters), ``retire_gas_repeat`` its second.

Run: ``.venv/bin/python benchmarks/certificates.py``; writes benchmarks/results/certificates.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from exchange import Env, gas  # noqa: E402
from report import publish  # noqa: E402

from gridcast.chain.merkle import build_tree, meter_id  # noqa: E402
from gridcast.node import AnvilNode  # noqa: E402

OUT = Path(__file__).parent / "results" / "certificates.json"
EPOCHS = 25


def run() -> dict[str, float]:
    results: dict[str, float] = {}
    with AnvilNode(gas_limit=200_000_000).start() as node:
        env = Env(node, epochs=0, traders=1, day_aligned=True)
        owner = env.traders[0]
        asset = env.register(owner, "solar-bench")
        env.admin.transact(env.certificates, "setEmissionFactor", env.feed, 700)
        claims = []
        for e in range(EPOCHS):
            readings = {"solar-bench": 500_000 + e}
            readings.update({f"other-{i}": 1_000 + i for i in range(63)})
            tree = build_tree(e, readings)
            env.truth_and_root(e, tree)
            m = meter_id("solar-bench")
            claims.append((e, [tree.reading(m).energy_wh], [tree.proof(m)]))
        env.goto(env.epoch_end(EPOCHS - 1) + 601)
        meters = [meter_id("solar-bench")]
        r1 = owner.transact(env.certificates, "claim", asset, meters, claims[:1])
        r24 = owner.transact(env.certificates, "claim", asset, meters, claims[1:])
        results["mint_gas_per_epoch_1"] = gas(r1)
        results["mint_gas_per_epoch_24"] = round(gas(r24) / 24, 1)
        cid = (asset << 64) | (env.genesis // 86_400)
        assert env.certificates.functions.balanceOf(owner.address, cid).call() > 0, (
            "claims landed on another day id"
        )
        rr = owner.transact(env.certificates, "retire", cid, 100_000, "Acme Pty Ltd", "Scope 2")
        results["retire_gas"] = gas(rr)
        rr = owner.transact(env.certificates, "retire", cid, 100_000, "Acme Pty Ltd", "Scope 2")
        results["retire_gas_repeat"] = gas(rr)
    return results


def main() -> None:
    import argparse

    argparse.ArgumentParser(description=__doc__).parse_args()
    results = run()
    publish(results, "Gridcast renewable certificates (anvil)", "gas", ",", OUT)


if __name__ == "__main__":
    main()
