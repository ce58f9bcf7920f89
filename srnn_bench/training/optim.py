"""Optimisers and learning-rate schedules from config.

Time constants (parameters named ``tau_*``) get their own learning rate,
``trainer.lr * optimizer.tau_lr_mult`` (the authors' code uses x2-x5); those of the readout layer
``trainer.lr * optimizer.tau_lr_mult_readout`` when that is set (Yin's ECG script: x3 hidden, x2 output).
"""

from __future__ import annotations

import math

import torch

from ..utils.checks import check_choice

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "adamax": torch.optim.Adamax, "sgd": torch.optim.SGD}
SCHEDULERS = ("none", "step", "linear", "cosine", "plateau")
PLATEAU_DEFAULTS = {
    "monitor": "val_loss", "mode": "min", "factor": 0.5, "patience": 1, "threshold": 1e-4, "threshold_mode": "rel",
    "cooldown": 0, "min_lr": 0.0, "compare_to": "best",
}
PLATEAU_CHOICES = {
    "monitor": ("val_loss", "val_acc", "val_error"), "mode": ("min", "max"),
    "threshold_mode": ("rel", "abs", "rel_current"), "compare_to": ("best", "previous"),
}


def plateau_options(cfg) -> dict:
    """The ``scheduler=plateau`` keys, checked: one line naming the key for a bad value."""
    cfg = dict(cfg)
    unknown = sorted(set(cfg) - set(PLATEAU_DEFAULTS) - {"name"})
    if unknown:
        raise ValueError(f"unknown key scheduler.{unknown[0]}; valid keys: {', '.join(PLATEAU_DEFAULTS)}")
    o = {k: cfg.get(k, d) if cfg.get(k) is not None else d for k, d in PLATEAU_DEFAULTS.items()}
    for key, valid in PLATEAU_CHOICES.items():
        check_choice(f"scheduler.{key}", o[key], valid)
    for key in ("factor", "threshold", "min_lr", "patience", "cooldown"):
        v = o[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"scheduler.{key} must be a number, got {v!r}")
    if not 0 < o["factor"] < 1:
        raise ValueError(f"scheduler.factor must be in (0, 1), got {o['factor']}")
    for key in ("threshold", "min_lr"):
        if o[key] < 0:
            raise ValueError(f"scheduler.{key} must be >= 0, got {o[key]}")
    for key in ("patience", "cooldown"):
        if o[key] < 0 or int(o[key]) != o[key]:
            raise ValueError(f"scheduler.{key} must be an integer >= 0, got {o[key]}")
        o[key] = int(o[key])
    return o


class PlateauScheduler(torch.optim.lr_scheduler.ReduceLROnPlateau):
    """``torch.optim.lr_scheduler.ReduceLROnPlateau`` (mode, factor, patience, threshold, threshold_mode
    rel/abs, cooldown, min_lr: the torch semantics) plus two options for the rule of Ponghiran & Roy's
    code (wponghiran/imp-snns-for-sl, run_exp.py, the pytorch-kaldi learning-rate annealing):

    - ``compare_to: previous``: an epoch is judged against the *previous* epoch's value, not the best so far;
    - ``threshold_mode: rel_current``: it is an improvement iff ``(ref - a) / a >= threshold`` (mode min;
      ``(a - ref) / a >= threshold`` for max), the relative change divided by the *current* value.

    With ``monitor: val_error`` (1 - val_acc), ``threshold 0.005, patience 1, factor 0.5, min_lr 1.25e-4``
    this is their rule: after two consecutive epochs whose dev error improved by less than 0.5% the lr is
    halved (never below min_lr) and the count restarts. ``monitor`` names what the trainer passes to
    ``step``: the validation split's value, or the training split's when there is no validation split.
    """

    def __init__(self, optimizer, monitor="val_loss", compare_to="best", threshold_mode="rel", **kw) -> None:
        self.monitor, self.compare_to = monitor, compare_to
        super().__init__(optimizer, threshold_mode=threshold_mode, **kw)

    def _init_is_better(self, mode, threshold, threshold_mode) -> None:
        super()._init_is_better(mode, threshold, "rel" if threshold_mode == "rel_current" else threshold_mode)
        self.threshold_mode = threshold_mode

    def _is_better(self, a, best) -> bool:
        if self.threshold_mode != "rel_current":
            return super()._is_better(a, best)
        if math.isinf(best):  # nothing to compare with yet (the authors skip the first validation)
            return True
        gain = (best - a) if self.mode == "min" else (a - best)
        return gain / a >= self.threshold if a != 0 else gain > 0

    def step(self, metrics, epoch=None) -> None:  # type: ignore[override]
        super().step(metrics, epoch)
        if self.compare_to == "previous":
            self.best = float(metrics)


def build_optimizer(model: torch.nn.Module, cfg, lr: float) -> torch.optim.Optimizer:
    name = cfg["name"]
    check_choice("optimizer", name, sorted(OPTIMIZERS))
    mult = float(cfg.get("tau_lr_mult", 1.0))
    mult_out = cfg.get("tau_lr_mult_readout")
    mult_out = mult if mult_out is None else float(mult_out)
    tau, tau_out, other = [], [], []
    for pname, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if not pname.split(".")[-1].startswith("tau"):
            other.append(p)
        else:
            (tau_out if pname.startswith("readout.") and mult_out != mult else tau).append(p)
    groups = [{"params": other, "lr": lr, "name": "weights"}]
    if tau:
        groups.append({"params": tau, "lr": lr * mult, "name": "time_constants"})
    if tau_out:
        groups.append({"params": tau_out, "lr": lr * mult_out, "name": "readout_time_constants"})
    kwargs = {k: v for k, v in dict(cfg).items() if k not in ("name", "tau_lr_mult", "tau_lr_mult_readout")}
    return OPTIMIZERS[name](groups, lr=lr, **kwargs)


def build_scheduler(optimizer, cfg, epochs: int):
    """Epoch-wise schedules: ``step`` (gamma every step_size epochs; Yin Table S1), ``linear`` decay to
    zero over the run (Table S1, (P)S-MNIST), ``cosine`` annealing (De Geeter), ``plateau``: :class:`PlateauScheduler`
    (Ponghiran: halving when the development-set error stops improving), ``none``."""
    name = cfg["name"]
    check_choice("scheduler", name, SCHEDULERS)
    if name == "none":
        return None
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=int(cfg["step_size"]), gamma=float(cfg["gamma"]))
    if name == "linear":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: max(0.0, 1.0 - e / max(epochs, 1)))
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1), eta_min=float(cfg.get("eta_min", 0.0)))
    return PlateauScheduler(optimizer, **plateau_options(cfg))  # plateau
