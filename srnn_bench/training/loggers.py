"""Experiment loggers (``logger=none|csv|wandb``). Every run also writes ``metrics.jsonl`` regardless.

After a resume (README, "Reliability") the trainer calls :meth:`restore` with the history restored from
the checkpoint, before the first new epoch; a fresh run calls it with ``[]``. The CSV log is then
rewritten from that history, so an epoch redone after a resume appears once, with the values of
``metrics.jsonl``. W&B history cannot be rewritten: see :class:`WandbLogger`.
"""

from __future__ import annotations

import csv
import os
import uuid
from pathlib import Path

from ..utils import layout
from ..utils.checks import check_choice
from ..utils.io import atomic_write

LOGGERS = ("csv", "none", "wandb")
"""``logger.name`` choices (:func:`build_logger`)."""


def _scalars(metrics: dict, step: int) -> dict:
    return {"epoch": step, **{k: v for k, v in metrics.items() if isinstance(v, (int, float))}}


class NullLogger:
    def restore(self, history: list[dict]) -> None:
        """Forget what was logged past ``history`` (the epochs a resumed run's checkpoint holds)."""

    def log(self, metrics: dict, step: int) -> None:
        pass

    def finish(self) -> None:
        pass


class CSVLogger(NullLogger):
    """One row per epoch in ``<run_dir>/metrics.csv`` (scalar metrics only; columns of the first epoch)."""

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / layout.METRICS_CSV
        self.fields: list[str] | None = None

    def restore(self, history: list[dict]) -> None:
        """Rewrite the file (atomically) with exactly the rows of ``history``; none: remove it. Rows that a
        killed session logged past its last checkpoint disappear here and are logged again when redone."""
        rows = [_scalars(m, int(m.get("epoch", i + 1))) for i, m in enumerate(history)]
        self.fields = list(rows[0]) if rows else None
        if not rows:
            self.path.unlink(missing_ok=True)
            return

        def write(tmp: str) -> None:
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
                w.writeheader()
                w.writerows(rows)

        atomic_write(self.path, write)

    def log(self, metrics: dict, step: int) -> None:
        row = _scalars(metrics, step)
        new = self.fields is None or not self.path.exists()
        if self.fields is None:
            self.fields = list(row)
        with open(self.path, "w" if new else "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow(row)


class WandbLogger(NullLogger):
    """Weights & Biases, offline unless the user sets ``logger.mode`` (and a key) themselves.

    Every session of one run directory logs to the same W&B run: its id is kept in
    ``<run_dir>/wandb_run_id`` and passed with ``resume="allow"``. Every row is logged with an explicit
    ``step=epoch``. W&B history is append-only and ignores a step lower than the run's current step, so
    after a resume the (rare) epoch redone because the killed session had logged it but not yet
    checkpointed it keeps its first-logged values in W&B; ``metrics.jsonl`` and ``metrics.csv`` hold the
    redone values. Offline, each session writes its own ``wandb/offline-run-*`` directory with that id;
    ``wandb sync`` them in order (how the server merges them was not verifiable offline).
    """

    def __init__(self, run_dir: str | Path, cfg, config: dict) -> None:
        import wandb

        os.environ.setdefault("WANDB_SILENT", "true")
        id_file = Path(run_dir) / layout.WANDB_ID
        run_id = id_file.read_text().strip() if id_file.exists() else ""
        if not run_id:
            run_id = uuid.uuid4().hex[:8]
            atomic_write(id_file, lambda tmp: Path(tmp).write_text(run_id + "\n"))
        self.run_id = run_id
        self.run = wandb.init(
            project=cfg.get("project", "srnn_bench"),
            name=cfg.get("name"),
            mode=cfg.get("mode", "offline"),
            dir=str(run_dir),
            config=config,
            id=run_id,
            resume="allow",
            reinit=True,
        )

    def log(self, metrics: dict, step: int) -> None:
        self.run.log({k: v for k, v in metrics.items() if isinstance(v, (int, float))}, step=step)

    def finish(self) -> None:
        self.run.finish()


def build_logger(cfg, run_dir, config: dict):
    name = cfg["name"]
    check_choice("logger", name, LOGGERS)
    if name == "none":
        return NullLogger()
    if name == "csv":
        return CSVLogger(run_dir)
    if name == "wandb":
        return WandbLogger(run_dir, cfg, config)
    raise NotImplementedError(f"logger {name}")  # every LOGGERS name is handled above
