"""Every optimizer / scheduler / logger choice builds from its config and works in a real run."""

import csv

import pytest
import torch
from conftest import CONFIG_DIR, compose

from srnn_bench.run import run
from srnn_bench.training.optim import build_optimizer, build_scheduler

OPTIMIZERS = sorted(p.stem for p in (CONFIG_DIR / "optimizer").glob("*.yaml"))
SCHEDULERS = sorted(p.stem for p in (CONFIG_DIR / "scheduler").glob("*.yaml"))


@pytest.mark.parametrize("opt", OPTIMIZERS)
@pytest.mark.parametrize("sched", SCHEDULERS)
def test_optimizer_and_schedule_step(opt, sched):
    cfg = compose([f"optimizer={opt}", f"scheduler={sched}", "optimizer.tau_lr_mult=3.0"])
    model = torch.nn.Linear(3, 2)
    model.tau_m = torch.nn.Parameter(torch.ones(2))  # a time constant: its own learning rate
    optimizer = build_optimizer(model, cfg.optimizer, lr=0.01)
    assert [g["name"] for g in optimizer.param_groups] == ["weights", "time_constants"]
    assert optimizer.param_groups[1]["lr"] == pytest.approx(0.03)
    scheduler = build_scheduler(optimizer, cfg.scheduler, epochs=10)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    if scheduler is not None:
        scheduler.step(1.0) if sched == "plateau" else scheduler.step()
    lr = optimizer.param_groups[0]["lr"]
    expected = {"none": 0.01, "step": 0.01, "plateau": 0.01, "linear": 0.01 * 0.9}
    if sched in expected:
        assert lr == pytest.approx(expected[sched])
    else:  # cosine: strictly between eta_min and the initial rate after one of ten epochs
        assert 0.0 < lr < 0.01


def test_linear_schedule_reaches_zero():
    cfg = compose(["scheduler=linear"])
    optimizer = build_optimizer(torch.nn.Linear(2, 2), cfg.optimizer, lr=0.02)
    scheduler = build_scheduler(optimizer, cfg.scheduler, epochs=4)
    lrs = []
    for _ in range(4):
        optimizer.step()
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    assert lrs == pytest.approx([0.015, 0.01, 0.005, 0.0])


SMALL = ["trainer.epochs=2", "dataset.limit_train=64", "dataset.limit_test=32", "model.hidden=[8]", "trainer.batch_size=32"]


def test_csv_logger_rows(run_cfg, tmp_path):
    run(run_cfg(["logger=csv", *SMALL]))
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"] and "test_acc" in rows[0]


def test_wandb_logger_offline(run_cfg, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    metrics = run(run_cfg(["logger=wandb", *SMALL]))
    assert metrics["epochs"] == 2
    offline = list((tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert offline, "wandb wrote no offline run directory"


def test_num_workers_gives_the_same_run(run_cfg, tmp_path):
    """DataLoader workers change where items are built, not which: identical metrics with 0 and 2 workers."""
    a = run(run_cfg([*SMALL, "trainer.num_workers=0", f"paths.run_dir={tmp_path / 'w0'}"]))
    b = run(run_cfg([*SMALL, "trainer.num_workers=2", f"paths.run_dir={tmp_path / 'w2'}"]))
    for key in ("train_loss", "test_acc", "test_loss", "firing_rate"):
        assert a[key] == b[key], key
