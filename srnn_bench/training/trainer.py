"""The one BPTT trainer for every model and dataset.

Each training step unrolls the whole sequence (time-first [T, B, F]), computes the loss of the
configured readout mode, back-propagates through time with the surrogate gradients, clips the
gradient norm and steps the optimiser. With ``tbptt_steps = k > 0`` the encoded sequence is run in
chunks of k steps with the state carried and detached between chunks (truncated BPTT; the
semantics of every loss mode and of ``tbptt_update`` are in :mod:`srnn_bench.training.tbptt`).
Evaluation (no graph) always runs whole sequences and counts activity for the metrics.

Interruption safety (README, "Reliability: interruption and resume"): a checkpoint is written
atomically (temp file, then rename) after every epoch and, mid-epoch, every
``checkpoint_every_steps`` steps and/or every ``checkpoint_every_min`` minutes. It holds the model,
optimiser and scheduler, every RNG state (python, numpy, torch, CUDA), the data-order position
(epoch, step: the training order of an epoch is a fixed function of seed and epoch), the running
sums of the unfinished epoch and the metrics so far. Resuming restores all of that at the step
boundary, so a killed-and-resumed run reproduces the uninterrupted one bit for bit on CPU.
The previous checkpoint is kept as ``prev.pt``: an unreadable ``last.pt`` falls back to it.
"""

from __future__ import annotations

import logging
import math
import os
import random
import re
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler
from tqdm.auto import tqdm

from ..data import IGNORE_INDEX, DataSplits, collate_time_first
from ..metrics import ActivityMeter, ConfusionMatrix, per_step_counts
from ..state import detach_state
from ..utils import layout
from ..utils.checks import check_choice
from ..utils.io import atomic_torch_save, write_jsonl
from ..utils.sample_rng import per_sample_generators, sample_seed
from . import tbptt
from .losses import anytime_correct, check_loss, loss_and_correct, sequence_logits

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 2
TRAINER_YAML = "trainer/default.yaml"
"""The one definition of every ``trainer`` default (:class:`TrainerConfig`), relative to the config tree."""
ON_NONFINITE = ("stop", "skip")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
"""``trainer.dtype``: the precision of the model's parameters, its inputs and its state."""
HANG_ENV = "SRNN_BENCH_TEST_HANG_AFTER_STEP"
"""Test hook: after this many optimiser steps (counted over the whole run, resumed steps included)
the trainer sleeps forever, so a test can ``kill -9`` it at a known point. Never set it otherwise."""


class NonFiniteLossError(RuntimeError):
    """The loss or a gradient became NaN/inf; the message names the epoch and step."""


class CheckpointError(ValueError):
    """A checkpoint cannot be read or does not fit this run; the message names the file and the fix."""


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_dtype(name: str) -> torch.dtype:
    """The torch dtype of ``trainer.dtype`` (one line naming the valid choices otherwise)."""
    check_choice("trainer.dtype", str(name), DTYPES)
    return DTYPES[str(name)]


def check_device(name: str) -> None:
    """``trainer.device``: ``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` | ``mps`` (one line otherwise)."""
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", str(name)):
        raise ValueError(f"unknown trainer.device '{name}'; valid choices: auto, cpu, cuda, cuda:N, mps")


def resolve_device(name: str) -> torch.device:
    check_device(name)
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
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def train_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The training-set order of ``epoch``: a fixed permutation of ``seed`` and ``epoch`` only, so the
    data-order position of a run is just (epoch, step) and survives a restart."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))


class _Batches(Sampler):
    """Mini-batches of ``order`` from batch ``start`` on (the last batch may be smaller)."""

    def __init__(self, order: torch.Tensor, batch_size: int, start: int = 0) -> None:
        self.order, self.batch_size, self.start = order.tolist(), batch_size, start

    def __len__(self) -> int:
        return max(0, math.ceil(len(self.order) / self.batch_size) - self.start)

    def __iter__(self):
        for b in range(self.start, math.ceil(len(self.order) / self.batch_size)):
            yield self.order[b * self.batch_size : (b + 1) * self.batch_size]


