"""``run(cfg)``: build everything from a composed config, train, and write the run directory.

The run directory (Hydra's output dir, or ``paths.run_dir``) gets ``config.yaml``, ``env.json``,
``metrics.jsonl`` (by the trainer), ``metrics.json`` (last: the run finished) and ``checkpoints/``
(``last.pt``, ``prev.pt``, ``best.pt``, ``init.pt``); every name and what the file holds is in
:mod:`srnn_bench.utils.layout`, the table for users in README, "Using it".

Re-running in a directory that holds a checkpoint continues from it (``hydra.run.dir=DIR`` with the
same command, or ``resume=DIR`` with the saved config); see README, "Reliability".
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from .config_schema import apply_schema
from .config_validation import validate_against_data, validate_config
from .data import build_data
from .encoders import build_encoder
from .models import build_model
from .surrogates import build_surrogate
from .training import Trainer, TrainerConfig
from .training.loggers import build_logger
from .training.optim import build_optimizer, build_scheduler
from .training.trainer import resolve_device, resolve_dtype, seed_everything
from .utils import layout
from .utils.io import atomic_write_text, directory_problem, environment, git_info, write_json
from .utils.runs import flat_config

log = logging.getLogger(__name__)


RUNTIME_KEYS = ("trainer.device", "trainer.progress", "trainer.num_threads", "trainer.num_workers", "paths", "resume")
"""Settings that may differ between the sessions of one run (they do not change its results)."""
EXTENDABLE_KEYS = ("trainer.epochs",)
"""Settings a resumed run may change when given explicitly (train longer)."""


class RunDirConflict(ValueError):
    """The run directory holds another run's results: refused before anything is written there
    (``__main__`` writes no ``error.txt`` into it either)."""


def run_dir_of(cfg: DictConfig) -> Path:
    """``resume`` when set, else Hydra's output directory when launched through Hydra, else ``paths.run_dir``."""
    if cfg.get("resume"):
        return Path(str(cfg.resume)).expanduser()
    try:
        from hydra.core.hydra_config import HydraConfig

        return Path(HydraConfig.get().runtime.output_dir)
    except ValueError:  # not under @hydra.main
        return Path(cfg.paths.run_dir)


def run(cfg: DictConfig) -> dict:
    """Train and evaluate one configuration; returns the final metrics (also in ``metrics.json``)."""
    t0 = time.perf_counter()
    if cfg.get("resume"):
        cfg = resumed_config(cfg)
    else:
        apply_schema(cfg)  # typed schema (srnn_bench/config_schema.py): convert or refuse every key
    validate_config(cfg)
    tr = TrainerConfig.from_node(cfg.trainer)  # every trainer default: configs/trainer/default.yaml
    dtype = resolve_dtype(tr.dtype)  # before any work: one line for a bad value
    if tr.num_threads:
        torch.set_num_threads(tr.num_threads)
    run_dir = run_dir_of(cfg)
    check_same_run(cfg, run_dir)
    dirs = (("run directory", run_dir, True), ("paths.data_dir", Path(str(cfg.paths.data_dir)), False))
    for what, path, writable in dirs:
        problem = directory_problem(path, writable)
        if problem:
            raise ValueError(f"{what} {path}: cannot use it as a directory ({problem})")
    run_dir.mkdir(parents=True, exist_ok=True)
    stale = run_dir / layout.ERROR
    if stale.exists():  # a failed earlier session of this run: keep it, but not as this run's status
        stale.replace(run_dir / layout.PREVIOUS_ERROR)
    container = OmegaConf.to_container(cfg, resolve=True)
    atomic_write_text(run_dir / layout.CONFIG, OmegaConf.to_yaml(cfg, resolve=True))
    write_json(run_dir / layout.ENV, {"git": git_info(), **environment()})

    seed_everything(tr.seed)
    data = build_data(cfg.dataset, cfg.paths.data_dir)
    encoder = build_encoder(cfg.encoder, binary_input=data.binary_input)
    validate_against_data(cfg, data, encoder)
    surrogate = build_surrogate(cfg.surrogate)
    seed_everything(tr.seed)  # model init independent of how much randomness the data used
    model = build_model(cfg.model, encoder.out_features(data.n_inputs), data.n_classes, cfg.neuron, surrogate)
    model.to(dtype)  # trainer.dtype, before the optimiser sees the parameters
    device = resolve_device(tr.device)
    optimizer = build_optimizer(model, cfg.optimizer, tr.lr)
    scheduler = build_scheduler(optimizer, cfg.scheduler, tr.epochs)
    logger = build_logger(cfg.logger, run_dir, container)
    trainer = Trainer(
        model,
        encoder,
        data,
        optimizer,
        scheduler,
        tr,
        run_dir,
        device,
        logger,
    )
    n_params = sum(p.numel() for p in model.parameters())
    resumed = trainer.maybe_resume()
    log.info(
        "%s: %s on %s (%d train / %d test, T=%d, %d inputs), %d parameters, device %s%s",
        cfg.get("run_name") or cfg.get("experiment_name", "run"),
        cfg.model.name,
        cfg.dataset.name,
        len(data.train),
        len(data.test),
        encoder.out_steps(data.n_steps),
        encoder.out_features(data.n_inputs),
        n_params,
        device,
        f", resumed from {trainer.resumed_from} at epoch {trainer.start_epoch}"
        + (f" step {trainer.resume_progress.step}" if trainer.resume_progress else "")
        if resumed
        else "",
    )
    try:
        final = trainer.fit()
    finally:
        logger.finish()
    summary = {
        **final,
        "experiment": cfg.get("run_name") or cfg.get("experiment_name"),  # what the run is (utils/runs.py run_name)
        "experiment_name": cfg.get("experiment_name"),
        "dataset": cfg.dataset.name,
        "neuron": cfg.neuron.name,
        "surrogate": cfg.surrogate.name,
        "encoder": cfg.encoder.name,
        "seed": tr.seed,
        "epochs": len(trainer.history),
        "skipped_batches_total": sum(int(m.get("skipped_batches", 0)) for m in trainer.history),
        "n_params": n_params,
        "best_epoch": trainer.best.get("epoch"),
        "best_val_acc": trainer.best.get("val_acc"),
        "test_acc_at_best_val": trainer.best.get("test_acc"),
        "wall_time_s": final.get("wall_time_s", time.perf_counter() - t0),
        "run_dir": str(run_dir),
    }
    write_json(run_dir / layout.METRICS, summary)
    log.info(
        "done: test_acc %.4f (best val epoch %s), firing rate %.4f, %.1f s -> %s",
        summary.get("test_acc", float("nan")),
        summary["best_epoch"],
        summary.get("firing_rate", float("nan")),
        summary["wall_time_s"],
        run_dir / layout.METRICS,
    )
    return summary


