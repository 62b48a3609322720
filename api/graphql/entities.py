"""The entity registry: every queryable model with its names and id format.

Registering derives the ``<Type>_filter`` input and ``<Type>_orderBy`` enum from the model's
columns (:mod:`api.graphql.derive`); the type modules and the Query build on these."""

from __future__ import annotations

from sqlalchemy import Text, cast

from api.graphql.derive import Entity, register
from indexer.models import api_records as ar
from indexer.models import certificates as crt
from indexer.models import exchange as xc
from indexer.models import governance as gov
from indexer.models import indexer_entities as m
from indexer.models import ml_registry as ml

B32 = r"0x[0-9a-f]{64}"
ADDR = r"0x[0-9a-f]{40}"
EPOCH_ID = (rf"^{B32}-\d+$", "<feedId>-<epoch>, e.g. 0x…(64 hex)-12")
HISTORY_ID = (rf"^{B32}-\d+$", "<txHash>-<logIndex>")
ADDR_ID = (rf"^{ADDR}$", "an address (0x + 40 hex)")
INT_ID = (r"^\d{1,18}$", "a positive integer")

FEED = register("Feed", m.Feed, "feed", "feeds", rf"^{B32}$", "a feed id (0x + 64 hex)")
EPOCH = register("Epoch", m.Epoch, "epoch", "epochs", *EPOCH_ID)
FORECAST = register(
    "Forecast", m.Forecast, "forecast", "forecasts", rf"^{B32}-\d+-{ADDR}$",
    "<feedId>-<epoch>-<operator>",
)  # fmt: skip
CONSENSUS = register("Consensus", m.Consensus, "consensus", "consensuses", *EPOCH_ID)
TRUTH = register("Truth", m.Truth, "truth", "truths", *EPOCH_ID)
DISPUTE = register("Dispute", m.Dispute, "dispute", "disputes", *EPOCH_ID)
SETTLEMENT = register("Settlement", m.Settlement, "settlement", "settlements", *EPOCH_ID)
OPERATOR = register("Operator", m.Operator, "operator", "operators", *ADDR_ID)
STAKE = register("Stake", m.Stake, "stake", "stakes", *ADDR_ID)
STAKE_EVENT = register("StakeEvent", m.StakeEvent, "stakeEvent", "stakeEvents", *HISTORY_ID)
REWARD = register("Reward", m.Reward, "reward", "rewards", *HISTORY_ID)
SLASH = register("Slash", m.Slash, "slash", "slashes", *HISTORY_ID)
ACCURACY = register(
    "OperatorAccuracy", m.OperatorAccuracy, "operatorAccuracy", "operatorAccuracies", *ADDR_ID
)
MODEL_ARTIFACT = register(
    "ModelArtifact", ml.ModelArtifact, "modelArtifact", "modelArtifacts", *INT_ID
)
FORECAST_RECORD = register(
    "ForecastRecord", ar.ForecastRecord, "forecastRecord", "forecastRecords", *INT_ID
)
PROPOSAL = register(
    "Proposal", gov.Proposal, "proposal", "proposals", r"^\d{1,78}$", "a proposal id (decimal)"
)
GOVERNANCE_VOTE = register(
    "GovernanceVote", gov.GovernanceVote, "governanceVote", "governanceVotes", *HISTORY_ID
)

