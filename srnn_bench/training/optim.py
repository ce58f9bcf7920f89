"""Optimisers and learning-rate schedules from config.

Time constants (parameters named ``tau_*``) get their own learning rate,
``optimizer.lr * optimizer.tau_lr_mult`` (the authors' code uses x2-x5).
"""

from __future__ import annotations

import torch

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "adamax": torch.optim.Adamax, "sgd": torch.optim.SGD}
SCHEDULERS = ("none", "step", "linear", "cosine", "plateau")


def build_optimizer(model: torch.nn.Module, cfg, lr: float) -> torch.optim.Optimizer:
    name = cfg["name"]
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer '{name}'; valid choices: {', '.join(sorted(OPTIMIZERS))}")
    if not lr > 0:
        raise ValueError(f"trainer.lr must be > 0, got {lr}")
    tau, other = [], []
    for pname, p in model.named_parameters():
        if p.requires_grad:
            (tau if pname.split(".")[-1].startswith("tau") else other).append(p)
    groups = [{"params": other, "lr": lr, "name": "weights"}]
    if tau:
        groups.append({"params": tau, "lr": lr * float(cfg.get("tau_lr_mult", 1.0)), "name": "time_constants"})
    kwargs = {k: v for k, v in dict(cfg).items() if k not in ("name", "tau_lr_mult")}
    return OPTIMIZERS[name](groups, lr=lr, **kwargs)


def build_scheduler(optimizer, cfg, epochs: int):
    """Epoch-wise schedules: ``step`` (gamma every step_size epochs; Yin Table S1), ``linear`` decay to
    zero over the run (Table S1, (P)S-MNIST), ``cosine`` annealing (De Geeter), ``plateau`` halving on a
    validation-loss plateau (Ponghiran), ``none``."""
    name = cfg["name"]
    if name == "none":
        return None
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=int(cfg["step_size"]), gamma=float(cfg["gamma"]))
    if name == "linear":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: max(0.0, 1.0 - e / max(epochs, 1)))
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1), eta_min=float(cfg.get("eta_min", 0.0)))
    if name == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=float(cfg.get("factor", 0.5)), patience=int(cfg.get("patience", 1))
        )
    raise ValueError(f"unknown scheduler '{name}'; valid choices: {', '.join(SCHEDULERS)}")
