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

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
GROUPS = sorted(p.name for p in CONFIG_DIR.iterdir() if p.is_dir()) if CONFIG_DIR.is_dir() else []

log = logging.getLogger("srnn_bench")


def choices(group: str) -> list[str]:
    """The available options of a config group (file names under ``configs/<group>/``, sub-folders
    included: ``experiment=yin2021/ecg_0_8589``)."""
    root = CONFIG_DIR / group
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.yaml"))


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


_ABSENT = object()


def check_key_overrides(argv: list[str]) -> str | None:
    """Return a one-line error for the first ``key=value`` whose key is not in the composed config.

    Composes the config with the group choices of ``argv`` (first value of a sweep) and looks each
    plain key up; ``+key=`` (add), ``~key`` (delete) and ``hydra.*`` are left to Hydra.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    args = [a for a in argv if not a.startswith("-") and "=" in a]
    if not args:
        return None
    try:
        parsed = OverridesParser.create().parse_overrides(args)
    except Exception as e:  # noqa: BLE001 - Hydra's parser error, made one line
        return f"cannot parse the command line: {str(e).strip().splitlines()[0]}"
    groups, keys = [], []
    for o in parsed:
        key = o.key_or_group
        if key.startswith("hydra") or o.is_delete():
            continue
        if key.split("@")[0] in GROUPS or "/" in key:
            value = next(iter(o.sweep_string_iterator())) if o.is_sweep_override() else o.get_value_element_as_str()
            groups.append(f"{'+' if o.is_add() else ''}{key}={value}")
        elif not o.is_add():
            keys.append(key)
    if not keys:
        return None
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
            cfg = compose(config_name="config", overrides=groups)
    except Exception:  # noqa: BLE001 - let Hydra report composition problems itself
        return None
    for key in keys:
        if OmegaConf.select(cfg, key, default=_ABSENT, throw_on_missing=False) is not _ABSENT:
            continue
        parent, _, leaf = key.rpartition(".")
        node = OmegaConf.select(cfg, parent, default=None) if parent else cfg
        while parent and node is None:
            parent, _, _ = parent.rpartition(".")
            node = OmegaConf.select(cfg, parent, default=None) if parent else cfg
        where = f"keys of {parent}" if parent else "top-level keys"
        valid = ", ".join(sorted(str(k) for k in node.keys())) if OmegaConf.is_dict(node) else ""
        return f"unknown key '{key}'; valid {where}: {valid} (to add a new key write +{key}=...)"
    return None


def check_resume(argv: list[str]) -> str | None:
    """``resume=DIR`` must name a run directory with a checkpoint (checked before Hydra creates anything)."""
    resume = [a.split("=", 1)[1] for a in argv if a.startswith("resume=")]
    if not resume or resume[-1] in ("", "null"):
        return None
    run_dir = Path(resume[-1]).expanduser()
    if not (run_dir / "config.yaml").is_file():
        return f"resume={run_dir}: no config.yaml there (not a run directory); give the directory a run wrote"
    if not any((run_dir / "checkpoints" / n).exists() for n in ("last.pt", "next.pt", "prev.pt")):
        return f"resume={run_dir}: no checkpoint in {run_dir / 'checkpoints'}; nothing to resume (start a new run)"
    return None


def resume_overrides(argv: list[str]) -> list[str]:
    """``resume=DIR`` without ``hydra.run.dir``: run Hydra in DIR too (its files in ``DIR/.hydra_resume``)."""
    resume = [a.split("=", 1)[1] for a in argv if a.startswith("resume=")]
    if not resume or not resume[-1] or resume[-1] == "null" or any(a.startswith("hydra.run.dir=") for a in argv):
        return []
    return [f"hydra.run.dir={resume[-1]}", "hydra.output_subdir=.hydra_resume"]


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
        from .utils.io import atomic_write_text

        hc = HydraConfig.get()
        multirun = hc.mode == RunMode.MULTIRUN
        if multirun and "joblib" in str(hc.launcher.get("_target_", "")).lower() and not cfg.trainer.get("num_threads"):
            import torch

            torch.set_num_threads(1)  # parallel jobs: one thread each (set trainer.num_threads to change)
        expected = (ValueError, DataError, NonFiniteLossError, FileNotFoundError, KeyError)
        try:
            metrics = run(cfg)
        except Exception as e:
            if not (multirun or isinstance(e, expected)):
                raise  # a bug: show the full traceback
            msg = str(e) if isinstance(e, (ValueError, DataError)) else f"{type(e).__name__}: {e}"
            msg = msg.strip().splitlines()[0] if msg.strip() else type(e).__name__
            try:
                run_dir = run_dir_of(cfg)
            except Exception:  # noqa: BLE001 - e.g. resume=DIR that is not a path
                run_dir = Path(hc.runtime.output_dir)
            run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(run_dir / "error.txt", msg + "\n\n" + traceback.format_exc())
            log.error("error: %s", msg)
            if multirun:
                return float("nan")
            sys.exit(2)
        value = metrics.get(cfg.get("optimized_metric", "test_acc"))
        return float(value) if isinstance(value, (int, float)) else None

    main()


def entry() -> None:
    argv = sys.argv[1:]
    err = check_group_overrides(argv) or check_resume(argv) or check_key_overrides(argv)
    if err:
        print(f"srnn_bench: error: {err}", file=sys.stderr)
        sys.exit(2)
    sys.argv += resume_overrides(argv)
    os.environ.setdefault("WANDB_MODE", "offline")
    from .utils.runs import register_resolvers

    register_resolvers()
    _main()


if __name__ == "__main__":
    entry()
