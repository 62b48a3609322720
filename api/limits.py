"""Query protection: a cost limit (list fields multiply by their `first`), per-IP rate limiting
backed by Redis, and the request body size limit."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
)

MAX_BODY_BYTES = 256 * 1024
DEFAULT_FIRST = 100


def cost_rule(max_cost: int, max_first: int) -> type[ValidationRule]:
    """Cost = fields fetched, where a list field's subtree counts `first` times (default 100)."""

    class CostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            schema = self.context.schema
            root = {
                "query": schema.query_type,
                "mutation": schema.mutation_type,
                "subscription": schema.subscription_type,
            }[node.operation.value]
            frags = {f.name.value: f for f in self.context.document.definitions
                     if hasattr(f, "type_condition") and hasattr(f, "name")}  # fmt: skip
            cost = self._cost(node.selection_set, root, frags, 0)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"query cost {cost} exceeds the limit of {max_cost}: "
                        "ask for fewer items (`first`) or fewer nested lists"
                    )
                )

        def _cost(
            self, sel: SelectionSetNode | None, parent: Any, frags: dict[str, Any], depth: int
        ) -> int:
            if sel is None or parent is None or depth > 50:
                return 0
            total = 0
            for s in sel.selections:
                if isinstance(s, FieldNode):
                    fdef = parent.fields.get(s.name.value) if isinstance(
                        parent, GraphQLObjectType
                    ) else None  # fmt: skip
                    if fdef is None:
                        continue
                    mult = 1
                    if "first" in fdef.args:
                        mult = DEFAULT_FIRST
                        for a in s.arguments or ():
                            if a.name.value == "first":
                                mult = (
                                    int(a.value.value)
                                    if isinstance(a.value, IntValueNode)
                                    else max_first
                                )
                        mult = max(1, mult)
                    sub = self._cost(s.selection_set, get_named_type(fdef.type), frags, depth + 1)
                    total += mult * (1 + sub)
                elif isinstance(s, InlineFragmentNode):
                    t = self.context.schema.get_type(s.type_condition.name.value) \
                        if s.type_condition else parent  # fmt: skip
                    total += self._cost(s.selection_set, t, frags, depth + 1)
                elif isinstance(s, FragmentSpreadNode):
                    f = frags.get(s.name.value)
                    if f is not None:
                        t = self.context.schema.get_type(f.type_condition.name.value)
                        total += self._cost(f.selection_set, t, frags, depth + 1)
            return total

    return CostRule


class RateLimiter:
    """Fixed one-minute windows per client IP; Redis when configured, else in-process."""

    def __init__(self, per_minute: int, redis_url: str | None) -> None:
        self.per_minute = per_minute
        self._redis: Any = None
        if redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.Redis.from_url(redis_url)
        self._local: dict[tuple[str, int], int] = defaultdict(int)

    async def allow(self, ip: str) -> bool:
        window = int(time.time() // 60)
        if self._redis is not None:
            key = f"gridcast:ratelimit:{ip}:{window}"
            pipe = self._redis.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, 120)
            count, _ = await pipe.execute()
        else:
            if len(self._local) > 100_000:
                self._local.clear()
            self._local[(ip, window)] += 1
            count = self._local[(ip, window)]
        return int(count) <= self.per_minute

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
