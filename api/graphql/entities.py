"""The entity registry: every queryable model with its names and id format.

Registering derives the ``<Type>_filter`` input and ``<Type>_orderBy`` enum from the model's
columns (:mod:`api.graphql.derive`); the type modules and the Query build on these."""

from __future__ import annotations

from sqlalchemy import Text, cast

from api.graphql.derive import Entity, register
from indexer.models import api_records as ar
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

# Forecast rows belong to the epoch "<feedId>-<epoch>"; the relation joins on that computed key.
FORECAST.virtual["epoch_key"] = m.Forecast.feed_id + "-" + cast(m.Forecast.epoch, Text)
SLASH.virtual["epoch_key"] = m.Slash.feed_id + "-" + cast(m.Slash.epoch, Text)

ALL: tuple[Entity, ...] = (
    FEED, EPOCH, FORECAST, CONSENSUS, TRUTH, DISPUTE, SETTLEMENT, OPERATOR, STAKE, STAKE_EVENT,
    REWARD, SLASH, ACCURACY, MODEL_ARTIFACT, PROPOSAL, GOVERNANCE_VOTE, FORECAST_RECORD,
)  # fmt: skip
