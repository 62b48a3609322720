"""The Submitter's gas limit covers what the transaction uses when it is mined, not only what it
used when estimated: a vote checkpoint that an estimate sees as an in-place update can be a new
entry in the block the transaction lands in (GridToken is ERC20Votes)."""

from __future__ import annotations

from web3 import Web3

from gridcast.chain import abi as abis
from gridcast.chain.keys import dev_account
from gridcast.chain.submitter import Submitter


def test_back_to_back_mints_to_delegated_holders_do_not_run_out_of_gas(anvil) -> None:  # type: ignore[no-untyped-def]
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    admin = Submitter(w3, dev_account(0, 31337))
    token_address = admin.deploy(abis.abi("GridToken"), abis.bytecode("GridToken"), admin.address)
    token = w3.eth.contract(
        address=Web3.to_checksum_address(token_address), abi=abis.abi("GridToken")
    )
    holders = [dev_account(i, 31337) for i in (1, 2, 3)]
    for holder in holders:
        Submitter(w3, holder).transact(token, "delegate", holder.address)
    for _ in range(3):
        for holder in holders:
            receipt = admin.transact(token, "mint", holder.address, 10**18)
            assert receipt is not None and receipt["status"] == 1
    for holder in holders:
        assert token.functions.getVotes(holder.address).call() == 3 * 10**18
