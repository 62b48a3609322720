"""The one training loop: seeding, device choice, masked pinball loss, early stopping,
and interval calibration on the validation window."""

from __future__ import annotations

import copy
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ml.config import QUANTILES, ModelConfig
from ml.datasets import FeedSeries
from ml.history import impute_inputs
from ml.scaling import Scaler
from ml.splits import Split, split_feed
from ml.windowing import Windows, make_windows, n_future_features, n_past_features

if TYPE_CHECKING:
    import torch

    from ml.networks.lstm import LSTMQuantileNet


@dataclass(frozen=True)
class EpochReport:
    epoch: int
    max_epochs: int
    train_loss: float
    val_loss: float
    best_val_loss: float
    elapsed_s: float
    eta_s: float


@dataclass
class TrainResult:
    net: LSTMQuantileNet
    config: ModelConfig
    scaler: Scaler
    split: Split
    calibration: dict[str, float]
    history: list[EpochReport] = field(default_factory=list)
    best_epoch: int = 0
    initial_val_loss: float = float("nan")  # of the untrained net, i.e. seasonal naive
    train_seconds: float = 0.0
    device: str = "cpu"


def seed_everything(seed: int) -> None:
    import torch

    # cuBLAS needs a fixed workspace for deterministic matmuls on CUDA (no effect on the CPU).
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def pick_device() -> torch.device:
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def pinball_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean pinball loss over the three quantiles, counting only measured target hours."""
    import torch

    # pred: [batch, 3, horizon]; target, mask: [batch, horizon]
    q = torch.tensor(QUANTILES, device=pred.device).view(1, -1, 1)  # [1, 3, 1]
    diff = target.unsqueeze(1) - pred  # [batch, 3, horizon]
    loss = torch.maximum(q * diff, (q - 1) * diff)
    weight = mask.unsqueeze(1).to(pred.dtype)
    return (loss * weight).sum() / (weight.sum() * len(QUANTILES)).clamp(min=1.0)


def build_net(config: ModelConfig, n_exog: int) -> LSTMQuantileNet:
    from ml.networks.lstm import LSTMQuantileNet

    return LSTMQuantileNet(
        n_past=n_past_features(n_exog),
        n_future=n_future_features(n_exog),
        lookback_days=config.lookback_days,
        hidden_sizes=config.hidden_sizes,
        dropout=config.dropout,
        head_size=config.head_size,
    )


def feed_arrays(series: FeedSeries) -> tuple[np.ndarray, np.ndarray]:
    """Input-imputed target and the exogenous matrix of a whole series."""
    exog = series.exog.to_numpy(dtype="float64")
    if exog.ndim != 2 or exog.shape[1] == 0:
        exog = np.zeros((len(series), 0))
    return impute_inputs(series.target, series.mask), exog


def predict_windows(net: LSTMQuantileNet, w: Windows, batch: int = 4096) -> np.ndarray:
    """Scaled quantile predictions [n, 3, horizon] in eval mode."""
    import torch

    device = next(net.parameters()).device
    net.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, len(w.past), batch):
            past = torch.from_numpy(w.past[i : i + batch]).to(device)
            fut = torch.from_numpy(w.future[i : i + batch]).to(device)
            outs.append(net(past, fut).cpu().numpy())
    return np.concatenate(outs) if outs else np.zeros((0, 3, 24), dtype="float32")


def apply_calibration(
    q: np.ndarray, calibration: dict[str, float], nonnegative: bool
) -> np.ndarray:
    """Stretch the p10/p90 offsets from the median by the factors found on validation."""
    out = q.copy()
    out[..., 0, :] = q[..., 1, :] - calibration["lower"] * (q[..., 1, :] - q[..., 0, :])
    out[..., 2, :] = q[..., 1, :] + calibration["upper"] * (q[..., 2, :] - q[..., 1, :])
    if nonnegative:
        out = np.maximum(out, 0.0)
    return out


def calibrate(
    q: np.ndarray, y: np.ndarray, mask: np.ndarray, nonnegative: bool
) -> dict[str, float]:
    """Pick the stretch factors whose p10 / p90 tails hold ~10 % each of validation truths."""
    grid = np.round(np.arange(0.5, 3.001, 0.05), 2)
    best: dict[str, float] = {}
    for name, side, tail in (
        ("lower", 0, QUANTILES[0]),
        ("upper", 2, 1 - QUANTILES[2]),
    ):
        errors = []
        for k in grid:
            cal = {"lower": 1.0, "upper": 1.0, name: float(k)}
            bound = apply_calibration(q, cal, nonnegative)[:, side, :]
            outside = (y < bound) if side == 0 else (y > bound)
            errors.append(abs(outside[mask].mean() - tail))
        best[name] = float(grid[int(np.argmin(errors))])
    return best


def train(
    series: FeedSeries,
    config: ModelConfig | None = None,
    on_epoch: Callable[[EpochReport], None] | None = None,
    device: str | None = None,
    split: Split | None = None,
    offset: np.ndarray | None = None,
    init_state: dict[str, torch.Tensor] | None = None,
    envelope: np.ndarray | None = None,
) -> TrainResult:
    """Train on the split's training window, stop early on validation pinball loss.

    ``split`` defaults to :func:`ml.splits.split_feed` (the last ``test_days`` held out); the
    rolling evaluation passes each fold's. ``device`` defaults to CUDA when present.
    ``offset`` (one value per row) is taken off the target, inputs and targets alike, so the
    net learns what remains of it (the hybrid: a seasonal profile fitted on training rows).
    ``init_state`` starts from earlier weights instead of the seasonal-naive start (the rolling
    evaluation passes the previous fold's, which saw only data before this fold's).
    ``envelope`` (positive, one value per row, known ahead) divides the target after the offset:
    the net learns the ratio (solar's clear-sky index), and each target hour's loss is weighted
    by its envelope so that the loss still counts errors in the feed's unit."""
    import torch

    config = config or ModelConfig()
    seed_everything(config.seed)
    dev = torch.device(device) if device else pick_device()
    split = split or split_feed(series, config)
    y_filled, exog = feed_arrays(series)
    target = series.target
    if offset is not None:
        y_filled = y_filled - offset
        target = target - offset
    if envelope is not None:
        y_filled = y_filled / envelope
        target = target / envelope
    tr = slice(split.train_start, split.val_start)
    scaler = Scaler.fit(target[tr], series.mask[tr], exog[tr])
    lookback = config.lookback_days * 24
    args = (y_filled, series.mask, exog, series.index)
    train_w = make_windows(
        *args,
        split.train_origins(lookback, config.origin_stride_hours),
        config.lookback_days,
        scaler,
    )
    val_w = make_windows(*args, split.val_origins(), config.lookback_days, scaler)
    keep = train_w.mask.any(axis=1)  # a sample with no measured target teaches nothing
    t_weight: np.ndarray = train_w.mask
    v_weight: np.ndarray = val_w.mask
    if envelope is not None:
        from numpy.lib.stride_tricks import sliding_window_view

        env_w = sliding_window_view(envelope / envelope[tr].mean(), 24)
        t_origins = split.train_origins(lookback, config.origin_stride_hours)
        t_weight = (train_w.mask * env_w[t_origins]).astype("float32")
        v_weight = (val_w.mask * env_w[split.val_origins()]).astype("float32")
    tensors = [
        torch.from_numpy(a[keep]).to(dev)
        for a in (train_w.past, train_w.future, train_w.target, t_weight)
    ]
    v_tensors = [
        torch.from_numpy(a).to(dev) for a in (val_w.past, val_w.future, val_w.target, v_weight)
    ]

    net = build_net(config, exog.shape[1])
    if init_state is not None:
        net.load_state_dict(init_state)
    net = net.to(dev)
    opt = torch.optim.AdamW(
        net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    gen = torch.Generator().manual_seed(config.seed)
    n = tensors[0].shape[0]
    result = TrainResult(
        net=net,
        config=config,
        scaler=scaler,
        split=split,
        calibration={},
        device=str(dev),
    )
    best_state = copy.deepcopy(net.state_dict())
    # The untrained net is the seasonal-naive forecast (or the warm start): training must beat
    # it on validation.
    net.eval()
    with torch.no_grad():
        best_val = float(pinball_loss(net(v_tensors[0], v_tensors[1]), *v_tensors[2:]))
    result.initial_val_loss = best_val
    bad_epochs = 0
    start = time.perf_counter()
    for epoch in range(1, config.max_epochs + 1):
        net.train()
        order = torch.randperm(n, generator=gen).to(dev)
        total = 0.0
        for i in range(0, n, config.batch_size):
            idx = order[i : i + config.batch_size]
            past, fut, tgt, msk = (t[idx] for t in tensors)
            loss = pinball_loss(net(past, fut), tgt, msk)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            total += float(loss.detach()) * len(idx)
        net.eval()
        with torch.no_grad():
            val_loss = float(pinball_loss(net(v_tensors[0], v_tensors[1]), *v_tensors[2:]))
        sched.step(val_loss)
        if val_loss < best_val - 1e-5:
            best_val, bad_epochs, result.best_epoch = val_loss, 0, epoch
            best_state = copy.deepcopy(net.state_dict())
        else:
            bad_epochs += 1
        elapsed = time.perf_counter() - start
        report = EpochReport(
            epoch=epoch,
            max_epochs=config.max_epochs,
            train_loss=total / n,
            val_loss=val_loss,
            best_val_loss=best_val,
            elapsed_s=elapsed,
            eta_s=elapsed / epoch * (config.max_epochs - epoch),
        )
        result.history.append(report)
        if on_epoch:
            on_epoch(report)
        if bad_epochs >= config.patience:
            break
    net.load_state_dict(best_state)
    net.eval()
    result.train_seconds = time.perf_counter() - start

    q_val = scaler.y_inverse(predict_windows(net, val_w))
    y_val = scaler.y_inverse(val_w.target)
    result.calibration = calibrate(q_val, y_val, val_w.mask, series.nonnegative)
    return result
