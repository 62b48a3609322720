"""_Meta_: the indexer's progress, as The Graph's `_meta` reports it."""

import strawberry

from api.graphql.scalars import BigInt


@strawberry.type(name="_Block_")
class MetaBlock:
    number: int
    hash: str | None
    timestamp: BigInt | None  # type: ignore[valid-type]


@strawberry.type(name="_Meta_")
class Meta:
    block: MetaBlock
    deployment: str
    has_indexing_errors: bool
