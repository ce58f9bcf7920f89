"""The run-directory layout: the one place that names the files a run writes and reads.

A run directory (Hydra's output dir, or ``paths.run_dir``; README, "Using it") holds

    config.yaml            the resolved config (:data:`CONFIG`)
    env.json               git commit (+ dirty flag), package versions, platform, device (:data:`ENV`)
    metrics.jsonl          one line per epoch (:data:`HISTORY`)
    metrics.json           the final summary, written last: its presence means the run finished (:data:`METRICS`)
    metrics.csv            ``logger=csv`` only: the scalar columns of metrics.jsonl (:data:`METRICS_CSV`)
    wandb_run_id           ``logger=wandb`` only: the W&B run every session of this run logs to (:data:`WANDB_ID`)
    {test,val}_confusion.{json,csv}   confusion matrices of the final evaluation (:func:`confusion`)
    error.txt              instead of metrics.json when the run failed: the one-line reason and the traceback
                           (:data:`ERROR`); a later session of the same run renames it error.previous.txt
                           (:data:`PREVIOUS_ERROR`)
    eval/                  ``python -m srnn_bench.evaluate``: config.yaml, env.json, metrics.json, confusion
                           matrices, and ``zoo verify``'s verify.json (:data:`EVAL`, :data:`VERIFY`); another
                           precision than the run's goes to eval_<dtype>/
    provenance.json        imported networks (``zoo import``): source file, sha256, URL, converter (:data:`PROVENANCE`)
    .hydra/                Hydra's record of the config and the overrides (:data:`HYDRA`, :data:`OVERRIDES`);
                           ``resume=DIR`` puts this session's in .hydra_resume/ (:data:`HYDRA_RESUME`)
    checkpoints/           (:data:`CHECKPOINTS`)
        last.pt            newest: every epoch, and mid-epoch if configured (:data:`LAST`)
        prev.pt            the one last.pt replaced, the fallback when last.pt is unreadable (:data:`PREV`)
        next.pt            last.pt being written: present only after a kill between two renames (:data:`NEXT`)
        best.pt            best validation accuracy (:data:`BEST`)
        init.pt            the untrained weights, for before/after plots (:data:`INIT`)

A sweep directory also holds ``multirun_summary.json`` (:data:`MULTIRUN_SUMMARY`). Only file names live
here; what goes into them is the business of the module that writes them.
"""

from __future__ import annotations

from pathlib import Path

CONFIG = "config.yaml"
ENV = "env.json"
HISTORY = "metrics.jsonl"
METRICS = "metrics.json"
METRICS_CSV = "metrics.csv"
WANDB_ID = "wandb_run_id"
ERROR = "error.txt"
PREVIOUS_ERROR = "error.previous.txt"
HYDRA = ".hydra"
HYDRA_RESUME = ".hydra_resume"
OVERRIDES = "overrides.yaml"  # inside HYDRA
MULTIRUN_SUMMARY = "multirun_summary.json"
EVAL = "eval"
VERIFY = "verify.json"  # inside EVAL
PROVENANCE = "provenance.json"

CHECKPOINTS = "checkpoints"
LAST, PREV, NEXT, BEST, INIT = "last.pt", "prev.pt", "next.pt", "best.pt", "init.pt"
RESUMABLE = (LAST, NEXT, PREV)
"""Checkpoints a run continues from, in the order they are tried (newest first)."""

MARKERS = (METRICS, ERROR, CONFIG, HYDRA)
"""Any of these makes a directory a run directory (:func:`srnn_bench.utils.runs.iter_run_dirs`)."""


def checkpoint(run_dir: str | Path, name: str) -> Path:
    """``run_dir/checkpoints/name``."""
    return Path(run_dir) / CHECKPOINTS / name


def resumable(run_dir: str | Path) -> list[Path]:
    """The checkpoints a run in ``run_dir`` would continue from, in the order they are tried (may not exist)."""
    return [checkpoint(run_dir, name) for name in RESUMABLE]


def has_checkpoint(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` holds a checkpoint to continue from."""
    return any(p.exists() for p in resumable(run_dir))


def confusion(run_dir: str | Path, prefix: str, ext: str) -> Path:
    """``run_dir/<prefix>_confusion.<ext>`` (prefix ``test`` or ``val``; ext ``json`` or ``csv``)."""
    return Path(run_dir) / f"{prefix}_confusion.{ext}"
