"""Merkle trees of metered delivery, compatible with OpenZeppelin's StandardMerkleTree.

A leaf is ``keccak256(bytes.concat(keccak256(abi.encode(meterId, epoch, energyWh))))`` with types
``(bytes32, uint64, uint256)`` (the double hash keeps a leaf from ever being read as an inner node);
inner nodes hash the sorted pair of their children, so a proof is just the list of siblings and
``MerkleProof.verify`` on-chain needs no left/right flags. The tree is laid out like
``@openzeppelin/merkle-tree``: leaves sorted by hash, stored at the end of one array in reverse,
node ``i`` the parent of ``2i+1`` and ``2i+2``; the same inputs therefore give the same root as
the JavaScript library.

A meter id is ``keccak256(utf8 name)`` (:func:`meter_id`), the same 32 bytes the asset registry
stores.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak

from gridcast.chain.errors import NonRetryableError

LEAF_TYPES = ("bytes32", "uint64", "uint256")


class MerkleError(NonRetryableError):
    """A tree that cannot be built (no leaves, a duplicated meter) or a leaf it does not hold."""


def meter_id(name: str) -> bytes:
    """The 32-byte id of a meter: keccak256 of its name."""
    return keccak(text=name)


@dataclass(frozen=True)
class Reading:
    """One meter's energy over one epoch, in watt-hours."""

    meter: bytes
    epoch: int
    energy_wh: int

    def values(self) -> tuple[bytes, int, int]:
        return (self.meter, self.epoch, self.energy_wh)


def leaf_hash(meter: bytes, epoch: int, energy_wh: int) -> bytes:
    """StandardMerkleTree leaf of (meterId, epoch, energyWh)."""
    return keccak(keccak(encode(list(LEAF_TYPES), [meter, epoch, energy_wh])))


def hash_pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's commutative node hash: keccak256 of the two children in ascending order."""
    return keccak(a + b) if a < b else keccak(b + a)


def process_proof(leaf: bytes, proof: Iterable[bytes]) -> bytes:
    """The root a proof leads to (``MerkleProof.processProof``)."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


class DeliveryTree:
    """A StandardMerkleTree over the readings of one (feed, epoch)."""

    def __init__(self, readings: Sequence[Reading]) -> None:
        if not readings:
            raise MerkleError("a delivery tree needs at least one reading")
        meters = [r.meter for r in readings]
        if len(set(meters)) != len(meters):
            raise MerkleError("a meter appears twice in the same tree")
        for r in readings:
            if len(r.meter) != 32 or r.energy_wh < 0 or r.epoch < 0:
                raise MerkleError(f"bad reading {r!r}")
        self.readings = list(readings)
        self._by_meter = {r.meter: r for r in self.readings}
        hashed = sorted(
            ((leaf_hash(*r.values()), i) for i, r in enumerate(self.readings)),
            key=lambda t: t[0],
        )
        n = len(hashed)
        self._tree: list[bytes] = [b""] * (2 * n - 1)
        self._index: dict[bytes, int] = {}  # meter -> position in the tree array
        for k, (h, i) in enumerate(hashed):
            pos = len(self._tree) - 1 - k
            self._tree[pos] = h
            self._index[self.readings[i].meter] = pos
        for pos in range(len(self._tree) - 1 - n, -1, -1):
            self._tree[pos] = hash_pair(self._tree[2 * pos + 1], self._tree[2 * pos + 2])

    @property
    def root(self) -> bytes:
        return self._tree[0]

    @property
    def count(self) -> int:
        return len(self.readings)

    @property
    def total_wh(self) -> int:
        return sum(r.energy_wh for r in self.readings)

    def reading(self, meter: bytes) -> Reading:
        self._position(meter)
        return self._by_meter[meter]

    def proof(self, meter: bytes) -> list[bytes]:
        """The siblings from the meter's leaf up to the root."""
        pos = self._position(meter)
        out: list[bytes] = []
        while pos > 0:
            sibling = pos - 1 if pos % 2 == 0 else pos + 1
            out.append(self._tree[sibling])
            pos = (pos - 1) // 2
        return out

    def verify(self, reading: Reading, proof: Sequence[bytes]) -> bool:
        return process_proof(leaf_hash(*reading.values()), proof) == self.root

    def _position(self, meter: bytes) -> int:
        try:
            return self._index[meter]
        except KeyError:
            raise MerkleError(f"meter {meter.hex()} is not in the tree") from None


def build_tree(epoch: int, energy_by_meter: dict[str, int]) -> DeliveryTree:
    """A tree for one epoch from meter names and their energy (Wh)."""
    return DeliveryTree([Reading(meter_id(m), epoch, wh) for m, wh in energy_by_meter.items()])
