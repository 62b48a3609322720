"""The one way Gridcast sends transactions: nonce tracking, gas estimation, custom-error decoding,
retries with backoff on transient faults, a circuit breaker, and a dry-run mode."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted
from web3.types import TxReceipt

from gridcast.chain.errors import (
    ContractRevertError,
    GridcastError,
    NonRetryableError,
    RetryableError,
    decode_revert,
)

log = logging.getLogger(__name__)
# An estimate runs against the latest block; the transaction is mined in the next one, where a
# storage slot the estimate saw as an update can be a fresh one (an ERC20Votes checkpoint pushed
# for a new timepoint: ~20k more per checkpoint, two per mint). The limit is not what is paid.
GAS_HEADROOM = 50_000
T = TypeVar("T")


class CircuitOpenError(NonRetryableError):
    """Too many consecutive failures: the submitter refuses work until reset."""


class TransactionFailedError(NonRetryableError):
    """A mined transaction has status 0."""


def _revert_data(exc: Exception) -> str | None:
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return data
    if isinstance(data, dict):
        inner = data.get("data")
        if isinstance(inner, str):
            return inner
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, str) and arg.startswith("0x") and len(arg) >= 10:
            return arg
    return None


def classify(exc: Exception) -> GridcastError:
    """Map a web3/transport exception onto the retry/stop error tree."""
    if isinstance(exc, GridcastError):
        return exc
    if isinstance(exc, ContractCustomError | ContractLogicError):
        return decode_revert(_revert_data(exc))
    if isinstance(
        exc, requests.ConnectionError | requests.Timeout | TimeExhausted | ConnectionError
    ):
        return RetryableError(str(exc))
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        if status == 429 or status >= 500:
            return RetryableError(f"HTTP {status}")
        return NonRetryableError(f"HTTP {status}")
    message = str(exc).lower()
    if "nonce too low" in message or "replacement transaction underpriced" in message:
        return RetryableError(str(exc))
    if "execution reverted" in message:
        return decode_revert(_revert_data(exc))
    return NonRetryableError(f"{type(exc).__name__}: {exc}")


class Submitter:
    """Signs with one account and sends contract calls, one at a time per account."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        *,
        max_retries: int = 5,
        breaker_threshold: int = 5,
        backoff_s: float = 0.2,
        gas_multiplier: float = 1.25,
        gas_headroom: int = GAS_HEADROOM,
        dry_run: bool = False,
        receipt_timeout_s: float = 60.0,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.address = account.address
        self.max_retries = max_retries
        self.breaker_threshold = breaker_threshold
        self.backoff_s = backoff_s
        self.gas_multiplier = gas_multiplier
        self.gas_headroom = gas_headroom
        self.dry_run = dry_run
        self.receipt_timeout_s = receipt_timeout_s
        self.consecutive_failures = 0
        self._nonce: int | None = None
        self._lock = threading.Lock()
        self.chain_id = int(w3.eth.chain_id)

    def __repr__(self) -> str:  # never show the key
        return f"Submitter({self.address}, dry_run={self.dry_run})"

    # ------------------------------------------------------------------ retries and breaker

    def _with_retries(self, what: str, action: Callable[[], T]) -> T:
        if self.consecutive_failures >= self.breaker_threshold:
            raise CircuitOpenError(
                f"{self.consecutive_failures} consecutive failures; refusing {what} until reset()"
            )
        attempt = 0
        while True:
            try:
                result = action()
                self.consecutive_failures = 0
                return result
            except Exception as raw:  # noqa: BLE001 - classified right below
                err = classify(raw)
                if isinstance(err, RetryableError) and attempt < self.max_retries:
                    attempt += 1
                    self._nonce = None  # resync from the node after any transport fault
                    delay = self.backoff_s * 2 ** (attempt - 1) * (0.5 + random.random())
                    log.warning("%s failed (%s); retry %d in %.2fs", what, err, attempt, delay)
                    time.sleep(delay)
                    continue
                if not isinstance(err, ContractRevertError):
                    self.consecutive_failures += 1
                if err is raw:
                    raise
                raise err from raw

    def reset(self) -> None:
        self.consecutive_failures = 0

    def _limit(self, estimate: int) -> int:
        """The gas limit sent for an estimate: a proportional margin plus fixed headroom."""
        return int(estimate * self.gas_multiplier) + self.gas_headroom

    # ------------------------------------------------------------------ calls

    def call(self, contract: Contract, fn: str, *args: Any) -> Any:
        """eth_call with custom errors decoded."""
        return self._with_retries(
            f"{fn} call",
            lambda: getattr(contract.functions, fn)(*args).call({"from": self.address}),
        )

    def transact(self, contract: Contract, fn: str, *args: Any, value: int = 0) -> TxReceipt | None:
        """Estimate, sign, send and wait; returns the receipt (None in dry-run after a successful
        estimate). Reverts raise ContractRevertError with the decoded custom error."""

        def send() -> TxReceipt | None:
            with self._lock:
                call = getattr(contract.functions, fn)(*args)
                tx_params: dict[str, Any] = {"from": self.address, "value": value}
                gas = self._limit(call.estimate_gas(tx_params))
                if self.dry_run:
                    log.info("dry-run: %s.%s would use ~%d gas", contract.address, fn, gas)
                    return None
                if self._nonce is None:
                    self._nonce = int(self.w3.eth.get_transaction_count(self.address, "pending"))
                tx = call.build_transaction(
                    {**tx_params, "gas": gas, "nonce": self._nonce, "chainId": self.chain_id}
                )
                signed = self.account.sign_transaction(tx)
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                self._nonce += 1
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self.receipt_timeout_s, poll_latency=0.05
            )
            if receipt["status"] != 1:
                raise TransactionFailedError(f"{fn} transaction {tx_hash.hex()} failed")
            return receipt

        return self._with_retries(fn, send)

    def deploy(self, abi: list[dict[str, Any]], bytecode: str, *args: Any) -> str:
        """Deploy a contract; returns its address."""

        def send() -> str:
            with self._lock:
                factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
                ctor = factory.constructor(*args)
                gas = self._limit(ctor.estimate_gas({"from": self.address}))
                if self._nonce is None:
                    self._nonce = int(self.w3.eth.get_transaction_count(self.address, "pending"))
                tx = ctor.build_transaction(
                    {
                        "from": self.address,
                        "gas": gas,
                        "nonce": self._nonce,
                        "chainId": self.chain_id,
                    }
                )
                signed = self.account.sign_transaction(tx)
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                self._nonce += 1
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self.receipt_timeout_s
            )
            if receipt["status"] != 1 or not receipt["contractAddress"]:
                raise TransactionFailedError(f"deployment {tx_hash.hex()} failed")
            return str(receipt["contractAddress"])

        return self._with_retries("deploy", send)
