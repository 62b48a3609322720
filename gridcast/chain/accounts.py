"""The signing account of a command: an Ape keystore alias, or a dev key on local chains."""

from __future__ import annotations

import getpass
import os

from eth_account.signers.local import LocalAccount

from gridcast.chain.keys import dev_account, keystore_account

PASSPHRASE_ENV = "GRIDCAST_ACCOUNT_PASSPHRASE"


def resolve_account(alias: str | None, dev_key_index: int | None, chain_id: int) -> LocalAccount:
    if alias:
        passphrase = os.environ.get(PASSPHRASE_ENV)
        if passphrase is None:
            passphrase = getpass.getpass(f"passphrase for Ape account {alias!r}: ")
        return keystore_account(alias, passphrase)
    if dev_key_index is None:
        raise ValueError("choose a key: --account <ape alias> or --dev-key <n> (local chains only)")
    return dev_account(dev_key_index, chain_id)
