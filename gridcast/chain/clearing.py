"""Uniform-price clearing of one (feed, epoch) book, exactly as EnergyExchange verifies it.

For a price x (token base units per Wh) let

- ``S-(x)`` / ``S=(x)`` be the sell volume with limit below / equal to x, ``S(x) = S-(x) + S=(x)``;
- ``D+(x)`` / ``D=(x)`` be the buy volume with limit above / equal to x, ``D(x) = D+(x) + D=(x)``.

x is an *equilibrium* price when every strictly in-the-money order can be filled:
``D+(x) <= S(x)`` and ``S-(x) <= D(x)``. The first condition only gets truer as x rises, the second
as x falls, so the equilibrium prices form an interval ``[low, high]`` (never empty when both sides
have orders). The book clears at ``price = (low + high) // 2`` (the midpoint shares the surplus
between the sides) for ``volume = min(S(price), D(price))``: orders strictly in the money fill
completely, orders at the price are rationed pro rata on the long side (exact fractions
``num/den``, never rounded), orders out of the money do not trade. This is the welfare-maximising
competitive equilibrium: no uniform price trades more volume.

The contract checks a claimed ``(low, high)`` in one pass over the book: each is an equilibrium
price, ``low`` is the smallest (``low == 0`` or ``D(low) > S-(low)``) and ``high`` the largest
(``S(high) > D+(high)``). A book with an empty side clears at ``(0, 0)`` with no volume.

Computing: sort both sides once, prefix sums, then two binary searches over integer prices, so
O(n log n) for the sort and O(log n log P) for the searches.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate

from gridcast.chain.errors import NonRetryableError


class ClearingError(NonRetryableError):
    """An order that cannot be cleared (non-positive volume, negative price)."""


@dataclass(frozen=True)
class Order:
    is_sell: bool
    volume: int
    limit: int


@dataclass(frozen=True)
class Clearing:
    low: int
    high: int
    price: int
    volume: int
    buy_num: int  # marginal buys (limit == price) fill volume * buy_num / buy_den
    buy_den: int
    sell_num: int
    sell_den: int

    def fill(self, order: Order) -> Fraction:
        """The exact volume (Wh) the order trades."""
        if self.volume == 0:
            return Fraction(0)
        if order.is_sell:
            if order.limit < self.price:
                return Fraction(order.volume)
            if order.limit == self.price and self.sell_den:
                return Fraction(order.volume * self.sell_num, self.sell_den)
            return Fraction(0)
        if order.limit > self.price:
            return Fraction(order.volume)
        if order.limit == self.price and self.buy_den:
            return Fraction(order.volume * self.buy_num, self.buy_den)
        return Fraction(0)


NO_TRADE = Clearing(0, 0, 0, 0, 0, 0, 0, 0)


class _Curves:
    def __init__(self, orders: Iterable[Order]) -> None:
        sells = sorted((o.limit, o.volume) for o in orders if o.is_sell)
        buys = sorted((o.limit, o.volume) for o in orders if not o.is_sell)
        self.sell_limits = [p for p, _ in sells]
        self.buy_limits = [p for p, _ in buys]
        self.sell_cum = [0, *accumulate(v for _, v in sells)]
        self.buy_cum = [0, *accumulate(v for _, v in buys)]
        self.sell_total = self.sell_cum[-1]
        self.buy_total = self.buy_cum[-1]

    def s_below(self, x: int) -> int:
        return self.sell_cum[bisect_left(self.sell_limits, x)]

    def s_upto(self, x: int) -> int:
        return self.sell_cum[bisect_right(self.sell_limits, x)]

    def d_above(self, x: int) -> int:
        return self.buy_total - self.buy_cum[bisect_right(self.buy_limits, x)]

    def d_from(self, x: int) -> int:
        return self.buy_total - self.buy_cum[bisect_left(self.buy_limits, x)]


def clear(orders: Sequence[Order]) -> Clearing:
    """The clearing of a book (cancelled orders left out by the caller)."""
    for o in orders:
        if o.volume <= 0 or o.limit < 0:
            raise ClearingError(f"bad order {o!r}")
    c = _Curves(orders)
    if c.sell_total == 0 or c.buy_total == 0:
        return NO_TRADE
    top = max(c.sell_limits[-1], c.buy_limits[-1])
    # low: smallest x with D+(x) <= S(x) (true at `top`, where D+ is 0)
    lo, hi = 0, top
    while lo < hi:
        mid = (lo + hi) // 2
        if c.d_above(mid) <= c.s_upto(mid):
            hi = mid
        else:
            lo = mid + 1
    low = lo
    # high: largest x with S-(x) <= D(x) (true at 0, false above `top`)
    lo, hi = 0, top
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if c.s_below(mid) <= c.d_from(mid):
            lo = mid
        else:
            hi = mid - 1
    high = lo
    price = (low + high) // 2
    s_below, s_upto = c.s_below(price), c.s_upto(price)
    d_above, d_from = c.d_above(price), c.d_from(price)
    volume = min(s_upto, d_from)
    return Clearing(
        low=low,
        high=high,
        price=price,
        volume=volume,
        buy_num=volume - d_above,
        buy_den=d_from - d_above,
        sell_num=volume - s_below,
        sell_den=s_upto - s_below,
    )
