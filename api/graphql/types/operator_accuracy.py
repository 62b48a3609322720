"""OperatorAccuracy: derived accuracy of an operator over its scored forecasts.

``mase`` is computed when asked (not stored by the indexer): the operator's mean absolute error
scaled by the in-sample MAE of the seasonal-naive forecast of each feed's truth series. For a
feed the series is its settled truths in epoch order; the seasonal period ``m`` is one day of
epochs (``round(86400 / epochLength)``, at least 1), and the scale is the mean of
``|y[e] - y[e - m]|`` over the epochs where both truths exist. A feed with no pair one season
apart yet (a market younger than a day) is scaled by the lag-1 naive instead, the non-seasonal
form of the same definition. Across feeds the operator's MASE is the mean of
``absError / scale(feed)`` over its scored revealed forecasts, so one feed reduces to
``MAE / scale``; feeds with no scale (fewer than two consecutive truths, or a constant series)
are left out, and an operator with nothing left has ``mase: null``."""

from typing import Any

import strawberry
from sqlalchemy import TextClause, bindparam, text
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from api.graphql.derive import entity_type
from api.graphql.entities import ACCURACY
from api.graphql.relations import one_field
from indexer.models.versioning import as_of_sql

SECONDS_PER_DAY = 86_400


def mase_statement(block: int | None) -> TextClause:
    """One statement: ``operator, mase, forecasts`` for the operators bound as ``:operators``
    (an expanding list), as of ``block`` (None = the current rows; else bind ``:as_of_block``)."""
    # Pairs are found by id ("<feedId>-<epoch>", the truths' indexed key), never by a self-join
    # of the series: a plan the planner cannot turn into a nested loop over every pair of truths.
    # The operators' errors are summed per feed first, then scaled: sum(err / s) = sum(err) / s.
    sql = f"""
    WITH t AS MATERIALIZED (
      SELECT t.feed_id, t.epoch, t.value::numeric AS value,
             greatest(1, round({SECONDS_PER_DAY}.0 / greatest(f.epoch_length, 1)))::bigint AS m
      FROM truths t JOIN feeds f ON f.id = t.feed_id AND {as_of_sql(block, "f")}
      WHERE {as_of_sql(block, "t")} AND t.status = 'settled'
    ),
    seasonal AS (
      SELECT a.feed_id, avg(abs(a.value - b.value)) AS s
      FROM t a JOIN truths b ON b.id = a.feed_id || '-' || (a.epoch - a.m)::text
        AND {as_of_sql(block, "b")} AND b.status = 'settled'
      GROUP BY a.feed_id
    ),
    lag1 AS (
      SELECT a.feed_id, avg(abs(a.value - b.value)) AS s
      FROM t a JOIN truths b ON b.id = a.feed_id || '-' || (a.epoch - 1)::text
        AND {as_of_sql(block, "b")} AND b.status = 'settled'
      GROUP BY a.feed_id
    ),
    scale AS (
      SELECT l.feed_id, coalesce(se.s, l.s) AS s
      FROM lag1 l LEFT JOIN seasonal se ON se.feed_id = l.feed_id
      UNION ALL
      SELECT se.feed_id, se.s FROM seasonal se
      WHERE NOT EXISTS (SELECT 1 FROM lag1 l WHERE l.feed_id = se.feed_id)
    ),
    errors AS (
      SELECT fc.operator, fc.feed_id, sum(fc.abs_error) AS err, count(*) AS n
      FROM forecasts fc
      WHERE {as_of_sql(block, "fc")} AND fc.operator IN :operators AND fc.scored
        AND fc.revealed AND fc.abs_error IS NOT NULL
      GROUP BY fc.operator, fc.feed_id
    )
    SELECT e.operator, (sum(e.err / sc.s) / sum(e.n))::float8 AS mase, sum(e.n) AS forecasts
    FROM errors e JOIN scale sc ON sc.feed_id = e.feed_id AND sc.s > 0
    GROUP BY e.operator
    """
    return text(sql).bindparams(bindparam("operators", expanding=True))


async def _mase_loader(ctx: Any, block: int | None) -> DataLoader[str, float | None]:
    async def load(operators: list[str]) -> list[float | None]:
        params: dict[str, Any] = {"operators": sorted(set(operators))}
        if block is not None:
            params["as_of_block"] = block
        found = {r["operator"]: r["mase"] for r in await ctx.rows(mase_statement(block), params)}
        return [found.get(op) for op in operators]

    return DataLoader(load_fn=load)


@entity_type(ACCURACY, "Mean absolute error, interval hit rate, rewards and slashes.")
class OperatorAccuracy:
    operator_entity = one_field("Operator", "id", "operator", description="The operator.")

    @strawberry.field(
        description="Mean absolute scaled error: the operator's absolute errors divided by the "
        "in-sample MAE of the seasonal-naive forecast (one day of epochs; lag 1 while a feed is "
        "younger than a day) of each feed's settled truth series, averaged over its scored "
        "forecasts. Below 1 beats the naive forecast. Null without a scaled forecast."
    )
    async def mase(self, info: Info[Any, Any]) -> float | None:
        node: Any = self
        block = node.block
        loader = await info.context.shared(
            ("operator-mase", block), lambda: _mase_loader(info.context, block)
        )
        result: float | None = await loader.load(node.operator)
        return result
