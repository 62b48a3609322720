"""Property tests of the registry's libraries (contracts/libraries/) through LibraryHarness:
the weighted median equals a Python reference on random weighted sets; the point store round-trips
every value and interval of its int40 range, in storage words and as contract code (SSTORE2); the
bit-packed epoch counters equal a dictionary model under random bumps and enforce the cap.
`GRIDCAST_HYPOTHESIS_PROFILE=long` runs ten times the examples."""

from __future__ import annotations

import os
from typing import Any

import ape
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCALE = 10 if os.environ.get("GRIDCAST_HYPOTHESIS_PROFILE") == "long" else 1
INT40 = st.integers(-(2**39), 2**39 - 1)


def examples(n: int) -> settings:
    return settings(
        max_examples=n * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def weighted_median(values: list[int], weights: list[int]) -> int:
    """Smallest value (ascending, ties in input order) whose cumulative weight reaches half."""
    total = sum(weights)
    acc = 0
    for v, w in sorted(zip(values, weights, strict=True), key=lambda vw: vw[0]):
        acc += w
        if acc * 2 >= total:
            return v
    return max(values)


@pytest.fixture(scope="module")
def harness(project: Any, accounts: Any) -> Any:
    return project.LibraryHarness.deploy(sender=accounts[0])


@examples(60)
@given(
    st.lists(
        st.tuples(st.integers(-(2**63), 2**63 - 1), st.integers(0, 10**27)), min_size=1, max_size=24
    ).filter(lambda vw: sum(w for _, w in vw) > 0)
)
def test_weighted_median_matches_the_reference(harness: Any, vw: list[tuple[int, int]]) -> None:
    values, weights = [v for v, _ in vw], [w for _, w in vw]
    assert harness.median(values, weights) == weighted_median(values, weights)


@examples(60)
@given(INT40, INT40, INT40)
def test_point_pack_round_trips_the_int40_range(harness: Any, v: int, lo: int, hi: int) -> None:
    assert tuple(harness.packUnpack(v, lo, hi)) == (v, lo, hi)


def test_point_pack_round_trips_the_edges(harness: Any) -> None:
    edges = [-(2**39), -(2**39) + 1, -1, 0, 1, 2**39 - 2, 2**39 - 1]
    for v in edges:
        assert tuple(harness.packUnpack(v, edges[0], edges[-1])) == (v, edges[0], edges[-1])


@examples(12)
@given(st.lists(st.tuples(INT40, INT40, INT40), min_size=1, max_size=40))
def test_points_stored_as_code_read_back(harness: Any, accounts: Any, pts: list) -> None:
    vs, los, his = ([p[k] for p in pts] for k in range(3))
    harness.storeAsCode(vs, los, his, sender=accounts[0])
    for i, p in enumerate(pts):
        assert tuple(harness.loadFromCode(i)) == p


@examples(10)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(1, 20), st.booleans()), min_size=1, max_size=6
    )
)
def test_epoch_counters_match_a_dictionary(project: Any, accounts: Any, bumps: list) -> None:
    h = project.LibraryHarness.deploy(sender=accounts[0])
    model: dict[tuple[int, bool], int] = {}
    for first, n, reveals in bumps:
        h.bump(first, n, reveals, 0, sender=accounts[0])
        for e in range(first, first + n):
            model[(e, reveals)] = model.get((e, reveals), 0) + 1
    for e in range(0, 61):
        assert tuple(h.counts(e)) == (model.get((e, False), 0), model.get((e, True), 0))


def test_epoch_counter_cap_refuses_the_first_full_epoch(harness: Any, accounts: Any) -> None:
    harness.bump(100, 3, False, 2, sender=accounts[0])
    harness.bump(101, 1, False, 2, sender=accounts[0])
    with ape.reverts(harness.ForecastRegistryEpochFull, feedId=b"\x00" * 32, epoch=101):
        harness.bump(99, 4, False, 2, sender=accounts[0])  # epoch 101 would reach 3
    harness.bump(99, 2, False, 2, sender=accounts[0])
    assert [tuple(harness.counts(e)) for e in (99, 100, 101, 102)] == [
        (1, 0),
        (2, 0),
        (2, 0),
        (1, 0),
    ]
