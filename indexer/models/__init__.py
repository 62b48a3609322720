"""Every table of the project, registered on one metadata. Each module is one group of tables."""
from indexer.models import streaming_tables  # noqa: F401
from indexer.models import ml_registry  # noqa: F401
from indexer.models import indexer_entities  # noqa: F401
