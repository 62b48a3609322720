"""Query protection: a cost limit (list fields multiply by their `first`), per-IP rate limiting
backed by Redis, and the request body size limit."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
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
MAX_TOKENS = 10_000  # the parser stops here: bounds the work a document costs before validation
MAX_ALIASES = 100
MAX_FIELDS = 2_000  # field selections after expanding fragments, however often they are spread
REQUEST_TIMEOUT_S = 10.0


_TOO_DEEP = 1 << 20
_Tally = tuple[int, int, int, int]  # cost, field selections, aliases, depth


def cost_rule(
    max_cost: int,
    max_first: int,
    max_aliases: int = MAX_ALIASES,
    max_fields: int = MAX_FIELDS,
    max_depth: int = 10,
) -> type[ValidationRule]:
    """Cost = fields fetched, where a list field's subtree counts `first` times (default 100).
    Also counts aliases and field selections (many aliases of a cheap field, 9,000 `_meta`, cost
    little each but one statement each) and the depth (as strawberry's QueryDepthLimiter, whose
    walk is exponential in fragments that spread the next one twice). Fragments are tallied once
    each, so such a chain is counted, not walked."""

    class CostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            schema = self.context.schema
            root = {
                "query": schema.query_type,
                "mutation": schema.mutation_type,
                "subscription": schema.subscription_type,
            }[node.operation.value]
            self._frags = {
                f.name.value: f
                for f in self.context.document.definitions
                if isinstance(f, FragmentDefinitionNode)
            }
            self._memo: dict[str, _Tally] = {}
            cost, fields, aliases, depth = self._cost(node.selection_set, root, 0)
            name = node.name.value if node.name else "anonymous"
            if depth > max_depth:
                self.report_error(
                    GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}")
                )
            elif aliases > max_aliases:
                self.report_error(
                    GraphQLError(f"{aliases} aliases exceed the limit of {max_aliases} per query")
                )
            elif fields > max_fields:
                self.report_error(
                    GraphQLError(
                        f"{fields} field selections (fragments expanded) exceed the limit of "
                        f"{max_fields} per query"
                    )
                )
            elif cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"query cost {cost} exceeds the limit of {max_cost}: "
                        "ask for fewer items (`first`) or fewer nested lists"
                    )
                )

        def _cost(self, sel: SelectionSetNode | None, parent: Any, level: int) -> _Tally:
            """Tally of a selection set (depth: of its deepest field below it, 0 for leaves);
            sums saturate past the limits. ``level`` counts the walk's recursion."""
            if sel is None or parent is None:
                return 0, 0, 0, 0
            if level > 4 * max_depth + 20:  # fragments spreading fragments, many levels down
                return 0, 0, 0, _TOO_DEEP
            total = fields = aliases = depth = 0
            for s in sel.selections:
                if isinstance(s, FieldNode):
                    fields += 1
                    if s.alias is not None:
                        aliases += 1
                    fdef = parent.fields.get(s.name.value) if isinstance(
                        parent, GraphQLObjectType
                    ) else None  # fmt: skip
                    if fdef is None or s.name.value.startswith("__"):
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
                    c, f, al, d = self._cost(s.selection_set, get_named_type(fdef.type), level + 1)
                    total += mult * (1 + c)
                    fields += f
                    aliases += al
                    if s.selection_set is not None:
                        depth = max(depth, 1 + d)
                else:
                    if isinstance(s, InlineFragmentNode):
                        t = self.context.schema.get_type(s.type_condition.name.value) \
                            if s.type_condition else parent  # fmt: skip
                        c, f, al, d = self._cost(s.selection_set, t, level + 1)
                    elif isinstance(s, FragmentSpreadNode):
                        c, f, al, d = self._spread(s.name.value, level)
                    else:
                        continue
                    total, fields, aliases = total + c, fields + f, aliases + al
                    depth = max(depth, d)
                # saturate: the verdict is already known, keep the numbers small
                total, fields, aliases = (
                    min(total, max_cost + 1),
                    min(fields, max_fields + 1),
                    min(aliases, max_aliases + 1),
                )
            return total, fields, aliases, min(depth, _TOO_DEEP)

        def _spread(self, name: str, level: int) -> _Tally:
            f = self._frags.get(name)
            if f is None:
                return 0, 0, 0, 0
            if name not in self._memo:
                self._memo[name] = (0, 0, 0, 0)  # a cycle (NoFragmentCyclesRule reports it)
                t = self.context.schema.get_type(f.type_condition.name.value)
                self._memo[name] = self._cost(f.selection_set, t, level + 1)
            return self._memo[name]

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
