"""Accuracy metrics: per sequence, per frame (streaming), any-time, and the confusion matrix.

Per-sequence accuracy (``acc``)
    one prediction per sequence, from the readout mode of :mod:`srnn_bench.training.losses` (e.g. the
    last step, or sum_t softmax), compared with the sequence label. For per-step labels (ECG, SoLi
    streaming) ``acc`` is the per-frame accuracy over labelled steps.
Per-frame accuracy (``frame_acc``)
    fraction of (step, sample) pairs whose readout argmax equals the label of that step, over
    labelled steps (-100 = unlabelled); a sequence label counts as the label of every step. This is the
    accuracy of a network that answers at every step (Yin: SoLi "per frame", ECG).
Any-time accuracy (``anytime_acc``)
    [T]: for each step t, the fraction of sequences whose readout argmax at t equals the label
    (Yin Fig. 4e-i); counted by :func:`srnn_bench.training.losses.anytime_correct`. ``frame_acc`` is
    its mean over steps for sequence labels.
Per-step accuracy under both counting rules (``acc_masked``, ``acc_class0``)
    per-step labels with unlabelled steps (ECG): ``acc_masked`` counts labelled steps only;
    ``acc_class0`` counts every step, an unlabelled one being correct iff the prediction is class 0 —
    the authors' ECG counting (Yin et al.'s script takes the argmax of an all-zero one-hot row, i.e. 0).
    Both from step ``trainer.skip_steps`` on (:func:`per_step_counts`).
Confusion matrix
    ``C[true, predicted]`` counts of the predictions that define ``acc`` (sequence predictions, or
    labelled frames for per-step labels); rows = true class.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import torch

from ..utils import layout
from ..utils.io import atomic_write_text

IGNORE_INDEX = -100  # = srnn_bench.data.IGNORE_INDEX (unlabelled step)


def per_step_counts(pred: torch.Tensor, y: torch.Tensor) -> tuple[int, int, int, int]:
    """``(correct labelled, labelled, correct with unlabelled = class 0, all steps)`` for per-step
    predictions ``pred`` and labels ``y`` of the same shape (IGNORE_INDEX = unlabelled)."""
    labelled = y != IGNORE_INDEX
    hit = pred == y
    masked = int((hit & labelled).sum())
    class0 = masked + int(((pred == 0) & ~labelled).sum())
    return masked, int(labelled.sum()), class0, int(y.numel())


class ConfusionMatrix:
    """Accumulates ``C[true, predicted]``; labels equal to -100 are skipped."""

    def __init__(self, n_classes: int) -> None:
        self.n = int(n_classes)
        self.counts = torch.zeros(self.n, self.n, dtype=torch.long)

    @torch.no_grad()
    def update(self, pred: torch.Tensor, y: torch.Tensor) -> None:
        pred, y = pred.reshape(-1).cpu().long(), y.reshape(-1).cpu().long()
        keep = y != IGNORE_INDEX
        pred, y = pred[keep], y[keep]
        if y.numel() and (int(y.max()) >= self.n or int(pred.max()) >= self.n or int(y.min()) < 0):
            raise ValueError(f"confusion matrix: a label or prediction is outside 0..{self.n - 1}")
        self.counts += torch.bincount(y * self.n + pred, minlength=self.n * self.n).view(self.n, self.n)

    def accuracy(self) -> float:
        total = int(self.counts.sum())
        return float(self.counts.trace()) / total if total else 0.0

    def per_class_recall(self) -> list[float | None]:
        rows = self.counts.sum(1)
        return [float(self.counts[i, i]) / float(rows[i]) if rows[i] else None for i in range(self.n)]

    def to_dict(self) -> dict:
        return {
            "rows": "true class",
            "columns": "predicted class",
            "matrix": self.counts.tolist(),
            "accuracy": self.accuracy(),
            "per_class_recall": self.per_class_recall(),
        }

    def save(self, run_dir: str | Path, prefix: str = "test") -> tuple[Path, Path]:
        """Write ``<prefix>_confusion.json`` and ``<prefix>_confusion.csv`` (atomically) into ``run_dir``."""
        run_dir = Path(run_dir)
        p_json = atomic_write_text(
            layout.confusion(run_dir, prefix, "json"), json.dumps(self.to_dict(), indent=1) + "\n"
        )
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["true\\pred", *range(self.n)])
        for i, row in enumerate(self.counts.tolist()):
            w.writerow([i, *row])
        p_csv = atomic_write_text(layout.confusion(run_dir, prefix, "csv"), buf.getvalue())
        return p_json, p_csv