def _defaults_from_yaml(cls):
    """Give every field of ``cls`` the default of its key in ``configs/trainer/default.yaml`` (the one
    definition of each trainer default); a field the YAML lacks, or a YAML key no field has, is a bug here."""
    yaml_defaults = trainer_defaults()
    fields_ = list(cls.__annotations__)
    missing, extra = set(fields_) - set(yaml_defaults), set(yaml_defaults) - set(fields_)
    if missing or extra:
        raise RuntimeError(f"TrainerConfig and {TRAINER_YAML} disagree: fields without a key {sorted(missing)}, "
                           f"keys without a field {sorted(extra)}")
    for name in fields_:
        setattr(cls, name, yaml_defaults[name])
    return cls


def trainer_defaults() -> dict:
    """The ``trainer`` defaults: ``configs/trainer/default.yaml`` as a dict."""
    from ..resources import group_defaults

    return group_defaults(*TRAINER_YAML.removesuffix(".yaml").split("/"))


@dataclass
@_defaults_from_yaml
class TrainerConfig:
    """The ``trainer`` config node, every key of ``configs/trainer/default.yaml`` with its default from
    there (``TrainerConfig()`` is that file; :meth:`from_node` reads a composed or saved config). ``lr``,
    ``device`` and ``num_threads`` are read by :func:`srnn_bench.run.run` / ``srnn_bench.evaluate`` (the
    optimiser, the device and the thread count are built there), the others by :class:`Trainer`."""

    epochs: int
    batch_size: int
    eval_batch_size: int
    lr: float
    seed: int
    device: str
    """``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` (:func:`resolve_device`)."""
    dtype: str
    """``float32`` | ``float64``: parameters, inputs (cast when batched) and state (which follows the input)."""
    loss: str
    skip_steps: int
    grad_clip: float | None
    tbptt_steps: int
    """Truncated BPTT: chunks of this many (encoded) steps, state detached between them; 0 = full BPTT."""
    tbptt_update: str
    """``sequence``: accumulate the chunk gradients, one optimiser step per batch; ``chunk``: one step
    per chunk (TBPTT(k, k); needs ``loss=per_step``). See :mod:`srnn_bench.training.tbptt`."""
    num_threads: int | None
    num_workers: int
    """DataLoader worker processes (items are deterministic functions of their index, so the order and the
    numbers do not depend on it; worth it where items are built on the fly, e.g. N-MNIST frames)."""
    progress: bool
    checkpoint_every_steps: int | None
    """Also checkpoint mid-epoch every this many optimiser steps (``None``/0: only at epoch ends)."""
    checkpoint_every_min: float | None
    """Also checkpoint mid-epoch once this many minutes have passed since the last checkpoint."""
    on_nonfinite: str
    """``stop``: raise :class:`NonFiniteLossError` (the last good checkpoint stays); ``skip``: drop the
    batch (no optimiser step) and count it in ``skipped_batches``."""

    @classmethod
    def from_node(cls, node) -> TrainerConfig:
        """The ``trainer`` node of a composed config, or of a run's saved ``config.yaml`` (which may predate
        a key: it gets the YAML default). ``null`` for a key that is not optional (``tbptt_steps``,
        ``tbptt_update``) means its default. A key no field has: one line naming it and the valid keys."""
        values = dict(node)
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown key 'trainer.{unknown[0]}'; valid keys of trainer: "
                             f"{', '.join(sorted(cls.__dataclass_fields__))}")
        kwargs = {}
        for name, f in cls.__dataclass_fields__.items():
            value = values.get(name, f.default)
            optional = "None" in str(f.type)
            if value is None:
                kwargs[name] = None if optional else f.default
                continue
            convert = {"int": int, "float": float, "str": str, "bool": bool}[str(f.type).split(" |")[0]]
            kwargs[name] = convert(value)
        return cls(**kwargs)