# Second wave: metered delivery, assets, the exchange (indexer/models/exchange.py) and the
# certificates (indexer/models/certificates.py).
ORDER_ID = (rf"^{B32}-\d+-\d+$", "<feedId>-<epoch>-<index>")
TOKEN_ID = (r"^\d{1,78}$", "a token id (decimal)")
DELIVERY_ROOT = register(
    "DeliveryRoot", xc.DeliveryRoot, "deliveryRoot", "deliveryRoots", *EPOCH_ID
)
ASSET = register("Asset", xc.Asset, "asset", "assets", r"^\d{1,20}$", "an asset id (decimal)")
EXCHANGE_MARKET = register(
    "ExchangeMarket", xc.ExchangeMarket, "exchangeMarket", "exchangeMarkets", rf"^{B32}$",
    "a market id (0x + 64 hex: the feed id, or renewableMarketOf(feedId))",
)  # fmt: skip
EXCHANGE_BOOK = register(
    "ExchangeBook", xc.ExchangeBook, "exchangeBook", "exchangeBooks", *EPOCH_ID
)
EXCHANGE_ORDER = register(
    "ExchangeOrder", xc.ExchangeOrder, "exchangeOrder", "exchangeOrders", *ORDER_ID
)
EXCHANGE_CLEARING = register(
    "ExchangeClearing", xc.ExchangeClearing, "exchangeClearing", "exchangeClearings", *EPOCH_ID
)
EXCHANGE_TRADE = register(
    "ExchangeTrade", xc.ExchangeTrade, "exchangeTrade", "exchangeTrades", *HISTORY_ID
)
EXCHANGE_DELIVERY = register(
    "ExchangeDelivery", xc.ExchangeDelivery, "exchangeDelivery", "exchangeDeliveries", *ORDER_ID
)
EXCHANGE_IMBALANCE = register(
    "ExchangeImbalance", xc.ExchangeImbalance, "exchangeImbalance", "exchangeImbalances",
    *ORDER_ID,
)  # fmt: skip
EXCHANGE_ACCOUNT = register(
    "ExchangeAccount", xc.ExchangeAccount, "exchangeAccount", "exchangeAccounts", *ADDR_ID
)
CERTIFICATE = register("Certificate", crt.Certificate, "certificate", "certificates", *TOKEN_ID)
CERTIFIED_EPOCH = register(
    "CertifiedEpoch", crt.CertifiedEpoch, "certifiedEpoch", "certifiedEpochs",
    r"^\d{1,20}-\d{1,20}$", "<assetId>-<epoch>",
)  # fmt: skip
CERTIFICATE_BALANCE = register(
    "CertificateBalance", crt.CertificateBalance, "certificateBalance", "certificateBalances",
    rf"^\d{{1,78}}-{ADDR}$", "<tokenId>-<owner>",
)  # fmt: skip
RETIREMENT = register(
    "Retirement", crt.Retirement, "retirement", "retirements", r"^\d{1,78}$",
    "a retirement id (decimal)",
)  # fmt: skip
CARBON_WALLET = register(
    "CarbonWallet", crt.CarbonWallet, "carbonWallet", "carbonWallets", *ADDR_ID
)
EMISSION_FACTOR = register(
    "EmissionFactor", crt.EmissionFactor, "emissionFactor", "emissionFactors", rf"^{B32}$",
    "a feed id (0x + 64 hex)",
)  # fmt: skip

# Forecast rows belong to the epoch "<feedId>-<epoch>"; the relation joins on that computed key.
FORECAST.virtual["epoch_key"] = m.Forecast.feed_id + "-" + cast(m.Forecast.epoch, Text)
SLASH.virtual["epoch_key"] = m.Slash.feed_id + "-" + cast(m.Slash.epoch, Text)

ALL: tuple[Entity, ...] = (
    FEED, EPOCH, FORECAST, CONSENSUS, TRUTH, DISPUTE, SETTLEMENT, OPERATOR, STAKE, STAKE_EVENT,
    REWARD, SLASH, ACCURACY, MODEL_ARTIFACT, PROPOSAL, GOVERNANCE_VOTE,
    DELIVERY_ROOT, ASSET, EXCHANGE_MARKET, EXCHANGE_BOOK, EXCHANGE_ORDER, EXCHANGE_CLEARING,
    EXCHANGE_TRADE, EXCHANGE_DELIVERY, EXCHANGE_IMBALANCE, EXCHANGE_ACCOUNT, CERTIFICATE,
    CERTIFIED_EPOCH,
    CERTIFICATE_BALANCE, RETIREMENT, CARBON_WALLET, EMISSION_FACTOR,
    FORECAST_RECORD,  # last: the upload mutation returns ALL[-1]'s type
)  # fmt: skip
