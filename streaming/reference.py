"""The same windows computed in pandas over a replay plan: the batch reference the streaming
job must agree with (tests, benchmarks, audits of an epoch actual)."""

from __future__ import annotations

import pandas as pd

ORIGIN_S = 946_684_800  # 2000-01-01T00:00Z, the job's window origin


def accepted(sent: pd.DataFrame) -> pd.DataFrame:
    """Readings the job should keep: main phase only (late ones trail the watermark), once each."""
    main = sent[sent["phase"] == "main"]
    return main.drop_duplicates(["feed", "meter", "ts"]).reset_index(drop=True)


def window_aggregates(readings: pd.DataFrame, width_s: int) -> pd.DataFrame:
    df = readings.assign(ws=ORIGIN_S + ((readings["ts"] - ORIGIN_S) // width_s) * width_s)
    per_meter = df.groupby(["feed", "ws", "meter"])["value"].agg(["mean", "sum", "count"])
    agg = per_meter.groupby(["feed", "ws"]).agg(
        value=("mean", "sum"),
        total=("sum", "sum"),
        reading_count=("count", "sum"),
        meter_count=("mean", "size"),
    )
    agg["mean"] = agg["total"] / agg["reading_count"]
    return agg.drop(columns="total").reset_index()