def _runtime(key: str) -> bool:
    return any(key == r or key.startswith(r + ".") for r in RUNTIME_KEYS)


def config_differences(old: dict, new: dict, ignore=()) -> list[str]:
    """``key: old -> new`` for every setting that differs (runtime keys and ``ignore`` excluded)."""
    a, b = flat_config(old), flat_config(new)
    return [
        f"{k}: {a.get(k, '<absent>')!r} -> {b.get(k, '<absent>')!r}"
        for k in sorted(set(a) | set(b))
        if a.get(k, "<absent>") != b.get(k, "<absent>") and not _runtime(k) and k not in ignore
    ]


def _holds_results(run_dir: Path) -> bool:
    return layout.has_checkpoint(run_dir) or any((run_dir / n).is_file() for n in (layout.METRICS, layout.HISTORY))


def check_same_run(cfg: DictConfig, run_dir: Path, explicit_overrides: list[str] | None = None) -> None:
    """A directory holding a checkpoint or results is only continued with the config that wrote it
    (runtime keys and ``trainer.epochs`` aside): a different config must not mix its results into it.
    Raises :class:`RunDirConflict` (nothing is written). ``explicit_overrides``: the command line's
    (default: Hydra's record of this session's)."""
    saved = run_dir / layout.CONFIG
    if not _holds_results(run_dir):
        return
    if not saved.is_file():
        raise RunDirConflict(f"{run_dir} holds results but no config.yaml; use a new run directory")
    old = _load_saved(saved)
    new = OmegaConf.to_container(cfg, resolve=True)
    # keys a newer srnn_bench added (absent from the saved config) keep their default unless given
    # explicitly: a new key's default reproduces the old behaviour, so the old run can go on
    given = _explicit_overrides() if explicit_overrides is None else explicit_overrides
    explicit = {o.split("=", 1)[0].lstrip("+~") for o in given if "=" in o}
    added = {k for k in set(flat_config(new)) - set(flat_config(old)) if not any(k == e or k.startswith(e + ".") for e in explicit)}
    diff = config_differences(old, new, ignore=(*EXTENDABLE_KEYS, *added))
    if diff:
        raise RunDirConflict(
            f"{run_dir} holds a checkpoint of a different config ({'; '.join(diff[:3])}{'; ...' if len(diff) > 3 else ''}); "
            f"use a new run directory, or resume={run_dir} to continue it with its saved config"
        )
    _check_epochs(run_dir, int(new["trainer"]["epochs"]))
    if old.get("trainer", {}).get("epochs") != new["trainer"]["epochs"]:
        log.warning("trainer.epochs changed %s -> %s on resume (linear/cosine schedules depend on it)",
                    old.get("trainer", {}).get("epochs"), new["trainer"]["epochs"])


