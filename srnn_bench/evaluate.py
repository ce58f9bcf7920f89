"""Evaluate a run directory's checkpoint on its test set, without touching its training record.

    python -m srnn_bench.evaluate RUN_DIR [key=value ...] [--checkpoint last|best|prev] [--out DIR]

``RUN_DIR`` is any directory :func:`srnn_bench.run.run` or ``python -m srnn_bench.zoo import`` wrote
(``config.yaml`` + ``checkpoints/``). Its saved config is used as it is, except for the keys a user may
change for an evaluation: ``dataset.*``, ``paths.*``, ``trainer.dtype``, ``trainer.eval_batch_size``,
``trainer.device``, ``trainer.num_threads``, ``trainer.num_workers``, ``trainer.progress`` and
``neuron.backend``. Only the test split is read (:func:`srnn_bench.data.build_data` ``test_only``: e.g. the
MNIST loader needs just ``MNIST/raw/t10k-*``). The evaluation is the trainer's own
(:meth:`srnn_bench.training.Trainer.evaluate`: accuracy, any-time accuracy, confusion matrix, per-layer
firing rate, SOP/AC/MAC, energy: the definitions of :mod:`srnn_bench.metrics`).

Writes ``RUN_DIR/eval/`` (or ``--out``): ``metrics.json`` (the metrics, plus which checkpoint, dtype,
device, backend, overrides), ``test_confusion.json`` / ``.csv``, ``config.yaml`` (the evaluation's
config) and ``env.json``. ``config.yaml``, ``metrics.json`` and ``metrics.jsonl`` of the run stay as they
are. Bad input stops with one line (exit status 2).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
import yaml
from omegaconf import OmegaConf

from .utils import layout
from .utils.checks import check_choice

log = logging.getLogger(__name__)

EVAL_DIR = layout.EVAL
OVERRIDABLE = ("dataset.", "paths.")
OVERRIDABLE_KEYS = (
    "trainer.dtype",
    "trainer.eval_batch_size",
    "trainer.device",
    "trainer.num_threads",
    "trainer.num_workers",
    "trainer.progress",
    "neuron.backend",
)
CHECKPOINTS = tuple(n.removesuffix(".pt") for n in (layout.LAST, layout.BEST, layout.PREV))


def _numpy_globals() -> list:
    """What our checkpoints hold besides tensors and containers: numpy's RNG state (an uint32 array)."""
    import numpy as np

    core = getattr(np, "_core", None) or np.core
    out = [np.ndarray, np.dtype, (core.multiarray._reconstruct, "numpy.core.multiarray._reconstruct"),
           (core.multiarray._reconstruct, "numpy._core.multiarray._reconstruct")]
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        out += [getattr(dtypes, n) for n in ("UInt32DType", "Int64DType", "Float64DType") if hasattr(dtypes, n)]
    return out


def read_model_state(path: Path) -> tuple[dict, dict]:
    """``(model state_dict, {epoch, format})`` of an srnn_bench checkpoint, read with torch's weights-only
    unpickler (tensors, containers and numpy's RNG state only: a run directory may come from elsewhere)."""
    try:
        with torch.serialization.safe_globals(_numpy_globals()):
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - unreadable or refused: one line
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"{path}: unreadable or refused checkpoint ({type(e).__name__}: {first})") from None
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict):
        raise ValueError(f"{path}: not a srnn_bench checkpoint (no 'model' state_dict)")  # noqa: TRY004 - one-line input error
    return ckpt["model"], {"epoch": ckpt.get("epoch"), "format": ckpt.get("format")}


def _allowed(key: str) -> bool:
    return key.startswith(OVERRIDABLE) or key in OVERRIDABLE_KEYS


def apply_overrides(cfg, overrides: list[str]):
    """The saved config with ``key=value`` overrides of the evaluation keys (values parsed as YAML)."""
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override '{item}': expected key=value (e.g. trainer.dtype=float64)")
        key, value = item.split("=", 1)
        if not _allowed(key):
            raise ValueError(
                f"{key} cannot be changed for an evaluation; valid: dataset.*, paths.*, {', '.join(OVERRIDABLE_KEYS)}"
            )
        if OmegaConf.select(cfg, key, default="<absent>") == "<absent>":
            parent = key.rpartition(".")[0]
            node = OmegaConf.select(cfg, parent, default=None)
            valid = ", ".join(sorted(str(k) for k in node)) if OmegaConf.is_dict(node) else ""
            raise ValueError(f"unknown key '{key}' in the run's config; valid keys of {parent}: {valid}")
        OmegaConf.update(cfg, key, yaml.safe_load(value) if value else value, merge=False)
    return cfg


