"""Stacked-LSTM quantile forecaster (the module only; data handling lives elsewhere)."""

from __future__ import annotations

import torch
from torch import nn


class LSTMQuantileNet(nn.Module):
    """Past day-blocks -> stacked LSTM -> dense head -> 24-step p10/p50/p90 curve.

    A linear path from the past target values to the median (as in LSTNet's highway) carries
    the plain seasonal signal; the LSTM and head learn corrections. The lower and upper
    quantiles are the median minus/plus softplus offsets, so they never cross.
    """

    def __init__(
        self,
        n_past: int,
        n_future: int,
        lookback_days: int,
        horizon: int = 24,
        hidden_sizes: tuple[int, ...] = (128, 64, 32),
        dropout: float = 0.2,
        head_size: int = 128,
    ) -> None:
        super().__init__()
        self.horizon = horizon
        sizes = (n_past, *hidden_sizes)
        self.lstms = nn.ModuleList(
            nn.LSTM(sizes[i], sizes[i + 1], batch_first=True) for i in range(len(hidden_sizes))
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Sequential(
            nn.Linear(hidden_sizes[-1] + n_future, head_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(head_size, 3 * horizon),
        )
        self.highway = nn.Linear(lookback_days * horizon, horizon)
        # Start exactly at the seasonal-naive forecast (tomorrow = the last day; the head adds
        # nothing yet), so training only has to learn what improves on it.
        with torch.no_grad():
            last = self.head[-1]
            assert isinstance(last, nn.Linear)
            last.weight.zero_()
            last.bias.zero_()
            self.highway.weight.zero_()
            self.highway.bias.zero_()
            self.highway.weight[:, -horizon:] = torch.eye(horizon)

    def forward(self, past: torch.Tensor, future: torch.Tensor) -> torch.Tensor:
        # past: [batch, lookback_days, n_past]; future: [batch, n_future]
        h = past
        for lstm in self.lstms:
            h, _ = lstm(h)  # [batch, lookback_days, hidden_i]
            h = self.dropout(h)
        last = h[:, -1, :]  # [batch, hidden_last]
        out = self.head(torch.cat([last, future], dim=1))  # [batch, 3 * horizon]
        out = out.view(-1, 3, self.horizon)  # [batch, 3, horizon]
        lags = past[:, :, : self.horizon].reshape(past.shape[0], -1)  # [batch, days * horizon]
        median = out[:, 1, :] + self.highway(lags)  # [batch, horizon]
        lower = median - nn.functional.softplus(out[:, 0, :])  # [batch, horizon]
        upper = median + nn.functional.softplus(out[:, 2, :])  # [batch, horizon]
        return torch.stack([lower, median, upper], dim=1)  # [batch, 3 (p10, p50, p90), horizon]
