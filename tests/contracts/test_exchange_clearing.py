"""gridcast.chain.clearing against an independent brute-force reference on random books.

Pure Python (no chain): the reference scans every integer price, keeps those where volume
min(S(x), D(x)) is largest and every strictly in-the-money order fits, and rations the margin
pro rata with exact fractions. GRIDCAST_HYPOTHESIS_EXAMPLES raises the number of books (default
1,000, about a second).
"""

from __future__ import annotations

import os
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcast.chain.clearing import NO_TRADE, ClearingError, Order, clear

EXAMPLES = int(os.environ.get("GRIDCAST_HYPOTHESIS_EXAMPLES", "1000"))


def reference(orders: list[Order]) -> tuple[int, int, dict[int, Fraction]]:
    """(price, volume, fills by order index), scanning every integer price."""
    sells = [o for o in orders if o.is_sell]
    buys = [o for o in orders if not o.is_sell]
    if not sells or not buys:
        return 0, 0, dict.fromkeys(range(len(orders)), Fraction(0))
    top = max(o.limit for o in orders) + 1

    def curves(x: int) -> tuple[int, int, int, int]:
        s_lt = sum(o.volume for o in sells if o.limit < x)
        s_le = sum(o.volume for o in sells if o.limit <= x)
        d_gt = sum(o.volume for o in buys if o.limit > x)
        d_ge = sum(o.volume for o in buys if o.limit >= x)
        return s_lt, s_le, d_gt, d_ge

    table = {x: curves(x) for x in range(top + 1)}
    best = max(min(s_le, d_ge) for _, s_le, _, d_ge in table.values())
    eq = [
        x
        for x, (s_lt, s_le, d_gt, d_ge) in table.items()
        if d_gt <= s_le and s_lt <= d_ge and min(s_le, d_ge) == best
    ]
    assert eq == list(range(eq[0], eq[-1] + 1)), "equilibrium prices form an interval"
    price = (eq[0] + eq[-1]) // 2
    s_lt, s_le, d_gt, d_ge = table[price]
    fills: dict[int, Fraction] = {}
    for i, o in enumerate(orders):
        if o.is_sell:
            full, at, rest = o.limit < price, o.limit == price, best - s_lt
            den = s_le - s_lt
        else:
            full, at, rest = o.limit > price, o.limit == price, best - d_gt
            den = d_ge - d_gt
        fills[i] = Fraction(o.volume) if full else (Fraction(o.volume * rest, den) if at else 0)
    return price, best, fills


order = st.builds(
    Order,
    is_sell=st.booleans(),
    volume=st.integers(1, 50),
    limit=st.integers(0, 30),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
@given(st.lists(order, max_size=14))
def test_clearing_equals_the_brute_force_reference(orders: list[Order]) -> None:
    c = clear(orders)
    price, volume, fills = reference(orders)
    assert (c.price, c.volume) == (price, volume)
    for i, o in enumerate(orders):
        assert c.fill(o) == fills[i], (i, o)
    sold = sum((c.fill(o) for o in orders if o.is_sell), Fraction(0))
    bought = sum((c.fill(o) for o in orders if not o.is_sell), Fraction(0))
    assert sold == bought == c.volume


def test_ties_empty_sides_and_one_sided_books() -> None:
    assert clear([]) == NO_TRADE
    assert clear([Order(True, 5, 3), Order(True, 2, 9)]) == NO_TRADE
    assert clear([Order(False, 5, 3)]) == NO_TRADE
    # two sellers tie at the price and share 6 Wh of demand pro rata 2:1
    book = [Order(True, 6, 10), Order(True, 3, 10), Order(False, 6, 12)]
    c = clear(book)
    assert (c.low, c.high, c.price, c.volume) == (10, 10, 10, 6)
    assert [c.fill(o) for o in book] == [4, 2, 6]
    # a crossing without ties: the price is the midpoint of [best ask .. best bid]
    c = clear([Order(True, 4, 10), Order(False, 4, 20)])
    assert (c.low, c.high, c.price, c.volume) == (10, 20, 15, 4)
    # no crossing: no volume
    assert clear([Order(True, 4, 20), Order(False, 4, 10)]).volume == 0
    with pytest.raises(ClearingError):
        clear([Order(True, 0, 1)])
