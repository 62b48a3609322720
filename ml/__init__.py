"""Gridcast ML: real feeds, a stacked-LSTM day-ahead quantile forecaster, baselines, registry.

Public API (kept stable for the oracle bot, the telemetry replay and the demo):

- ``ml.datasets.load_feed("solar" | "demand") -> FeedSeries`` (hourly ``index``, ``target``,
  ``mask``, ``exog``, ``unit``, ``decimals``, ``content_hash``).
- ``ml.forecaster``: ``Forecaster.load(model_hash)``, ``SeasonalNaiveForecaster``,
  ``MSTLForecaster``, ``AutoETSForecaster``, ``ConstantForecaster``, ``ShiftedForecaster``;
  each has ``predict_curve(series, origin) -> QuantileCurve(p10, p50, p90)`` and ``model_hash``.
- ``ml.artifact``: the one canonical JSON and content hash (``spec_hash``, ``artifact_hash``),
  artifact files; imports no other ``ml`` module, so forecaster -> artifact <- registry.
- ``ml.userdata``: bring your own series (CSV/Parquet checked, registered as a feed spec that
  ``load_feed`` reads by name); ``ml.selection``: the per-feed choice on validation among the
  LSTM, the baselines and their ensemble (``SelectedForecaster``, conformal band) and the
  rolling-origin evaluation; ``ml.plots``: its PNGs.
- ``ml.registry``: ``save_model``, ``load_model``, ``list_models``, ``register_row``,
  ``update_info`` (files under ``get_settings().model_dir``, rows in ``model_artifacts``).
"""
