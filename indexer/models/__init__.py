"""Every table of the project, registered on one metadata. Each module is one group of tables."""

from indexer.models import (
    api_records,  # noqa: F401
    indexer_entities,  # noqa: F401
    ml_registry,  # noqa: F401
    outbox,  # noqa: F401
    streaming_tables,  # noqa: F401
)
