"""Loggers after a resume (README, "Reliability"): the CSV log holds each epoch exactly once and equals
metrics.jsonl, even when the killed session had logged an epoch that its checkpoints do not hold."""

from __future__ import annotations

import csv
import json

from test_resume import cli_args, make_npz, run_and_kill


def _expected_cell(v) -> str:
    return str(v) if isinstance(v, (int, float)) else ""


def test_csv_log_after_resume_has_each_epoch_once_and_equals_jsonl(tmp_path):
    npz = make_npz(tmp_path / "toy.npz")
    run_dir = tmp_path / "killed"
    args = cli_args(npz, run_dir, "logger=csv")
    # 5 steps per epoch, checkpoints every 2 steps: killed after step 6 (epoch 2, step 1), when last.pt is the
    # end of epoch 1 and prev.pt epoch 1 step 4, and metrics.csv already has the row of epoch 1.
    run_and_kill(args, tmp_path, run_dir, hang=6, want=(1, 0))
    with open(run_dir / "metrics.csv", newline="") as f:
        before = list(csv.DictReader(f))
    assert [r["epoch"] for r in before] == ["1"]
    # a damaged last.pt: the resume falls back to prev.pt and redoes the end of epoch 1
    (run_dir / "checkpoints" / "last.pt").write_bytes(b"truncated")
    # the same command again resumes (in this process: saves a process start-up)
    from conftest import compose

    from srnn_bench.run import run

    run(compose(cli_args(npz, None, "logger=csv", f"paths.run_dir={run_dir}", f"paths.data_dir={tmp_path / 'data'}")))

    jsonl = [json.loads(s) for s in (run_dir / "metrics.jsonl").read_text().splitlines()]
    with open(run_dir / "metrics.csv", newline="") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    assert [r["epoch"] for r in rows] == ["1", "2"]  # each epoch exactly once (the old code: 1, 1, 2)
    assert [m["epoch"] for m in jsonl] == [1, 2]
    assert "train_loss" in header and "test_acc" in header and "lr" in header
    for row, m in zip(rows, jsonl):
        assert row == {k: _expected_cell(m.get(k)) for k in header}


def test_wandb_sessions_of_one_run_dir_share_the_run_id(tmp_path, monkeypatch):
    from omegaconf import OmegaConf

    from srnn_bench.training.loggers import WandbLogger

    monkeypatch.setenv("WANDB_MODE", "offline")
    cfg = OmegaConf.create({"name": "wandb", "project": "srnn_bench_test", "mode": "offline"})
    a = WandbLogger(tmp_path, cfg, {})
    a.log({"loss": 1.0}, step=1)
    a.finish()
    b = WandbLogger(tmp_path, cfg, {})
    b.log({"loss": 0.5}, step=1)  # a redone epoch: same explicit step
    b.finish()
    assert a.run_id == b.run_id == (tmp_path / "wandb_run_id").read_text().strip()
    runs = sorted((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 2 and all(r.name.endswith(a.run_id) for r in runs)
