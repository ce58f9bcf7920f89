"""Experiment loggers (``logger=none|csv|wandb``). Every run also writes ``metrics.jsonl`` regardless."""

from __future__ import annotations

import csv
import os
from pathlib import Path


class NullLogger:
    def log(self, metrics: dict, step: int) -> None:
        pass

    def finish(self) -> None:
        pass


class CSVLogger(NullLogger):
    """One row per epoch in ``<run_dir>/metrics.csv`` (scalar metrics only)."""

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / "metrics.csv"
        self.fields: list[str] | None = None

    def log(self, metrics: dict, step: int) -> None:
        row = {"epoch": step, **{k: v for k, v in metrics.items() if isinstance(v, (int, float))}}
        new = self.fields is None and not self.path.exists()
        if self.fields is None:
            self.fields = list(row)
        with open(self.path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow(row)


class WandbLogger(NullLogger):
    """Weights & Biases, offline unless the user sets ``logger.mode`` (and a key) themselves."""

    def __init__(self, run_dir: str | Path, cfg, config: dict) -> None:
        import wandb

        os.environ.setdefault("WANDB_SILENT", "true")
        self.run = wandb.init(
            project=cfg.get("project", "srnn_bench"),
            name=cfg.get("name"),
            mode=cfg.get("mode", "offline"),
            dir=str(run_dir),
            config=config,
            reinit=True,
        )

    def log(self, metrics: dict, step: int) -> None:
        self.run.log({k: v for k, v in metrics.items() if isinstance(v, (int, float))}, step=step)

    def finish(self) -> None:
        self.run.finish()


def build_logger(cfg, run_dir, config: dict):
    name = cfg["name"]
    if name == "none":
        return NullLogger()
    if name == "csv":
        return CSVLogger(run_dir)
    if name == "wandb":
        return WandbLogger(run_dir, cfg, config)
    raise ValueError(f"unknown logger '{name}'; valid choices: csv, none, wandb")
