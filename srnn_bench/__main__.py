"""Command line: ``python -m srnn_bench [group=choice ...] [key=value ...] [--multirun]``.

A thin Hydra entry point: compose the config, call :func:`srnn_bench.run.run`, return the tuned
metric (for sweepers). Bad input stops with one line naming the key and the valid choices; inside a
``--multirun`` a failing job is recorded (``error.txt`` in its run directory) and the others go on.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
GROUPS = sorted(p.name for p in CONFIG_DIR.iterdir() if p.is_dir()) if CONFIG_DIR.is_dir() else []

log = logging.getLogger("srnn_bench")


def choices(group: str) -> list[str]:
    """The available options of a config group (file names under ``configs/<group>/``)."""
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def check_group_overrides(argv: list[str]) -> str | None:
    """Return a one-line error for the first ``group=choice`` naming a missing option, else ``None``."""
    for arg in argv:
        if arg.startswith("-") or "=" not in arg:
            continue
        key, value = arg.split("=", 1)
        key = key.lstrip("+~")
        if key not in GROUPS or value in ("", "null") or any(c in value for c in "()[]{}*$"):
            continue
        valid = choices(key)
        for v in value.split(","):
            if v not in valid:
                return f"unknown {key} '{v}'; valid choices: {', '.join(valid)}"
    return None


def _main() -> None:
    import hydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import DictConfig

    @hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
    def main(cfg: DictConfig) -> float | None:
        from .data import DataError
        from .run import run, run_dir_of
        from .training import NonFiniteLossError

        multirun = HydraConfig.get().mode == RunMode.MULTIRUN
        try:
            metrics = run(cfg)
        except (ValueError, DataError, NonFiniteLossError, FileNotFoundError, KeyError) as e:
            msg = f"{type(e).__name__}: {e}".splitlines()[0] if not isinstance(e, (ValueError, DataError)) else str(e)
            run_dir = run_dir_of(cfg)
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / "error.txt").write_text(msg + "\n\n" + traceback.format_exc())
            log.error("error: %s", msg)
            if multirun:
                return float("nan")
            sys.exit(2)
        value = metrics.get(cfg.get("optimized_metric", "test_acc"))
        return float(value) if isinstance(value, (int, float)) else None

    main()


def entry() -> None:
    err = check_group_overrides(sys.argv[1:])
    if err:
        print(f"srnn_bench: error: {err}", file=sys.stderr)
        sys.exit(2)
    os.environ.setdefault("WANDB_MODE", "offline")
    _main()


if __name__ == "__main__":
    entry()
