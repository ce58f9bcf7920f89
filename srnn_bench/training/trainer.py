"""The one BPTT trainer for every model and dataset.

Each training step unrolls the whole sequence (time-first [T, B, F]), computes the loss of the
configured readout mode, back-propagates through time with the surrogate gradients, clips the
gradient norm and steps the optimiser. Evaluation counts activity for the metrics.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..data import IGNORE_INDEX, DataSplits, collate_time_first
from ..metrics import ActivityMeter, ConfusionMatrix
from ..utils.io import append_jsonl, atomic_torch_save
from .losses import anytime_correct, loss_and_correct, sequence_logits


class NonFiniteLossError(RuntimeError):
    """The loss or a gradient became NaN/inf; the message names the epoch and step."""


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"trainer.device={name} but CUDA is not available; use trainer.device=cpu or auto")
    return torch.device(name)


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class TrainerConfig:
    epochs: int = 10
    batch_size: int = 64
    eval_batch_size: int = 256
    loss: str = "last"
    skip_steps: int = 0
    grad_clip: float | None = None
    seed: int = 0
    progress: bool = True


class Trainer:
    """Train ``model`` on ``data`` with ``optimizer``/``scheduler``; write metrics and checkpoints to ``run_dir``."""

    def __init__(self, model, encoder, data: DataSplits, optimizer, scheduler, cfg: TrainerConfig, run_dir, device, logger):
        if cfg.batch_size <= 0:
            raise ValueError(f"trainer.batch_size must be > 0, got {cfg.batch_size}")
        if cfg.epochs < 0:
            raise ValueError(f"trainer.epochs must be >= 0, got {cfg.epochs}")
        self.model, self.encoder, self.data = model.to(device), encoder.to(device), data
        self.optimizer, self.scheduler, self.cfg = optimizer, scheduler, cfg
        self.run_dir, self.device, self.logger = Path(run_dir), device, logger
        self.ckpt_dir = self.run_dir / "checkpoints"
        self.history: list[dict] = []
        self.start_epoch = 0
        self.best: dict = {}

    # -- data ----------------------------------------------------------------------------------
    def _loader(self, ds, train: bool, epoch: int = 0) -> DataLoader:
        gen = torch.Generator().manual_seed(self.cfg.seed * 100_003 + epoch) if train else None
        bs = self.cfg.batch_size if train else self.cfg.eval_batch_size
        return DataLoader(ds, batch_size=bs, shuffle=train, generator=gen, collate_fn=collate_time_first)

    # -- one epoch -----------------------------------------------------------------------------
    def train_epoch(self, epoch: int) -> dict:
        self.model.train()
        total_loss, correct, counted, n_batches = 0.0, 0, 0, 0
        loader = self._loader(self.data.train, train=True, epoch=epoch)
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{self.cfg.epochs}", leave=False, disable=not self.cfg.progress)
        for step, (x, y) in enumerate(bar):
            x, y = self.encoder(x.to(self.device)), y.to(self.device)
            out = self.model(x)
            loss, c, n = loss_and_correct(self.cfg.loss, out, y, self.cfg.skip_steps)
            if not torch.isfinite(loss):
                raise NonFiniteLossError(f"non-finite loss ({loss.item()}) at epoch {epoch + 1}, step {step + 1}")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            clip = self.cfg.grad_clip if self.cfg.grad_clip else math.inf
            gnorm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
            if not torch.isfinite(gnorm):
                raise NonFiniteLossError(f"non-finite gradient norm at epoch {epoch + 1}, step {step + 1}")
            self.optimizer.step()
            total_loss += loss.item()
            correct, counted, n_batches = correct + c, counted + n, n_batches + 1
            bar.set_postfix(loss=f"{total_loss / n_batches:.4f}", acc=f"{correct / max(counted, 1):.3f}")
        return {"train_loss": total_loss / max(n_batches, 1), "train_acc": correct / max(counted, 1)}

    @torch.no_grad()
    def evaluate(self, ds, prefix: str) -> dict:
        """Loss, accuracies (per sequence, per frame, any-time; confusion matrix written to
        ``<prefix>_confusion.json/.csv``) and the activity/cost metrics of :mod:`srnn_bench.metrics`."""
        self.model.eval()
        meter = ActivityMeter()
        confusion = ConfusionMatrix(self.data.n_classes)
        total_loss, correct, counted, n_batches = 0.0, 0, 0, 0
        anytime, n_seq = torch.zeros(0, dtype=torch.float64), torch.zeros(0, dtype=torch.float64)

        def _add_padded(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # per-step sums over batches of any T
            n = max(a.numel(), b.numel())
            return torch.nn.functional.pad(a, (0, n - a.numel())) + torch.nn.functional.pad(b, (0, n - b.numel()))

        for x, y in self._loader(ds, train=False):
            x, y = self.encoder(x.to(self.device)), y.to(self.device)
            out = self.model(x)
            loss, c, n = loss_and_correct(self.cfg.loss, out, y, self.cfg.skip_steps)
            total_loss, correct, counted, n_batches = total_loss + loss.item(), correct + c, counted + n, n_batches + 1
            at = anytime_correct(out, y).double().cpu()  # [T] correct at each step
            counted_t = torch.full_like(at, y.shape[-1]) if y.ndim == 1 else (y != IGNORE_INDEX).sum(1).double().cpu()
            anytime, n_seq = _add_padded(anytime, at), _add_padded(n_seq, counted_t)
            if y.ndim == 1:
                confusion.update(sequence_logits(self.cfg.loss, out, self.cfg.skip_steps).argmax(-1), y)
            else:
                confusion.update(out.output.argmax(-1), y)
            meter.update(x, out)
        summary = meter.summary(self.model, getattr(self.encoder, "binary", False))
        confusion.save(self.run_dir, prefix)
        metrics = {f"{prefix}_loss": total_loss / max(n_batches, 1), f"{prefix}_acc": correct / max(counted, 1)}
        curve = anytime / n_seq.clamp(min=1)
        if self.data.per_step_labels:
            metrics[f"{prefix}_anytime_acc"] = None  # per-frame accuracy is {prefix}_acc itself
            metrics[f"{prefix}_frame_acc"] = metrics[f"{prefix}_acc"]
            # accuracy over the frames labelled at step t (None: no labelled frame at t)
            metrics[f"{prefix}_frame_acc_per_step"] = [c if n else None for c, n in zip(curve.tolist(), n_seq.tolist())]
        else:
            metrics[f"{prefix}_anytime_acc"] = curve.tolist()
            metrics[f"{prefix}_frame_acc"] = float(anytime.sum() / n_seq.sum()) if n_seq.numel() else 0.0
        return {**metrics, **{f"{prefix}_{k}" if prefix != "test" else k: v for k, v in summary.items()}}

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self, epoch: int) -> dict:
        return {
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "rng": rng_state(),
            "history": self.history,
            "best": self.best,
        }

    def save(self, epoch: int, name: str = "last.pt") -> Path:
        return atomic_torch_save(self.ckpt_dir / name, self.state_dict(epoch))

    def maybe_resume(self) -> bool:
        """Continue from ``checkpoints/last.pt`` if it exists (same run directory)."""
        path = self.ckpt_dir / "last.pt"
        if not path.exists():
            return False
        ckpt = torch.load(path, map_location=self.device, weights_only=False)
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scheduler is not None and ckpt["scheduler"] is not None:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        set_rng_state(ckpt["rng"])
        self.history, self.best, self.start_epoch = ckpt["history"], ckpt["best"], ckpt["epoch"]
        return True

    # -- the loop ------------------------------------------------------------------------------
    def fit(self) -> dict:
        t_start = time.perf_counter()
        prior_time = self.history[-1]["wall_time_s"] if self.history else 0.0
        if self.start_epoch == 0:  # the untrained parameters, for before/after plots (Yin Fig. 4c)
            atomic_torch_save(self.ckpt_dir / "init.pt", {"model": self.model.state_dict()})
        for epoch in range(self.start_epoch, self.cfg.epochs):
            t0 = time.perf_counter()
            metrics = {"epoch": epoch + 1, **self.train_epoch(epoch)}
            metrics["train_time_s"] = time.perf_counter() - t0
            if self.data.val is not None:
                metrics.update(self.evaluate(self.data.val, "val"))
            metrics.update(self.evaluate(self.data.test, "test"))
            metrics["lr"] = self.optimizer.param_groups[0]["lr"]
            self._step_scheduler(metrics)
            metrics["wall_time_s"] = prior_time + time.perf_counter() - t_start
            self.history.append(metrics)
            append_jsonl(self.run_dir / "metrics.jsonl", metrics)
            self.logger.log(metrics, step=epoch + 1)
            self._print_summary(metrics)
            select = metrics.get("val_acc", metrics["test_acc"]) if self.data.val is not None else None
            if select is not None and select >= self.best.get("val_acc", -1.0):
                self.best = {"epoch": epoch + 1, "val_acc": select, "test_acc": metrics["test_acc"]}
                self.save(epoch + 1, "best.pt")
            self.save(epoch + 1, "last.pt")
        return self.history[-1] if self.history else {}

    def _step_scheduler(self, metrics: dict) -> None:
        if self.scheduler is None:
            return
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self.scheduler.step(metrics.get("val_loss", metrics["train_loss"]))
        else:
            self.scheduler.step()

    def _print_summary(self, m: dict) -> None:
        parts = [f"epoch {m['epoch']:>3}/{self.cfg.epochs}", f"loss {m['train_loss']:.4f}", f"train {m['train_acc']:.2%}"]
        if "val_acc" in m:
            parts.append(f"val {m['val_acc']:.2%}")
        parts += [
            f"test {m['test_acc']:.2%}",
            f"rate {m['firing_rate']:.3f}",
            f"SOP {m['sop_per_sample']:.3g}",
            f"{m['train_time_s']:.1f}s",
        ]
        tqdm.write(" | ".join(parts))