def check_trainer_config(cfg: TrainerConfig, model) -> None:
    """The trainer's own checks of its keys against the model it will train (one line naming the key):
    ``on_nonfinite``, ``loss`` (:func:`srnn_bench.training.losses.check_loss`), ``tbptt_*``
    (:mod:`srnn_bench.training.tbptt`). :class:`Trainer` runs them; so does
    :func:`srnn_bench.config_validation.validate_config`, before any data are loaded. The numbers
    (``batch_size`` > 0, ``epochs`` >= 0, ...) are the generic by-name rules of ``config_validation``."""
    check_choice("trainer.on_nonfinite", cfg.on_nonfinite, ON_NONFINITE)
    check_loss(cfg.loss, model.readout_kind)
    tbptt.check_tbptt(cfg.tbptt_steps, cfg.tbptt_update, cfg.loss)
    tbptt.check_model(model, cfg.tbptt_steps)


@dataclass
class EpochProgress:
    """Running sums of the epoch in progress (saved in mid-epoch checkpoints)."""

    step: int = 0  # batches done (optimiser steps taken or skipped) in this epoch
    total_loss: float = 0.0
    correct: int = 0
    counted: int = 0
    n_batches: int = 0
    skipped: int = 0
    train_time_s: float = 0.0
    extra: dict = field(default_factory=dict)


def checkpoint_state(model, optimizer, scheduler, *, epoch: int = 0, progress: EpochProgress | None = None,
                     global_step: int = 0, data_order: dict | None = None, history: list | None = None,
                     best: dict | None = None, wall_time_s: float = 0.0) -> dict:
    """The checkpoint format (:data:`CHECKPOINT_FORMAT`) that :meth:`Trainer.maybe_resume` reads. The
    defaults describe a run with no epoch done (``srnn_bench.zoo import``: published weights, fresh
    optimiser); ``data_order=None`` is not checked on resume."""
    return {
        "format": CHECKPOINT_FORMAT,
        "epoch": epoch,
        "step": progress.step if progress is not None else 0,
        "progress": asdict(progress) if progress is not None else None,
        "global_step": global_step,
        "data_order": data_order,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": rng_state(),
        "history": list(history or []),
        "best": dict(best or {}),
        "wall_time_s": wall_time_s,
    }


