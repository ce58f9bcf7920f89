"""``run(cfg)``: build everything from a composed config, train, and write the run directory.

Run directory contents (Hydra's output dir, or ``paths.run_dir``):

    config.yaml        the resolved config
    env.json           git commit (+ dirty flag), package versions, platform, device
    metrics.jsonl      one line per epoch
    metrics.json       the final summary (see README, "What a run writes")
    checkpoints/       last.pt (every epoch) and best.pt (best validation accuracy)
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from .data import build_data
from .encoders import build_encoder
from .models import build_model
from .surrogates import build_surrogate
from .training import Trainer, TrainerConfig
from .training.loggers import build_logger
from .training.optim import build_optimizer, build_scheduler
from .training.trainer import resolve_device, seed_everything
from .utils.io import atomic_write_text, environment, git_info, write_json

log = logging.getLogger(__name__)


def run_dir_of(cfg: DictConfig) -> Path:
    """Hydra's output directory when launched through Hydra, else ``paths.run_dir``."""
    try:
        from hydra.core.hydra_config import HydraConfig

        return Path(HydraConfig.get().runtime.output_dir)
    except ValueError:  # not under @hydra.main
        return Path(cfg.paths.run_dir)


def run(cfg: DictConfig) -> dict:
    """Train and evaluate one configuration; returns the final metrics (also in ``metrics.json``)."""
    t0 = time.perf_counter()
    tr = cfg.trainer
    if tr.get("num_threads"):
        torch.set_num_threads(int(tr.num_threads))
    run_dir = run_dir_of(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    container = OmegaConf.to_container(cfg, resolve=True)
    atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    write_json(run_dir / "env.json", {"git": git_info(), **environment()})

    seed_everything(int(tr.seed))
    data = build_data(cfg.dataset, cfg.paths.data_dir)
    encoder = build_encoder(cfg.encoder, binary_input=data.binary_input)
    surrogate = build_surrogate(cfg.surrogate)
    seed_everything(int(tr.seed))  # model init independent of how much randomness the data used
    model = build_model(cfg.model, encoder.out_features(data.n_inputs), data.n_classes, cfg.neuron, surrogate)
    device = resolve_device(str(tr.device))
    optimizer = build_optimizer(model, cfg.optimizer, float(tr.lr))
    scheduler = build_scheduler(optimizer, cfg.scheduler, int(tr.epochs))
    logger = build_logger(cfg.logger, run_dir, container)
    trainer = Trainer(
        model,
        encoder,
        data,
        optimizer,
        scheduler,
        TrainerConfig(
            epochs=int(tr.epochs),
            batch_size=int(tr.batch_size),
            eval_batch_size=int(tr.get("eval_batch_size", 256)),
            loss=str(tr.loss),
            skip_steps=int(tr.get("skip_steps", 0)),
            grad_clip=tr.get("grad_clip"),
            seed=int(tr.seed),
            progress=bool(tr.get("progress", True)),
        ),
        run_dir,
        device,
        logger,
    )
    n_params = sum(p.numel() for p in model.parameters())
    resumed = trainer.maybe_resume()
    log.info(
        "%s: %s on %s (%d train / %d test, T=%d, %d inputs), %d parameters, device %s%s",
        cfg.get("experiment_name", "run"),
        cfg.model.name,
        cfg.dataset.name,
        len(data.train),
        len(data.test),
        encoder.out_steps(data.n_steps),
        encoder.out_features(data.n_inputs),
        n_params,
        device,
        f", resumed at epoch {trainer.start_epoch}" if resumed else "",
    )
    try:
        final = trainer.fit()
    finally:
        logger.finish()
    summary = {
        **final,
        "experiment": cfg.get("experiment_name"),
        "dataset": cfg.dataset.name,
        "neuron": cfg.neuron.name,
        "surrogate": cfg.surrogate.name,
        "encoder": cfg.encoder.name,
        "seed": int(tr.seed),
        "epochs": len(trainer.history),
        "n_params": n_params,
        "best_epoch": trainer.best.get("epoch"),
        "best_val_acc": trainer.best.get("val_acc"),
        "test_acc_at_best_val": trainer.best.get("test_acc"),
        "wall_time_s": final.get("wall_time_s", time.perf_counter() - t0),
        "run_dir": str(run_dir),
    }
    write_json(run_dir / "metrics.json", summary)
    log.info(
        "done: test_acc %.4f (best val epoch %s), firing rate %.4f, %.1f s -> %s",
        summary.get("test_acc", float("nan")),
        summary["best_epoch"],
        summary.get("firing_rate", float("nan")),
        summary["wall_time_s"],
        run_dir / "metrics.json",
    )
    return summary
