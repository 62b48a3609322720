"""gridcast.chain.views mirrors the contracts: enums against the Solidity sources and the ABI,
named tuples against the ABI's struct components (same names, same order)."""

from __future__ import annotations

import re
from pathlib import Path

from gridcast.chain.abi import CONTRACTS, abi
from gridcast.chain.views import ENUMS, STRUCT_READS, Batch, Truth, TruthStatus

ENUM_RE = re.compile(r"\benum\s+(\w+)\s*\{([^}]*)\}")
CONTAINER_RE = re.compile(r"\b(?:interface|contract|library)\s+(\w+)")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _solidity_enums(root: Path) -> dict[str, list[str]]:
    """``Container.Enum`` -> member names, from every .sol file under contracts/."""
    found: dict[str, list[str]] = {}
    for path in (root / "contracts").rglob("*.sol"):
        text = path.read_text()
        for m in ENUM_RE.finditer(text):
            containers = CONTAINER_RE.findall(text[: m.start()])
            owner = containers[-1] if containers else path.stem
            members = [x.strip() for x in m.group(2).split(",") if x.strip()]
            found[f"{owner}.{m.group(1)}"] = members
    return found


def test_every_mirrored_enum_matches_its_solidity_declaration(project_root: Path) -> None:
    declared = _solidity_enums(project_root)
    for name, mirror in ENUMS.items():
        assert name in declared, f"{name} not declared in contracts/"
        members = declared[name]
        assert [m.name for m in mirror] == [_snake(m).upper() for m in members], name
        assert [int(m) for m in mirror] == list(range(len(members))), name


def test_every_enum_in_the_abis_has_a_mirror() -> None:
    used = set()

    def walk(params: list[dict]) -> None:  # type: ignore[type-arg]
        for p in params:
            internal = p.get("internalType", "")
            if internal.startswith("enum "):
                used.add(internal.removeprefix("enum "))
            walk(p.get("components", []))

    for contract in CONTRACTS:
        for item in abi(contract):
            walk(item.get("inputs", []))
            walk(item.get("outputs", []))
    assert used, "expected at least ISettlement.TruthStatus in the ABIs"
    assert used <= set(ENUMS), used - set(ENUMS)


def test_struct_reads_have_the_abi_components_in_order() -> None:
    for (contract, function), tuple_type in STRUCT_READS.items():
        items = [i for i in abi(contract) if i.get("type") == "function" and i["name"] == function]
        assert len(items) == 1, (contract, function)
        (output,) = items[0]["outputs"]
        names = [_snake(c["name"]) for c in output["components"]]
        assert list(tuple_type._fields) == names, (contract, function)


def test_truth_reads_the_status_as_the_enum() -> None:
    raw = (1234, 99, 3, False, "0x" + "00" * 20, b"\x01" * 32)
    truth = Truth.of(raw)
    assert truth.status is TruthStatus.CANCELLED and truth.status.final
    assert truth.value == 1234 and truth.submitted_at == 99
    assert Batch.of((b"\x00" * 32, 0, 0, False, 0)).committed is False


def test_dev_keys_are_anvils_mnemonic_accounts() -> None:
    """DEV_KEYS[i] is anvil's account i ("test … junk", m/44'/60'/0'/0/i): key 7 once was not."""
    from eth_account import Account

    from gridcast.chain.keys import DEV_KEYS

    Account.enable_unaudited_hdwallet_features()
    mnemonic = "test test test test test test test test test test test junk"
    for i, key in enumerate(DEV_KEYS):
        derived = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}")
        assert Account.from_key(key).address == derived.address, i
