"""Gas of the protocol on a real anvil node: commit+reveal per forecast point for curves of 1, 24
and 96 epochs (first and 5th operator of an epoch), settle/claim with 5, 20 and 64 operators, and a
governance proposal and vote (GridGovernor, dev profile).

Operators make one warm-up commit first, so figures are steady state (their commit watermark slot
already exists). Run: `.venv/bin/python benchmarks/gas.py`; writes benchmarks/results/gas.json.
"""

from __future__ import annotations

from pathlib import Path

from eth_account import Account
from report import publish
from rich.progress import track
from web3 import Web3

from gridcast.chain.commitments import Curve
from gridcast.chain.deploy import deploy_all, fund_and_stake, register_feed
from gridcast.chain.deployment import FeedParams
from gridcast.chain.keys import dev_account
from gridcast.chain.submitter import Submitter
from gridcast.node import AnvilNode

E18 = 10**18
EPOCH, ROUND = 900, 96
OUT = Path(__file__).parent / "results" / "gas.json"
MODEL = b"\x42" * 32


class Bench:
    def __init__(self, node: AnvilNode, operators: int) -> None:
        self.node = node
        self.w3 = Web3(Web3.HTTPProvider(node.url))
        self.admin = Submitter(self.w3, dev_account(0, node.chain_id))
        self.reporter = Submitter(self.w3, dev_account(1, node.chain_id))
        self.dep = deploy_all(self.admin, truth_reporters=[self.reporter.address])
        self.token = self.dep.contract(self.w3, "GridToken")
        self.staking = self.dep.contract(self.w3, "OperatorStaking")
        self.registry = self.dep.contract(self.w3, "ForecastRegistry")
        self.settlement = self.dep.contract(self.w3, "Settlement")
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        self.genesis = (now // 86_400 + 2) * 86_400
        self.params = FeedParams(
            genesis=self.genesis,
            epoch_length=EPOCH,
            epochs_per_round=ROUND,
            reveal_window=600,
            lead_time=600,
            truth_timeout=3_600,
            dispute_window=600,
            decimals=3,
            max_forecasts_per_epoch=100,
            slash_bps=1_000,
            non_reveal_slash_bps=500,
            min_stake=E18,
            reward_per_epoch=10 * E18,
            dispute_bond=E18,
            tolerance=1_000,
            slash_threshold=5_000,
        )
        self.feed = register_feed(self.admin, self.registry, "bench", "demand", EPOCH, self.params)
        self.ops: list[Submitter] = []
        for i in track(range(operators), description="staking operators"):
            acct = Account.from_key(Web3.keccak(text=f"gridcast-bench-{i}"))
            node.rpc("anvil_setBalance", [acct.address, hex(10**22)])
            sub = Submitter(self.w3, acct)
            fund_and_stake(self.admin, sub, self.token, self.staking, 100 * E18)
            self.ops.append(sub)
        self.ops.sort(key=lambda s: int(s.address, 16))
        self.fund(1_000 * E18)

    def fund(self, amount: int) -> None:
        self.admin.transact(self.token, "mint", self.admin.address, amount)
        self.admin.transact(self.token, "approve", self.settlement.address, amount)
        self.admin.transact(self.settlement, "fundRewards", self.feed, amount)

    def goto(self, ts: int) -> None:
        self.node.rpc("evm_setNextBlockTimestamp", [ts])
        self.node.rpc("evm_mine", [])

    def curve(self, op: Submitter, first: int, n: int) -> Curve:
        values = [5_000_000 + 1_000 * i for i in range(n)]
        return Curve(
            self.feed,
            op.address,
            first,
            values,
            [v - 300 for v in values],
            [v + 300 for v in values],
            MODEL,
        )

    def commit(self, op: Submitter, c: Curve) -> int:
        r = op.transact(self.registry, "commit", self.feed, c.first_epoch, c.commitments())
        return int(r["gasUsed"]) if r else 0

    def reveal(self, op: Submitter, c: Curve) -> int:
        r = op.transact(self.registry, "reveal", self.feed, op.address, c.first_epoch, c.opening())
        return int(r["gasUsed"]) if r else 0

    def deadline(self, fn: str, epoch: int) -> int:
        return int(getattr(self.registry.functions, fn)(self.feed, epoch).call())

    def within_horizon(self, epoch: int) -> None:
        """Moves time so that the round of `epoch` is within the registry's commit horizon (two
        rounds of commit deadlines ahead)."""
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        earliest = self.deadline("commitDeadline", epoch) - 2 * ROUND * EPOCH + 60
        if earliest > now:
            self.goto(earliest)

    def governance(self) -> tuple[int, int]:
        """Gas of proposing a feed-parameter change and of one vote on it."""
        gov = self.dep.contract(self.w3, "GridGovernor")
        self.admin.transact(self.token, "delegate", self.admin.address)
        new = FeedParams(**{**self.params.__dict__, "reward_per_epoch": 5 * E18})
        calldata = self.registry.encode_abi("setFeedParams", args=[self.feed, new.as_tuple()])
        args = ([self.registry.address], [0], [calldata], "bench: reward 5 GRID")
        proposed = self.admin.transact(gov, "propose", *args)
        pid = gov.functions.hashProposal(*args[:3], Web3.keccak(text=args[3])).call()
        self.node.rpc("anvil_mine", [hex(2)])
        voted = self.admin.transact(gov, "castVote", pid, 1)
        return int(proposed["gasUsed"]) if proposed else 0, int(voted["gasUsed"]) if voted else 0


def run() -> dict[str, float]:
    results: dict[str, float] = {}
    with AnvilNode(gas_limit=200_000_000).start() as node:
        b = Bench(node, 64)
        for op in b.ops:  # warm-up: every operator's commit watermark exists
            b.commit(op, b.curve(op, 0, 1))
        for rnd, n in zip((1, 2, 3), (1, 24, 96), strict=True):
            first = rnd * ROUND
            b.within_horizon(first)
            curves = [b.curve(op, first, n) for op in b.ops[:5]]
            commits = [b.commit(op, c) for op, c in zip(b.ops[:5], curves, strict=True)]
            b.goto(b.deadline("commitDeadline", first))
            reveals = [b.reveal(op, c) for op, c in zip(b.ops[:5], curves, strict=True)]
            results[f"commit_gas_{n}"] = commits[0]
            results[f"reveal_gas_{n}"] = reveals[0]
            results[f"gas_per_point_{n}"] = round((commits[0] + reveals[0]) / n, 1)
            results[f"gas_per_point_{n}_marginal"] = round((commits[4] + reveals[4]) / n, 1)
        for rnd, k in zip((4, 5, 6), (5, 20, 64), strict=True):
            epoch = rnd * ROUND
            ops = b.ops[:k]
            b.within_horizon(epoch)
            curves = [b.curve(op, epoch, 1) for op in ops]
            for op, c in zip(ops, curves, strict=True):
                b.commit(op, c)
            b.goto(b.deadline("commitDeadline", epoch))
            for op, c in zip(ops, curves, strict=True):
                b.reveal(op, c)
            b.goto(b.deadline("revealDeadline", epoch))
            addrs, firsts = [op.address for op in ops], [epoch] * k
            fin = b.admin.transact(b.registry, "finalizeConsensus", b.feed, epoch, addrs, firsts)
            end = b.genesis + (epoch + 1) * EPOCH
            b.goto(end)
            b.admin.transact(b.token, "mint", b.reporter.address, E18)
            b.reporter.transact(b.token, "approve", b.settlement.address, E18)
            b.reporter.transact(b.settlement, "submitTruth", b.feed, epoch, 5_000_100, b"\x01" * 32)
            b.goto(end + 700)
            st = b.admin.transact(b.settlement, "settle", b.feed, epoch, addrs, firsts)
            claims = [
                int(r["gasUsed"])
                for op in ops
                if (r := b.admin.transact(b.settlement, "claim", b.feed, epoch, op.address, epoch))
            ]
            results[f"finalize_consensus_gas_{k}"] = int(fin["gasUsed"]) if fin else 0
            results[f"settle_gas_{k}"] = int(st["gasUsed"]) if st else 0
            results[f"claim_gas_{k}"] = round(sum(claims) / len(claims), 1)
        results["propose_gas"], results["vote_gas"] = b.governance()
    return results


def main() -> None:
    import argparse

    argparse.ArgumentParser(description=__doc__).parse_args()
    results = run()
    publish(results, "Gridcast gas (anvil, steady-state operators)", "gas", ",.1f", OUT)


if __name__ == "__main__":
    main()
