"""Command line: ``python -m srnn_bench [group=choice ...] [key=value ...] [--multirun]``.

A thin Hydra entry point: compose the config, call :func:`srnn_bench.run.run`, return the tuned
metric (for sweepers). Bad input stops with one line naming the key and the valid choices (unknown
group options and unknown keys are caught here, before Hydra's multi-line message); inside a
``--multirun`` a failing job -- whatever the error -- is recorded (``error.txt`` in its run
directory, NaN returned) and the others go on; ``multirun_summary.json`` lists them afterwards.
``resume=DIR`` continues the run in DIR (its Hydra files then go to ``DIR/.hydra_resume``).
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path

from .cli import check_group_overrides, check_key_overrides
from .resources import CONFIG_DIR, compose, missing
from .utils import layout

log = logging.getLogger("srnn_bench")


def check_resume(argv: list[str]) -> str | None:
    """``resume=DIR`` must name a run directory with a checkpoint (checked before Hydra creates anything)."""
    resume = _arg(argv, "resume")
    if resume is None:
        return None
    from .run import check_resume_dir

    try:
        check_resume_dir(Path(resume).expanduser())
    except ValueError as e:
        return str(e)
    return None


def resume_overrides(argv: list[str]) -> list[str]:
    """``resume=DIR`` without ``hydra.run.dir``: run Hydra in DIR too (its files in ``DIR/.hydra_resume``)."""
    resume = _arg(argv, "resume")
    if resume is None or any(a.startswith("hydra.run.dir=") for a in argv):
        return []
    return [f"hydra.run.dir={resume}", f"hydra.output_subdir={layout.HYDRA_RESUME}"]


def _arg(argv: list[str], key: str) -> str | None:
    values = [a.split("=", 1)[1] for a in argv if a.startswith(key + "=")]
    return values[-1] if values and values[-1] not in ("", "null") else None


def check_directories(argv: list[str]) -> str | None:
    """One line when a directory srnn_bench or Hydra must write cannot be: ``hydra.run.dir`` /
    ``hydra.sweep.dir`` / ``paths.output_dir`` under a file or not writable, ``paths.data_dir`` under a file."""
    from .utils.io import directory_problem

    out = _arg(argv, "paths.output_dir") or os.environ.get("SRNN_BENCH_OUTPUTS", "outputs")
    data = _arg(argv, "paths.data_dir") or os.environ.get("SRNN_BENCH_DATA")
    for key, path, writable in (("hydra.run.dir", _arg(argv, "hydra.run.dir"), True),
                                ("hydra.sweep.dir", _arg(argv, "hydra.sweep.dir"), True),
                                ("paths.output_dir", out, True),
                                ("paths.data_dir", data, False)):
        if path and "$" not in path:
            problem = directory_problem(path, writable)
            if problem:
                return f"{key}={path}: cannot use it as a directory ({problem})"
    return None


def _compose_job(overrides: list[str]):
    return compose([o for o in overrides if not o.lstrip("+~").startswith("hydra")])


def check_reused_directories(argv: list[str]) -> str | None:
    """A given ``hydra.run.dir`` (or, for a basic ``--multirun``, each job directory of a given
    ``hydra.sweep.dir``) that holds another config's results is refused here, before Hydra writes its
    ``.hydra/`` files into it: a refused session leaves the directory exactly as it found it."""
    from .config_schema import apply_schema
    from .run import RunDirConflict, check_same_run

    multirun = any(a in ("-m", "--multirun") for a in argv)
    overrides = [a for a in argv if not a.startswith("-") and ("=" in a or a.startswith("~"))]
    if any(a.startswith("resume=") for a in overrides):
        return None  # resume=DIR continues DIR with its own saved config
    jobs: list[tuple[Path, list[str]]] = []
    if not multirun and _arg(argv, "hydra.run.dir"):
        jobs = [(Path(_arg(argv, "hydra.run.dir")).expanduser(), overrides)]
    elif multirun and _arg(argv, "hydra.sweep.dir") and not any(
            o.split("=")[0].lstrip("+") in ("hparams_search", "hydra/sweeper") for o in overrides):
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
        from hydra.core.override_parser.overrides_parser import OverridesParser

        sweep_dir = Path(_arg(argv, "hydra.sweep.dir")).expanduser()
        if not sweep_dir.is_dir():
            return None
        parsed = OverridesParser.create().parse_overrides([o for o in overrides if not o.startswith("hydra.")])
        batches = BasicSweeper.split_arguments(parsed, None)
        jobs = [(sweep_dir / str(n), list(job)) for n, job in enumerate(j for batch in batches for j in batch)]
    for run_dir, job in jobs:
        if not (run_dir / layout.CONFIG).is_file() and not (run_dir / layout.METRICS).is_file():
            continue
        try:
            cfg = _compose_job(job)
            apply_schema(cfg)
            check_same_run(cfg, run_dir, explicit_overrides=job)
        except RunDirConflict as e:
            return str(e)
        except Exception:  # noqa: BLE001 - anything else is reported by the run itself
            continue
    return None


def _main() -> None:
    import hydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import DictConfig

    @hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
    def main(cfg: DictConfig) -> float | None:
        from .data import DataError
        from .run import RunDirConflict, run, run_dir_of
        from .training import NonFiniteLossError
        from .utils.io import atomic_write_text

        hc = HydraConfig.get()
        multirun = hc.mode == RunMode.MULTIRUN
        if multirun and "joblib" in str(hc.launcher.get("_target_", "")).lower() and not cfg.trainer.get("num_threads"):
            import torch

            torch.set_num_threads(1)  # parallel jobs: one thread each (set trainer.num_threads to change)
        expected = (ValueError, DataError, NonFiniteLossError, FileNotFoundError, KeyError, OSError)
        try:
            metrics = run(cfg)
        except Exception as e:
            if not (multirun or isinstance(e, expected)):
                raise  # a bug: show the full traceback
            msg = str(e) if isinstance(e, (ValueError, DataError)) else f"{type(e).__name__}: {e}"
            msg = msg.strip().splitlines()[0] if msg.strip() else type(e).__name__
            log.error("error: %s", msg)
            FAILED_JOBS.append(msg)
            if multirun and isinstance(e, RunDirConflict):  # counted by the sweep summary (any launcher)
                from .utils.callbacks import record_refused

                record_refused(Path(str(hc.sweep.dir)), str(hc.job.num), msg)
            if not isinstance(e, RunDirConflict):  # never beside another run's (or this run's finished) results
                try:
                    run_dir = run_dir_of(cfg)
                except Exception:  # noqa: BLE001 - e.g. resume=DIR that is not a path
                    run_dir = Path(hc.runtime.output_dir)
                try:
                    if (run_dir / layout.METRICS).is_file():
                        raise OSError(f"{run_dir} holds a finished run's metrics.json: no error.txt beside it")
                    run_dir.mkdir(parents=True, exist_ok=True)
                    atomic_write_text(run_dir / layout.ERROR, msg + "\n\n" + traceback.format_exc())
                except OSError as w:
                    log.error("cannot write %s: %s", run_dir / layout.ERROR, w)
            if multirun:
                return float("nan")
            print(f"srnn_bench: error: {msg}", file=sys.stderr)
            sys.exit(2)
        value = metrics.get(cfg.get("optimized_metric", "test_acc"))
        return float(value) if isinstance(value, (int, float)) else None

    main()


FAILED_JOBS: list[str] = []
"""One line per job of this process that failed (a ``--multirun`` then exits 1 after finishing the others)."""


def entry() -> None:
    argv = sys.argv[1:]
    typed: dict[str, str] = {}
    err = (missing() or check_group_overrides(argv) or check_resume(argv) or check_key_overrides(argv, typed)
           or check_directories(argv) or check_reused_directories(argv))
    if err:
        print(f"srnn_bench: error: {err}", file=sys.stderr)
        sys.exit(2)
    sys.argv = [sys.argv[0], *(typed.get(a, a) for a in argv)]  # Hydra composes the converted values
    sys.argv += resume_overrides(argv)
    os.environ.setdefault("WANDB_MODE", "offline")
    from .utils.callbacks import MultirunSummary
    from .utils.runs import register_resolvers

    register_resolvers()
    _main()
    failed = MultirunSummary.last_failed
    if failed or FAILED_JOBS:
        print(f"srnn_bench: error: {failed or len(FAILED_JOBS)} job(s) did not finish; see multirun_summary.json",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    entry()