def _load_saved(saved: Path) -> dict:
    """A run directory's ``config.yaml`` as a dict, or one line naming the file."""
    try:
        old = OmegaConf.to_container(OmegaConf.load(saved), resolve=False)
    except Exception as e:  # noqa: BLE001 - broken YAML: one line naming the file
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise ValueError(f"{saved}: not a readable config ({type(e).__name__}: {first})") from None
    if not isinstance(old, dict):
        raise ValueError(f"{saved}: not a config (a YAML mapping of config groups), got {type(old).__name__}")
    return old


def _check_epochs(run_dir: Path, epochs: int) -> None:
    """``trainer.epochs`` may grow on resume, never below the epochs the run has already done."""
    hist = run_dir / "metrics.jsonl"
    done = sum(1 for line in hist.read_text().splitlines() if line.strip()) if hist.is_file() else 0
    if epochs < done:
        raise RunDirConflict(f"{run_dir} has done {done} epochs; trainer.epochs={epochs} cannot shorten it "
                             f"(give trainer.epochs >= {done}, or use a new run directory)")


def _explicit_overrides() -> list[str]:
    try:
        from hydra.core.hydra_config import HydraConfig

        return list(HydraConfig.get().overrides.task)
    except ValueError:  # not under @hydra.main
        return []


def check_resume_dir(run_dir: Path) -> None:
    """The one check of ``resume=DIR``: a run directory (``config.yaml``) with a checkpoint. Used by
    :func:`resumed_config` and, before Hydra creates anything, by ``python -m srnn_bench``."""
    if not (run_dir / layout.CONFIG).is_file():
        raise ValueError(f"resume={run_dir}: no {layout.CONFIG} there (not a run directory); give the directory a run wrote")
    if not layout.has_checkpoint(run_dir):
        raise ValueError(f"resume={run_dir}: no checkpoint in {run_dir / layout.CHECKPOINTS}; nothing to resume "
                         "(start a new run)")


def resumed_config(cfg: DictConfig) -> DictConfig:
    """``resume=DIR``: the config saved in ``DIR/config.yaml``, with this session's runtime settings
    (device, threads, progress bar, paths) and, when given explicitly, a new ``trainer.epochs``."""
    run_dir = Path(str(cfg.resume)).expanduser()
    check_resume_dir(run_dir)
    saved = run_dir / layout.CONFIG
    old = OmegaConf.create(_load_saved(saved))
    for group in ("dataset", "model", "neuron", "trainer", "encoder", "surrogate", "optimizer", "scheduler"):
        if not isinstance(old.get(group), DictConfig):
            raise ValueError(f"{saved}: lacks the config group '{group}'; not a config this srnn_bench wrote")
    explicit = {o.split("=", 1)[0].lstrip("+~") for o in _explicit_overrides() if "=" in o}
    new = OmegaConf.to_container(cfg, resolve=True)
    changed = [k for k in explicit if not _runtime(k) and k not in EXTENDABLE_KEYS and not k.startswith("hydra")]
    diff = [d for d in config_differences(OmegaConf.to_container(old), new) if d.split(":", 1)[0] in changed]
    if diff:
        raise ValueError(f"resume={run_dir} continues the saved config; cannot change {diff[0]} (start a new run instead)")
    merged = OmegaConf.create(OmegaConf.to_container(old))
    for key in RUNTIME_KEYS:
        v = OmegaConf.select(cfg, key)
        if v is not None:
            OmegaConf.update(merged, key, v, merge=False, force_add=True)
    if "trainer.epochs" in explicit:
        _check_epochs(run_dir, int(cfg.trainer.epochs))
        merged.trainer.epochs = int(cfg.trainer.epochs)
    try:
        filled = apply_schema(merged, fill_missing=True)  # a key added since the run was written: its default
    except ValueError as e:
        raise ValueError(f"{saved}: {e}") from None
    if filled:
        log.warning("%s lacks %s (added since): their defaults are used", saved, ", ".join(filled))
    return merged
