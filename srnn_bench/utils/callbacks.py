"""Hydra callbacks (registered in configs/hydra/default.yaml)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from . import layout
from .io import write_json
from .runs import format_summary, summarize_runs

log = logging.getLogger("srnn_bench")


REFUSED = ".refused"
"""``<sweep dir>/.refused/<job>.txt``: a job refused because its directory holds another config's results
(nothing was written into that directory); read and removed by :class:`MultirunSummary`."""


def record_refused(sweep_dir: Path, job: str, msg: str) -> None:
    from .io import atomic_write_text

    atomic_write_text(sweep_dir / REFUSED / f"{job}.txt", msg + "\n")


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
        refused = sorted((sweep_dir / REFUSED).glob("*.txt")) if (sweep_dir / REFUSED).is_dir() else []
        summary["refused"] = [{"job": p.stem, "error": p.read_text().strip()} for p in refused]
        for p in refused:
            p.unlink()
        if refused:
            (sweep_dir / REFUSED).rmdir()
        write_json(sweep_dir / layout.MULTIRUN_SUMMARY, summary)
        text = format_summary(summary)
        log.info("multirun summary (%s):\n%s", sweep_dir / layout.MULTIRUN_SUMMARY, text)
        MultirunSummary.last_failed = summary["n_failed"] + summary["n_incomplete"] + len(summary["refused"])
        for r in summary["refused"]:
            log.error("job %s refused: %s", r["job"], r["error"])
        if summary["n_failed"] or summary["n_incomplete"]:
            print(f"srnn_bench: {summary['n_failed']} failed / {summary['n_incomplete']} incomplete job(s) in {sweep_dir}; "
                  f"see {layout.MULTIRUN_SUMMARY}")
