"""Per-column standard scaling, fitted on training rows only and stored in model metadata."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Scaler:
    """``(x - mean) / std`` for the target and for each exogenous column."""

    y_mean: float
    y_std: float
    exog_mean: tuple[float, ...]
    exog_std: tuple[float, ...]

    @classmethod
    def fit(cls, y: np.ndarray, mask: np.ndarray, exog: np.ndarray) -> Scaler:
        valid = y[mask]
        e_mean = exog.mean(axis=0) if exog.shape[1] else np.zeros(0)
        e_std = exog.std(axis=0) if exog.shape[1] else np.zeros(0)
        return cls(
            y_mean=float(valid.mean()),
            y_std=float(valid.std()) or 1.0,
            exog_mean=tuple(float(v) for v in e_mean),
            exog_std=tuple(float(v) if v > 0 else 1.0 for v in e_std),
        )

    def y(self, values: np.ndarray) -> np.ndarray:
        return (values - self.y_mean) / self.y_std

    def y_inverse(self, values: np.ndarray) -> np.ndarray:
        return values * self.y_std + self.y_mean

    def exog(self, values: np.ndarray) -> np.ndarray:
        if values.shape[-1] == 0:
            return values
        return (values - np.asarray(self.exog_mean)) / np.asarray(self.exog_std)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Scaler:
        return cls(
            y_mean=float(data["y_mean"]),  # type: ignore[arg-type]
            y_std=float(data["y_std"]),  # type: ignore[arg-type]
            exog_mean=tuple(data["exog_mean"]),  # type: ignore[arg-type]
            exog_std=tuple(data["exog_std"]),  # type: ignore[arg-type]
        )
