"""One module per contract, one handler per event: (contract, event name) → handler."""

from __future__ import annotations

from collections.abc import Callable

from indexer.decoder import Event
from indexer.handlers import (
    assets,
    certificates,
    delivery,
    exchange,
    forecast_registry,
    governance,
    operator_staking,
    settlement,
)
from indexer.store import Store

Handler = Callable[[Event, Store], None]

HANDLERS: dict[tuple[str, str], Handler] = {
    **{("ForecastRegistry", k): v for k, v in forecast_registry.HANDLERS.items()},
    **{("OperatorStaking", k): v for k, v in operator_staking.HANDLERS.items()},
    **{("Settlement", k): v for k, v in settlement.HANDLERS.items()},
    **{("GridGovernor", k): v for k, v in governance.HANDLERS.items()},
    **{("MeteredDelivery", k): v for k, v in delivery.HANDLERS.items()},
    **{("AssetRegistry", k): v for k, v in assets.HANDLERS.items()},
    **{("EnergyExchange", k): v for k, v in exchange.HANDLERS.items()},
    **{("EnergyCertificates", k): v for k, v in certificates.HANDLERS.items()},
}
