"""ModelArtifact: a registered forecasting model whose hash operators commit."""

from api.graphql.derive import entity_type
from api.graphql.entities import MODEL_ARTIFACT
from api.graphql.relations import list_field


@entity_type(MODEL_ARTIFACT, "A model in the registry; `modelHash` is what forecasts commit.")
class ModelArtifact:
    forecasts = list_field("Forecast", "model_hash", key="model_hash")