class Trainer:
    """Train ``model`` on ``data`` with ``optimizer``/``scheduler``; write metrics and checkpoints to ``run_dir``."""

    def __init__(self, model, encoder, data: DataSplits, optimizer, scheduler, cfg: TrainerConfig, run_dir, device, logger):
        check_trainer_config(cfg, model)
        self.dtype = resolve_dtype(cfg.dtype)
        self.model, self.encoder, self.data = model.to(device, self.dtype), encoder.to(device, self.dtype), data
        self.optimizer, self.scheduler, self.cfg = optimizer, scheduler, cfg
        self.run_dir, self.device, self.logger = Path(run_dir), device, logger
        self.ckpt_dir = self.run_dir / layout.CHECKPOINTS
        self.history: list[dict] = []
        self.start_epoch = 0
        self.resume_progress: EpochProgress | None = None
        self.global_step = 0
        self.wall_time_s = 0.0  # training wall time of earlier sessions of this run
        self.best: dict = {}
        self.resumed_from: Path | None = None
        self._last_ckpt_time = time.monotonic()
        self._dead: dict[str, torch.Tensor] = {}  # see _note_dead_entries
        self._session_start = time.perf_counter()
        hang = os.environ.get(HANG_ENV)
        self._hang_after = int(hang) if hang else None

    # -- data ----------------------------------------------------------------------------------
    def _loader(self, ds, train: bool, epoch: int = 0, start_step: int = 0) -> DataLoader:
        collate = partial(collate_time_first, dtype=self.dtype)  # trainer.dtype
        if train:
            order = train_order(len(ds), self.cfg.seed, epoch)
            batches = _Batches(order, self.cfg.batch_size, start_step)
            # an explicit generator: creating the iterator must not draw from the global RNG
            return DataLoader(
                ds, batch_sampler=batches, collate_fn=collate, generator=torch.Generator(), num_workers=self.cfg.num_workers
            )
        return DataLoader(
            ds, batch_size=self.cfg.eval_batch_size, shuffle=False, collate_fn=collate, num_workers=self.cfg.num_workers
        )

    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.data.train) / self.cfg.batch_size)

    # -- one epoch -----------------------------------------------------------------------------
    def train_epoch(self, epoch: int, progress: EpochProgress | None = None) -> dict:
        """Train one epoch, from ``progress.step`` on when resuming mid-epoch."""
        self.model.train()
        p = progress or EpochProgress()
        n_steps = self.steps_per_epoch()
        loader = self._loader(self.data.train, train=True, epoch=epoch, start_step=p.step)
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{self.cfg.epochs}", leave=False, disable=not self.cfg.progress,
                   initial=p.step, total=n_steps)
        t0 = time.perf_counter() - p.train_time_s
        for x, y in bar:
            where = f"epoch {epoch + 1}, step {p.step + 1}"
            x, y = self.encoder(x.to(self.device)), self._targets(y.to(self.device))  # encoders that change T: before chunking
            ok, loss, c, n = self.train_batch(x, y, where)
            if ok:
                p.total_loss += loss
                p.correct, p.counted, p.n_batches = p.correct + c, p.counted + n, p.n_batches + 1
            else:  # on_nonfinite=skip: no (further, with tbptt_update=chunk) optimiser step for this batch
                self.optimizer.zero_grad(set_to_none=True)
                p.skipped += 1
            p.step += 1
            self.global_step += 1
            if p.n_batches:
                bar.set_postfix(loss=f"{p.total_loss / p.n_batches:.4f}", acc=f"{p.correct / max(p.counted, 1):.3f}")
            if p.step < n_steps and self._mid_epoch_checkpoint_due(p.step):
                p.train_time_s = time.perf_counter() - t0
                self.save(epoch, progress=p)
            self._maybe_hang()
        if p.skipped and p.n_batches == 0:
            raise NonFiniteLossError(
                f"every batch of epoch {epoch + 1} was non-finite ({p.skipped} skipped); "
                f"the last good checkpoint is {self.ckpt_dir / layout.LAST}; lower trainer.lr or set trainer.grad_clip"
            )
        p.train_time_s = time.perf_counter() - t0
        return {
            "train_loss": p.total_loss / max(p.n_batches, 1),
            "train_acc": p.correct / max(p.counted, 1),
            "skipped_batches": p.skipped,
            "train_time_s": p.train_time_s,
        }

    def _targets(self, y: torch.Tensor) -> torch.Tensor:
        """The labels the loss sees: unlabelled steps become ``data.unlabelled_class`` when it is set
        (``dataset.unlabelled=class0``, the authors' ECG rule), else they stay IGNORE_INDEX (masked)."""
        cls = getattr(self.data, "unlabelled_class", None)
        return y if cls is None or y.ndim == 1 else y.masked_fill(y == IGNORE_INDEX, int(cls))

    def train_batch(self, x: torch.Tensor, y: torch.Tensor, where: str = "") -> tuple[bool, float, int, int]:
        """Forward, backward and optimiser step(s) on one encoded batch: ``(ok, loss, n_correct, n_counted)``;
        ``ok`` False = non-finite and ``trainer.on_nonfinite=skip`` (the caller drops the batch)."""
        bounds = tbptt.chunk_bounds(x.shape[0], int(self.cfg.tbptt_steps or 0))
        if len(bounds) > 1:
            return self._train_batch_chunked(x, y, bounds, where)
        out = self.model(x)
        loss, c, n = loss_and_correct(self.cfg.loss, out, y, self.cfg.skip_steps)
        self.optimizer.zero_grad(set_to_none=True)
        if not self._finite_loss(loss, where):
            return False, math.nan, 0, 0
        loss.backward()
        if not self._clip_and_step(where):
            return False, math.nan, 0, 0
        return True, loss.item(), c, n

    def _finite_loss(self, loss: torch.Tensor, where: str) -> bool:
        if bool(torch.isfinite(loss)):
            return True
        self._nonfinite(f"non-finite loss ({loss.item()}) at {where}")
        return False

    def _clip_and_step(self, where: str) -> bool:
        """Clip the gradient norm and step the optimiser; False (no step) when the norm is non-finite."""
        clip = self.cfg.grad_clip if self.cfg.grad_clip else math.inf
        self._zero_dead_gradients()
        gnorm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
        if not bool(torch.isfinite(gnorm)):
            self._nonfinite(f"non-finite gradient norm ({gnorm.item()}) at {where}")
            return False
        self.optimizer.step()
        return True

    def _train_batch_chunked(self, x, y, bounds, where: str) -> tuple[bool, float, int, int]:
        """Truncated BPTT over ``bounds`` (see :mod:`srnn_bench.training.tbptt` for the semantics)."""
        mode, skip, n_steps = self.cfg.loss, self.cfg.skip_steps, x.shape[0]
        per_chunk = self.cfg.tbptt_update == "chunk"
        grads = None
        if mode not in tbptt.ADDITIVE_LOSSES:
            # pass 1, no graph: the full-sequence outputs give L and dL/d(output_t) for every t; the
            # forked RNG makes pass 2 draw the same random numbers (initial membranes, noise)
            with torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []), torch.no_grad():
                state, outs = None, []
                for a, b in bounds:
                    o, state = self.model(x[a:b], state, return_state=True)
                    outs.append(tbptt.cat_outputs([o]))  # only what the loss reads
                    del o
            loss, c, n, grads = tbptt.output_gradients(mode, tbptt.cat_outputs(outs), y, skip)
            del outs
            if not self._finite_loss(loss, where):
                return False, math.nan, 0, 0
        self.optimizer.zero_grad(set_to_none=True)
        state, outs = None, []
        for a, b in bounds:
            needs_graph = grads is not None or mode == "per_step" or b == n_steps
            with torch.set_grad_enabled(needs_graph):
                out, state = self.model(x[a:b], state, return_state=True)
            state = detach_state(state)  # the truncation: no gradient into earlier chunks
            if grads is not None:
                part = tbptt.linearised_loss(grads, out, a, b)
            else:
                outs.append(tbptt.cat_outputs([out]))
                part = tbptt.chunk_loss(mode, out, y, a, b, n_steps, skip)
                if part is not None and not self._finite_loss(part, f"{where}, steps {a}-{b}"):
                    return False, math.nan, 0, 0
            if part is None:
                continue
            part.backward()
            del out, part
            if per_chunk:
                if not self._clip_and_step(f"{where}, steps {a}-{b}"):
                    return False, math.nan, 0, 0
                self.optimizer.zero_grad(set_to_none=True)
        if not per_chunk and not self._clip_and_step(where):
            return False, math.nan, 0, 0
        if grads is None:  # loss and accuracy of the whole sequence
            loss, c, n = loss_and_correct(mode, tbptt.cat_outputs(outs), y, skip)
        return True, loss.item(), c, n

    def _nonfinite(self, what: str) -> None:
        if self.cfg.on_nonfinite == "skip":
            log.warning("%s: batch skipped (trainer.on_nonfinite=skip)", what)
            return
        last = self.ckpt_dir / layout.LAST
        kept = f"the last good checkpoint is {last}" if last.exists() else "no checkpoint was written yet"
        raise NonFiniteLossError(
            f"{what}; {kept}. Lower trainer.lr, set trainer.grad_clip, or use trainer.on_nonfinite=skip"
        )

    def _mid_epoch_checkpoint_due(self, step: int) -> bool:
        k = self.cfg.checkpoint_every_steps
        if k and step % int(k) == 0:
            return True
        m = self.cfg.checkpoint_every_min
        return bool(m) and time.monotonic() - self._last_ckpt_time >= 60.0 * float(m)

    def _maybe_hang(self) -> None:
        if self._hang_after is not None and self.global_step == self._hang_after:
            log.warning("%s=%d reached: sleeping until killed (test hook)", HANG_ENV, self._hang_after)
            while True:
                time.sleep(1.0)

    @torch.no_grad()
    def evaluate(self, ds, prefix: str) -> dict:
        """Loss, accuracies (per sequence, per frame, any-time; confusion matrix written to
        ``<prefix>_confusion.json/.csv``) and the activity/cost metrics of :mod:`srnn_bench.metrics`."""
        self.model.eval()
        meter = ActivityMeter()
        confusion = ConfusionMatrix(self.data.n_classes)
        total_loss, correct, counted, n_batches = 0.0, 0, 0, 0
        anytime, n_seq = torch.zeros(0, dtype=torch.float64), torch.zeros(0, dtype=torch.float64)
        step_counts = [0, 0, 0, 0]  # per-step labels: per_step_counts from step skip_steps on, summed

        def _add_padded(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # per-step sums over batches of any T
            n = max(a.numel(), b.numel())
            return torch.nn.functional.pad(a, (0, n - a.numel())) + torch.nn.functional.pad(b, (0, n - b.numel()))

        first = 0
        for x, y in self._loader(ds, train=False):
            # every random draw of a sample (initial membrane, noise, rate code) from its own generator:
            # the metrics depend on neither eval_batch_size nor how often the splits were evaluated
            seeds = [sample_seed(self.cfg.seed, prefix, first + i) for i in range(x.shape[1])]
            first += x.shape[1]
            with per_sample_generators(seeds):
                x, y_raw = self.encoder(x.to(self.device)), y.to(self.device)
                out = self.model(x)
            y = self._targets(y_raw)
            loss, c, n = loss_and_correct(self.cfg.loss, out, y, self.cfg.skip_steps)
            if y.ndim == 2:
                k = self.cfg.skip_steps
                counts = per_step_counts(out.output[k:].argmax(-1), y_raw[k:])
                step_counts = [a + b for a, b in zip(step_counts, counts)]
            # the loss weighted by what it averages (sequences or labelled frames): independent of the batching
            total_loss, correct = total_loss + loss.item() * n, correct + c
            counted, n_batches = counted + n, n_batches + 1
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
        metrics = {f"{prefix}_loss": total_loss / max(counted, 1), f"{prefix}_acc": correct / max(counted, 1)}
        curve = anytime / n_seq.clamp(min=1)
        if self.data.per_step_labels:
            # both counting rules (srnn_bench.metrics.accuracy): labelled steps only / unlabelled = class 0
            metrics[f"{prefix}_acc_masked"] = step_counts[0] / max(step_counts[1], 1)
            metrics[f"{prefix}_acc_class0"] = step_counts[2] / max(step_counts[3], 1)
            metrics[f"{prefix}_anytime_acc"] = None  # per-frame accuracy is {prefix}_acc itself
            metrics[f"{prefix}_frame_acc"] = metrics[f"{prefix}_acc"]
            # accuracy over the frames labelled at step t (None: no labelled frame at t)
            metrics[f"{prefix}_frame_acc_per_step"] = [c if n else None for c, n in zip(curve.tolist(), n_seq.tolist())]
        else:
            metrics[f"{prefix}_anytime_acc"] = curve.tolist()
            metrics[f"{prefix}_frame_acc"] = float(anytime.sum() / n_seq.sum()) if n_seq.numel() else 0.0
        return {**metrics, **{f"{prefix}_{k}" if prefix != "test" else k: v for k, v in summary.items()}}

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self, epoch: int, progress: EpochProgress | None = None) -> dict:
        """Everything needed to continue exactly here: ``epoch`` epochs done, plus ``progress.step``
        batches of the next one when ``progress`` is given (a mid-epoch checkpoint)."""
        return checkpoint_state(
            self.model,
            self.optimizer,
            self.scheduler,
            epoch=epoch,
            progress=progress,
            global_step=self.global_step,
            data_order={"seed": self.cfg.seed, "batch_size": self.cfg.batch_size, "n_train": len(self.data.train)},
            history=self.history,
            best=self.best,
            wall_time_s=self.wall_time_s + time.perf_counter() - self._session_start,
        )

    def _check_parameters_finite(self, where: str) -> None:
        for name, p in self.model.named_parameters():
            bad = ~torch.isfinite(p.detach())
            if name in self._dead:
                bad &= ~self._dead[name]
            if bad.any():
                raise NonFiniteLossError(
                    f"parameter {name} became non-finite by {where}; the last good checkpoint is "
                    f"{self.ckpt_dir / layout.LAST}. Lower trainer.lr or set trainer.grad_clip"
                )

    def save(self, epoch: int, name: str = layout.LAST, progress: EpochProgress | None = None) -> Path:
        """Write a checkpoint atomically. For ``last.pt`` the one it replaces is kept as ``prev.pt``
        (a fallback should ``last.pt`` ever be unreadable). Non-finite weights are never saved."""
        where = f"epoch {epoch + 1}, step {progress.step}" if progress is not None else f"the end of epoch {epoch}"
        self._check_parameters_finite(where)
        path = self.ckpt_dir / name
        state = self.state_dict(epoch, progress)
        if name == layout.LAST:
            tmp = atomic_torch_save(self.ckpt_dir / layout.NEXT, state)
            if path.exists():
                os.replace(path, self.ckpt_dir / layout.PREV)
            os.replace(tmp, path)  # a kill between the two renames leaves prev.pt (and next.pt): both are tried
        else:
            atomic_torch_save(path, state)
        self._last_ckpt_time = time.monotonic()
        return path

    def _read_checkpoint(self, path: Path) -> dict:
        try:
            ckpt = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as e:  # noqa: BLE001 - any unpickling failure means "unreadable"
            raise CheckpointError(f"{path}: unreadable checkpoint ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
        if not isinstance(ckpt, dict) or "model" not in ckpt or "epoch" not in ckpt:
            raise CheckpointError(f"{path}: not a srnn_bench checkpoint")
        return ckpt

    def maybe_resume(self) -> bool:
        """Continue from the newest readable checkpoint of this run directory, if there is one.

        Tries ``last.pt``, then ``next.pt`` / ``prev.pt`` (a kill between renames, or a corrupt
        ``last.pt``). Never restarts from scratch silently: when checkpoints exist but none can be
        read, raises :class:`CheckpointError` naming them and the fix.
        """
        present = [c for c in layout.resumable(self.run_dir) if c.exists()]
        if not present:
            history = self.run_dir / layout.HISTORY
            if history.exists() and history.stat().st_size:
                raise CheckpointError(
                    f"{self.run_dir} holds results (metrics.jsonl) but no checkpoint in {self.ckpt_dir}; "
                    "refusing to restart from scratch over them: use a new run directory"
                )
            return False
        errors, ckpt = [], None
        for path in present:
            try:
                ckpt = self._read_checkpoint(path)
                break
            except CheckpointError as e:
                log.warning("%s; trying an older checkpoint", e)
                errors.append(str(e))
        if ckpt is None:
            raise CheckpointError(
                f"no readable checkpoint in {self.ckpt_dir} ({'; '.join(errors)}); delete {self.ckpt_dir} to restart "
                "from scratch, or use a new run directory"
            )
        order = ckpt.get("data_order")
        now = {"seed": self.cfg.seed, "batch_size": self.cfg.batch_size, "n_train": len(self.data.train)}
        if order is not None and order != now:
            raise CheckpointError(
                f"{path} was written with data order {order}, this run has {now}; "
                "resume with the original trainer.seed / trainer.batch_size / dataset, or use a new run directory"
            )
        try:
            self.model.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            if self.scheduler is not None and ckpt["scheduler"] is not None:
                self.scheduler.load_state_dict(ckpt["scheduler"])
        except (RuntimeError, ValueError, KeyError) as e:
            raise CheckpointError(
                f"{path} does not fit this model/optimiser ({str(e).splitlines()[0]}); resume with the original "
                "config, or use a new run directory"
            ) from None
        self.history, self.best, self.start_epoch = ckpt["history"], ckpt["best"], ckpt["epoch"]
        self.resume_progress = EpochProgress(**ckpt["progress"]) if ckpt.get("progress") else None
        self.global_step = int(ckpt.get("global_step", 0))
        self.wall_time_s = float(ckpt.get("wall_time_s", self.history[-1]["wall_time_s"] if self.history else 0.0))
        self._write_history()  # drop metrics.jsonl lines of epochs the checkpoint does not hold
        set_rng_state(ckpt["rng"])  # last: nothing may draw random numbers between here and the next batch
        self.resumed_from = path
        log.info("resuming from %s: epoch %d, step %d", path, self.start_epoch, ckpt.get("step", 0))
        return True

    def _write_history(self) -> None:
        write_jsonl(self.run_dir / layout.HISTORY, self.history)

    # -- the loop ------------------------------------------------------------------------------
    def _note_dead_entries(self) -> None:
        """Parameter entries that are already non-finite in the weights training starts from (a published
        network's dead neuron: GSC 0.91398's dense_1 neuron 172 is NaN in every incoming weight, tau and bias,
        and never spikes) stay as they are: their gradients are zeroed before every step and they do not count
        as weights that *became* non-finite. Entries that turn non-finite later still stop the run."""
        masks = {n: ~torch.isfinite(p.detach()) for n, p in self.model.named_parameters()}
        self._dead = {n: m for n, m in masks.items() if m.any()}
        if self._dead:
            total = sum(int(m.sum()) for m in self._dead.values())
            log.warning("%d parameter entries are non-finite in the starting weights (%s): kept as they are, "
                        "their gradients zeroed", total, ", ".join(sorted(self._dead)))

    def _zero_dead_gradients(self) -> None:
        if not self._dead:  # the usual case: nothing to do on the training hot path
            return
        for name, p in self.model.named_parameters():
            mask = self._dead.get(name)
            if mask is not None and p.grad is not None:
                p.grad[mask] = 0.0

    def fit(self) -> dict:
        self._session_start = time.perf_counter()
        self._last_ckpt_time = time.monotonic()
        self._note_dead_entries()
        progress, self.resume_progress = self.resume_progress, None
        self.logger.restore(self.history)  # the CSV log = the restored history (no row of a redone epoch twice)
        if self.start_epoch == 0 and progress is None:  # untrained parameters, for before/after plots (Yin Fig. 4c)
            atomic_torch_save(self.ckpt_dir / layout.INIT, {"model": self.model.state_dict()})
        for epoch in range(self.start_epoch, self.cfg.epochs):
            metrics = {"epoch": epoch + 1, **self.train_epoch(epoch, progress)}
            progress = None
            if self.data.val is not None:
                metrics.update(self.evaluate(self.data.val, "val"))
            metrics.update(self.evaluate(self.data.test, "test"))
            metrics["lr"] = self.optimizer.param_groups[0]["lr"]
            self._step_scheduler(metrics)
            metrics["wall_time_s"] = self.wall_time_s + time.perf_counter() - self._session_start
            self.history.append(metrics)
            self.logger.log(metrics, step=epoch + 1)
            self._print_summary(metrics)
            select = metrics["val_acc"] if self.data.val is not None else None  # never the test split
            if select is not None and select >= self.best.get("val_acc", -1.0):
                self.best = {"epoch": epoch + 1, "val_acc": select, "test_acc": metrics["test_acc"]}
                self.save(epoch + 1, layout.BEST)
            self.save(epoch + 1, layout.LAST)
            self._write_history()  # after the checkpoint: metrics.jsonl never runs ahead of last.pt
        if not self.history:  # trainer.epochs=0: the untrained network's metrics
            metrics = {"epoch": 0}
            if self.data.val is not None:
                metrics.update(self.evaluate(self.data.val, "val"))
            metrics.update(self.evaluate(self.data.test, "test"))
            metrics["wall_time_s"] = self.wall_time_s + time.perf_counter() - self._session_start
            return metrics
        return self.history[-1]

    def _step_scheduler(self, metrics: dict) -> None:
        if self.scheduler is None:
            return
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            # scheduler.monitor: val_loss | val_acc | val_error (1 - acc); the training split's without a val split
            split = "val" if "val_loss" in metrics else "train"
            what = getattr(self.scheduler, "monitor", "val_loss").split("_", 1)[1]
            self.scheduler.step(1.0 - metrics[f"{split}_acc"] if what == "error" else metrics[f"{split}_{what}"])
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
        if m.get("skipped_batches"):
            parts.append(f"skipped {m['skipped_batches']}")
        tqdm.write(" | ".join(parts))

