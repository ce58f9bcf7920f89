"""Hydra callbacks (registered in configs/hydra/default.yaml)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from .io import write_json
from .runs import format_summary, summarize_runs

log = logging.getLogger("srnn_bench")


class MultirunSummary(Callback):
    """After a ``--multirun``: ``<sweep dir>/multirun_summary.json`` and a printed table of which jobs
    finished, which failed and why (from each job's ``metrics.json`` / ``error.txt``). ``last_failed``: how
    many jobs did not finish (``python -m srnn_bench`` then exits 1)."""

    last_failed = 0

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        if not sweep_dir.is_dir():
            return
        summary = summarize_runs(sweep_dir)
        write_json(sweep_dir / "multirun_summary.json", summary)
        text = format_summary(summary)
        log.info("multirun summary (%s):\n%s", sweep_dir / "multirun_summary.json", text)
        MultirunSummary.last_failed = summary["n_failed"] + summary["n_incomplete"]
        if summary["n_failed"] or summary["n_incomplete"]:
            print(f"srnn_bench: {summary['n_failed']} failed / {summary['n_incomplete']} incomplete job(s) in {sweep_dir}; "
                  "see multirun_summary.json")