def evaluate_run(run_dir: str | Path, overrides: list[str] | None = None, checkpoint: str = "last",
                 out: str | Path | None = None) -> dict:
    """Evaluate ``run_dir``'s checkpoint on its test set; writes and returns ``<out>/metrics.json``."""
    from .config_validation import validate_against_data, validate_config
    from .data import build_data
    from .encoders import build_encoder
    from .models import build_model
    from .surrogates import build_surrogate
    from .training import Trainer, TrainerConfig
    from .training.trainer import resolve_device, resolve_dtype, seed_everything
    from .utils.io import atomic_write_text, environment, git_info, write_json

    t0 = time.perf_counter()
    run_dir = Path(run_dir).expanduser()
    saved = run_dir / layout.CONFIG
    if not saved.is_file():
        raise ValueError(f"{run_dir}: no config.yaml there (not a run directory); give a directory a run or a zoo import wrote")
    check_choice("--checkpoint", checkpoint, CHECKPOINTS)
    ckpt_path = layout.checkpoint(run_dir, f"{checkpoint}.pt")
    if not ckpt_path.is_file():
        raise ValueError(f"{run_dir}: no checkpoints/{checkpoint}.pt; nothing to evaluate")
    cfg = apply_overrides(OmegaConf.load(saved), list(overrides or []))
    validate_config(cfg)
    tr = TrainerConfig.from_node(cfg.trainer)  # a key the saved config lacks: configs/trainer/default.yaml
    dtype = resolve_dtype(tr.dtype)
    if tr.num_threads:
        torch.set_num_threads(tr.num_threads)
    device = resolve_device(tr.device)
    state, info = read_model_state(ckpt_path)

    data = build_data(cfg.dataset, str(cfg.paths.data_dir), test_only=True)
    validate_against_data(cfg, data)
    encoder = build_encoder(cfg.encoder, binary_input=data.binary_input)
    model = build_model(cfg.model, encoder.out_features(data.n_inputs), data.n_classes, cfg.neuron, build_surrogate(cfg.surrogate))
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise ValueError(f"{ckpt_path} does not fit the model of {saved} ({' '.join(str(e).split())[:400]})") from None
    model.to(dtype)
    out_dir = Path(out).expanduser() if out is not None else run_dir / EVAL_DIR
    trainer = Trainer(model, encoder, data, None, None, tr, out_dir, device, None)
    seed_everything(tr.seed)  # random initial states (u0 options) as in training's evaluations
    metrics = trainer.evaluate(data.test, "test")
    summary = {
        **metrics,
        "run_dir": str(run_dir),
        "checkpoint": str(ckpt_path),
        "checkpoint_epoch": info["epoch"],
        "experiment": cfg.get("experiment_name"),
        "dataset": cfg.dataset.name,
        "n_test": len(data.test),
        "dtype": tr.dtype,
        "device": str(device),
        "backend": cfg.neuron.get("backend"),
        "overrides": list(overrides or []),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "eval_time_s": time.perf_counter() - t0,
    }
    atomic_write_text(out_dir / layout.CONFIG, OmegaConf.to_yaml(cfg, resolve=True))
    write_json(out_dir / layout.ENV, {"git": git_info(), **environment()})
    write_json(out_dir / layout.METRICS, summary)
    return summary


def format_summary(m: dict) -> str:
    parts = [f"test_acc {m['test_acc']:.4%}"]
    for key in ("test_acc_class0", "test_acc_masked"):
        if isinstance(m.get(key), float):
            parts.append(f"{key} {m[key]:.4%}")
    parts += [f"firing rate {m.get('firing_rate', float('nan')):.4f}", f"SOP/sample {m.get('sop_per_sample', float('nan')):.4g}",
              f"energy/step {m.get('energy_per_step_pj', float('nan')):.4g} pJ", f"{m['n_test']} test samples",
              f"{m['dtype']}", f"{m['eval_time_s']:.1f} s"]
    return " | ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m srnn_bench.evaluate", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("overrides", nargs="*", help="key=value: dataset.*, paths.*, trainer.dtype, ... (see above)")
    ap.add_argument("--checkpoint", default="last", help="last (default) | best | prev")
    ap.add_argument("--out", type=Path, help="write here instead of RUN_DIR/eval")
    args, extra = ap.parse_known_args(argv)  # key=value overrides may follow the options too
    bad = [a for a in extra if a.startswith("-") or "=" not in a]
    if bad:
        ap.error(f"unrecognized arguments: {' '.join(bad)}")
    args.overrides = [*args.overrides, *extra]
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from .data import DataError

    try:
        m = evaluate_run(args.run_dir, args.overrides, args.checkpoint, args.out)
    except (ValueError, DataError, FileNotFoundError, KeyError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"srnn_bench.evaluate: error: {msg}", file=sys.stderr)
        return 2
    print(format_summary(m))
    print(f"-> {Path(args.out or args.run_dir / EVAL_DIR) / layout.METRICS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
