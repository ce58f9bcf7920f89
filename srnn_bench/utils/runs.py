"""Finding run directories and their outcome: the one place results tables and sweep summaries
learn which runs finished, which failed (and why) and which never finished.

A run directory is one :func:`srnn_bench.run.run` wrote (``config.yaml``) or a Hydra job dir
(``.hydra/``) or one holding ``metrics.json`` / ``error.txt``. Its status:

``ok``          ``metrics.json`` exists and parses (it is written last, atomically: the run finished);
``failed``      ``error.txt`` exists (written by ``python -m srnn_bench`` when a run fails), or
                ``metrics.json`` is unreadable;
``incomplete``  neither: still running, or killed (``resume=DIR`` continues it).

Results tables must use only ``ok`` records and say how many others they skipped.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import layout
from .layout import MARKERS

OK, FAILED, INCOMPLETE = "ok", "failed", "incomplete"


@dataclass
class RunRecord:
    run_dir: Path
    status: str  # ok | failed | incomplete
    metrics: dict | None = None
    error: str | None = None  # one line: why it failed / is incomplete
    overrides: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == OK


def _overrides(run_dir: Path) -> list[str]:
    path = run_dir / layout.HYDRA / layout.OVERRIDES
    if not path.is_file():
        return []
    try:
        import yaml

        return [str(o) for o in (yaml.safe_load(path.read_text()) or [])]
    except Exception:  # noqa: BLE001 - a damaged overrides file must not hide the run
        return []


def read_run(run_dir: str | Path) -> RunRecord:
    """The outcome of one run directory."""
    run_dir = Path(run_dir)
    overrides = _overrides(run_dir)
    metrics_path, error_path = run_dir / layout.METRICS, run_dir / layout.ERROR
    if metrics_path.is_file():
        try:
            return RunRecord(run_dir, OK, metrics=json.loads(metrics_path.read_text()), overrides=overrides)
        except (OSError, ValueError) as e:
            return RunRecord(run_dir, FAILED, error=f"{metrics_path} unreadable ({e})", overrides=overrides)
    if error_path.is_file():
        try:
            first = error_path.read_text().strip().splitlines()[0]
        except (OSError, IndexError):
            first = f"{error_path} (empty)"
        return RunRecord(run_dir, FAILED, error=first, overrides=overrides)
    return RunRecord(
        run_dir,
        INCOMPLETE,
        error=f"no {layout.METRICS} or {layout.ERROR}: still running or killed (resume={run_dir})",
        overrides=overrides,
    )


def iter_run_dirs(root: str | Path) -> Iterator[RunRecord]:
    """Every run directory under ``root`` (``root`` itself included), in sorted path order.

    Use it to build results: ``[r.metrics for r in iter_run_dirs(root) if r.ok]``, reporting the
    records that are not ``ok`` (``r.status``, ``r.error``) instead of dropping them silently.
    """
    root = Path(root)
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        names = set(filenames) | set(dirnames)
        if any(m in names for m in MARKERS):
            found.append(Path(dirpath))
            dirnames[:] = []  # a run directory holds no other runs
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
    for run_dir in sorted(found, key=_natural):
        yield read_run(run_dir)


def _natural(path: Path):
    return [int(p) if p.isdigit() else p for p in path.parts]


def summarize_runs(root: str | Path) -> dict:
    """``{"n_ok", "n_failed", "n_incomplete", "runs": [{run_dir, status, error, overrides, <metric>}]}``."""
    runs = []
    for r in iter_run_dirs(root):
        row = {"run_dir": str(r.run_dir), "status": r.status, "error": r.error, "overrides": r.overrides}
        if r.metrics is not None:
            row["test_acc"] = r.metrics.get("test_acc")
        runs.append(row)
    count = lambda s: sum(1 for r in runs if r["status"] == s)
    return {"n_ok": count(OK), "n_failed": count(FAILED), "n_incomplete": count(INCOMPLETE), "runs": runs}


def format_summary(summary: dict) -> str:
    """A plain-text table of :func:`summarize_runs`'s result."""
    lines = [f"{summary['n_ok']} ok, {summary['n_failed']} failed, {summary['n_incomplete']} incomplete"]
    for r in summary["runs"]:
        detail = f"test_acc={r['test_acc']:.4f}" if isinstance(r.get("test_acc"), (int, float)) else (r["error"] or "")
        lines.append(f"  {r['status']:<10} {Path(r['run_dir']).name:<8} {' '.join(r['overrides']):<40} {detail}")
    return "\n".join(lines)


def run_uid() -> str:
    """A short random suffix for run directory names: two runs started in the same second with the same
    seed still get different directories (``${run_uid:}`` in configs/hydra/default.yaml)."""
    return secrets.token_hex(3)


def register_resolvers() -> None:
    """Register ``${run_uid:}`` (cached: one value per process, like Hydra's ``${now:}``)."""
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("run_uid"):
        OmegaConf.register_new_resolver("run_uid", run_uid, use_cache=True)
