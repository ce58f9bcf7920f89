"""Reliability (issue #7): non-finite loss/gradients, corrupt checkpoints, data faults on the generic
paths (npz, MNIST-1D cache, checksums), sweeps with a failing job, unique run directories."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT
from test_resume import make_npz, strip

from srnn_bench.data import DataError
from srnn_bench.run import run
from srnn_bench.training import NonFiniteLossError
from srnn_bench.training.trainer import CheckpointError, train_order

SMALL = ["dataset=npz", "encoder.n=4", "model.hidden=[8]", "trainer.batch_size=16", "trainer.num_threads=1"]


# -- non-finite loss / gradients ----------------------------------------------------------------------
@pytest.fixture
def nan_inputs_pass(monkeypatch):
    """NaN inputs reach the trainer (the npz loader refuses them since issue #14: these tests are about a
    loss or gradient that turns non-finite during training, whatever the cause)."""
    import srnn_bench.data.datasets.npz as npz

    monkeypatch.setattr(npz, "check_finite", lambda *a: None)


def test_nonfinite_loss_stops_naming_epoch_step_and_keeps_last_good_checkpoint(run_cfg, tmp_path, nan_inputs_pass):
    # a training sequence with a NaN, at position 50 of epoch 1's fixed data order: batch 4 of 16
    bad = int(train_order(100, 0, 0)[50])
    npz = make_npz(tmp_path / "nan.npz", nan_at=bad)
    step = 50 // 16 + 1
    cfg = run_cfg([*SMALL, f"dataset.path={npz}", "trainer.epochs=2", "trainer.checkpoint_every_steps=1"])
    with pytest.raises(NonFiniteLossError) as e:
        run(cfg)
    msg = str(e.value)
    # the NaN input silences the spikes (H(NaN) = 0), so the loss may stay finite; its gradient does not
    assert re.search(rf"non-finite (loss|gradient norm) \(nan\) at epoch 1, step {step};", msg), msg
    assert "\n" not in msg
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    assert f"the last good checkpoint is {last}" in msg
    ckpt = torch.load(last, weights_only=False)
    assert (ckpt["epoch"], ckpt["step"]) == (0, step - 1)  # the step before the NaN batch
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_nonfinite_skip_counts_skipped_batches(run_cfg, tmp_path, nan_inputs_pass):
    npz = make_npz(tmp_path / "nan.npz", nan_at=37)
    m = run(run_cfg([*SMALL, f"dataset.path={npz}", "trainer.epochs=2", "trainer.on_nonfinite=skip"]))
    hist = [json.loads(s) for s in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [h["skipped_batches"] for h in hist] == [1, 1]  # the NaN sequence is in one batch per epoch
    assert m["skipped_batches_total"] == 2 and np.isfinite(m["train_loss"]) and np.isfinite(m["test_loss"])
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=False)
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())


# -- checkpoints ------------------------------------------------------------------------------------------
def test_corrupt_last_checkpoint_falls_back_to_previous_then_refuses(run_cfg, tmp_path, caplog):
    npz = make_npz(tmp_path / "ok.npz")
    ref_cfg = run_cfg([*SMALL, f"dataset.path={npz}", "trainer.epochs=1", "trainer.checkpoint_every_steps=2",
                       f"paths.run_dir={tmp_path / 'ref'}"])
    ref = run(ref_cfg)
    cfg = run_cfg([*SMALL, f"dataset.path={npz}", "trainer.epochs=1", "trainer.checkpoint_every_steps=2"])
    first = run(cfg)
    ckpts = tmp_path / "run" / "checkpoints"
    prev = torch.load(ckpts / "prev.pt", weights_only=False)
    assert (prev["epoch"], prev["step"]) == (0, 6)  # 100 / 16 -> 7 steps; mid-epoch checkpoints at 2, 4, 6
    data = (ckpts / "last.pt").read_bytes()
    (ckpts / "last.pt").write_bytes(data[: len(data) // 2])  # truncated
    with caplog.at_level(logging.WARNING):
        again = run(cfg)  # resumes from prev.pt (epoch 1, step 6) and redoes the last step
    assert f"{ckpts / 'last.pt'}: unreadable checkpoint" in caplog.text
    assert strip(again) == strip(first) == {**strip(ref)}
    for name in ("last.pt", "prev.pt"):
        (ckpts / name).write_bytes(b"garbage")
    with pytest.raises(CheckpointError) as e:
        run(cfg)  # never a silent restart from scratch
    assert f"no readable checkpoint in {ckpts}" in str(e.value) and "delete" in str(e.value)
    assert "\n" not in str(e.value)


def test_time_based_mid_epoch_checkpoints(run_cfg, tmp_path):
    npz = make_npz(tmp_path / "ok.npz")
    run(run_cfg([*SMALL, f"dataset.path={npz}", "trainer.epochs=1", "trainer.checkpoint_every_min=1e-9"]))
    prev = torch.load(tmp_path / "run" / "checkpoints" / "prev.pt", weights_only=False)
    assert (prev["epoch"], prev["step"]) == (0, 6)  # due after every step; the last mid-epoch one before the end
    assert set(prev["rng"]) >= {"python", "numpy", "torch"} and prev["progress"]["n_batches"] == 6
    assert prev["data_order"] == {"seed": 0, "batch_size": 16, "n_train": 100}


def test_results_without_checkpoint_and_changed_config_are_refused(run_cfg, tmp_path):
    npz = make_npz(tmp_path / "ok.npz")
    cfg = run_cfg([*SMALL, f"dataset.path={npz}", "trainer.epochs=1"])
    run(cfg)
    with pytest.raises(ValueError, match=r"holds a checkpoint of a different config \(trainer.lr: 0.01 -> 0.5\)"):
        run(run_cfg([*SMALL, f"dataset.path={npz}", "trainer.epochs=1", "trainer.lr=0.5"]))
    for p in (tmp_path / "run" / "checkpoints").iterdir():
        p.unlink()
    with pytest.raises(CheckpointError, match="holds results .* but no checkpoint"):
        run(cfg)


# -- data faults on the generic paths ------------------------------------------------------------------------
def test_npz_faults_name_the_file_and_the_fix(tmp_path):
    from srnn_bench.data.datasets.npz import load_npz

    good = make_npz(tmp_path / "good.npz")
    missing = tmp_path / "missing.npz"
    with pytest.raises(DataError, match=f"{missing}: file not found .*dataset.path="):
        load_npz(missing)
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataError, match=f"{trunc}: not a readable .npz file"):
        load_npz(trunc)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(os.urandom(2000))
    with pytest.raises(DataError, match=f"{garbage}: not a readable .npz file"):
        load_npz(garbage)
    flipped = tmp_path / "flipped.npz"  # intact zip directory, corrupt member data (CRC error)
    raw = bytearray(good.read_bytes())
    raw[200] ^= 0xFF
    flipped.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=f"{flipped}: not a readable .npz file"):
        load_npz(flipped)
    np.savez(tmp_path / "nolabels.npz", x=np.zeros((2, 3, 1), np.float32))
    with pytest.raises(DataError, match="missing array 'y'"):
        load_npz(tmp_path / "nolabels.npz")


def test_wrong_checksum_names_file_and_fix(tmp_path):
    from srnn_bench.data.cache import verify_checksum

    p = tmp_path / "archive.bin"
    p.write_bytes(b"not the published archive")
    with pytest.raises(DataError) as e:
        verify_checksum(p, sha256="0" * 64)
    assert str(p) in str(e.value) and "delete it and fetch again" in str(e.value)


def test_mnist1d_cache_corrupt_or_half_written_entry_is_rebuilt(tmp_path):
    from srnn_bench.data.cache import cache_key, cached_arrays, sha256_file
    from srnn_bench.data.datasets.mnist1d import load_arrays

    # an entry under the real MNIST-1D key, holding a marker array, then damaged (bit rot)
    version, pre = "mnist1d-0.0.2", {"generator_seed": 42}
    cached_arrays(tmp_path, "mnist1d", version, pre, lambda: {"x": np.zeros((3, 40))})
    root = tmp_path / "cache" / "mnist1d"
    entry = root / f"{cache_key('mnist1d', version, pre)}.npz"
    raw = bytearray(entry.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    entry.write_bytes(bytes(raw))
    (root / f".{entry.name}.abc.tmp").write_bytes(b"half")  # an interrupted atomic write leaves only a temp file
    got = load_arrays(tmp_path)  # the real loader: detects the bad entry and regenerates
    assert got["x"].shape == (4000, 40) and got["x_test"].shape == (1000, 40) and set(np.unique(got["y"])) == set(range(10))
    assert entry.with_suffix(".sha256").read_text().strip() == sha256_file(entry)


def test_cache_entry_without_checksum_is_not_trusted(tmp_path):
    from srnn_bench.data.cache import cache_key, cached_arrays

    cached_arrays(tmp_path, "toy", "v1", {}, lambda: {"x": np.zeros(3)})
    (tmp_path / "cache" / "toy" / f"{cache_key('toy', 'v1', {})}.sha256").unlink()  # killed before the checksum
    got = cached_arrays(tmp_path, "toy", "v1", {}, lambda: {"x": np.ones(3)})
    assert np.array_equal(got["x"], np.ones(3))  # rebuilt


# -- run directories and sweeps -------------------------------------------------------------------------------
def test_iter_run_dirs_statuses(tmp_path):
    from srnn_bench.utils import iter_run_dirs
    from srnn_bench.utils.runs import format_summary, summarize_runs

    for name, files in {
        "0": {"config.yaml": "a: 1\n", "metrics.json": '{"test_acc": 0.5}'},
        "1": {"config.yaml": "a: 2\n", "error.txt": "trainer.lr must be > 0, got -1\n\nTraceback ..."},
        "2": {"config.yaml": "a: 3\n"},
        "10": {"metrics.json": "{truncated"},
    }.items():
        d = tmp_path / "sweep" / name
        (d / "checkpoints").mkdir(parents=True)
        for f, text in files.items():
            (d / f).write_text(text)
    recs = list(iter_run_dirs(tmp_path / "sweep"))
    assert [r.run_dir.name for r in recs] == ["0", "1", "2", "10"]
    assert [r.status for r in recs] == ["ok", "failed", "incomplete", "failed"]
    assert recs[0].metrics == {"test_acc": 0.5} and recs[1].error == "trainer.lr must be > 0, got -1"
    assert "resume=" in recs[2].error and "unreadable" in recs[3].error
    s = summarize_runs(tmp_path / "sweep")
    assert (s["n_ok"], s["n_failed"], s["n_incomplete"]) == (1, 2, 1)
    assert "1 ok, 2 failed, 1 incomplete" in format_summary(s)


def test_run_directories_are_unique(tmp_path):
    """Two runs composed in the same second with the same seed get different run and sweep directories
    (``<date>_<time>_<seed>_<6 hex>``), each stable while its config lives."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from srnn_bench.resources import CONFIG_DIR
    from srnn_bench.utils.runs import register_resolvers, run_uid

    assert len({run_uid() for _ in range(200)}) == 200
    register_resolvers()
    overrides = ["trainer.seed=7", f"paths.output_dir={tmp_path}"]
    for _ in range(3):  # the two compositions must fall in the same second; retry across a second boundary
        with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
            a, b = (compose(config_name="config", overrides=overrides, return_hydra_config=True) for _ in range(2))
        (run_a, sweep_a), (run_b, sweep_b) = ((Path(c.hydra.run.dir), Path(c.hydra.sweep.dir)) for c in (a, b))
        if run_a.name[:19] == run_b.name[:19]:
            break
    assert run_a.parent == run_b.parent == tmp_path / "runs" / "mnist1d_alif"
    assert run_a.name[:19] == run_b.name[:19]  # the same second, the same seed ...
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_7_[0-9a-f]{6}", run_a.name)
    assert run_a != run_b and sweep_a != sweep_b and sweep_a.parent == tmp_path / "multirun" / "mnist1d_alif"
    assert Path(a.hydra.run.dir) == run_a and Path(OmegaConf.select(a, "hydra.sweep.dir")) == sweep_a


@pytest.mark.parametrize("launcher", [[], pytest.param(["hydra/launcher=parallel"], marks=pytest.mark.slow)],
                         ids=["basic", "joblib"])
def test_multirun_with_a_failing_job_finishes_the_others_and_summarises(tmp_path, launcher):
    npz = make_npz(tmp_path / "ok.npz")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SRNN_BENCH_OUTPUTS": str(tmp_path / "out")}
    cmd = [sys.executable, "-m", "srnn_bench", "--multirun", *launcher, *SMALL, f"dataset.path={npz}", "trainer.epochs=1",
           "trainer.progress=false", "trainer.device=cpu", "trainer.lr=0.01,-1,0.02"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]  # after finishing the others (issue #14)
    assert "1 job(s) did not finish" in proc.stderr
    (sweep,) = list((tmp_path / "out" / "multirun" / "mnist1d_alif+dataset=npz").iterdir())  # named by what it is
    assert len(sweep.name.rsplit("_", 1)[-1]) == 6  # the unique suffix
    summary = json.loads((sweep / "multirun_summary.json").read_text())
    assert (summary["n_ok"], summary["n_failed"], summary["n_incomplete"]) == (2, 1, 0)
    failed = [r for r in summary["runs"] if r["status"] == "failed"]
    assert failed[0]["error"] == "trainer.lr must be > 0, got -1.0" and "trainer.lr=-1.0" in failed[0]["overrides"]
    assert Path(failed[0]["run_dir"]).name == "1"
    for job in ("0", "2"):
        assert json.loads((sweep / job / "metrics.json").read_text())["epochs"] == 1
        if launcher:  # parallel jobs: one torch thread each
            assert json.loads((sweep / job / "env.json").read_text())["torch_threads"] == 1
    assert "1 failed / 0 incomplete job(s)" in proc.stdout


def test_run_dir_written_before_a_new_config_key_can_go_on(run_cfg, tmp_path):
    """A key a newer version added (absent from the saved config.yaml) keeps its default and does not
    count as a different config; any other change still does."""
    from omegaconf import OmegaConf

    from srnn_bench.run import check_same_run

    npz = make_npz(tmp_path / "ok.npz")
    cfg = run_cfg([*SMALL, f"dataset.path={npz}", "trainer.epochs=1"])
    run(cfg)
    saved = tmp_path / "run" / "config.yaml"
    old = OmegaConf.load(saved)
    del old.trainer["tbptt_steps"]  # as written before trainer.tbptt_steps existed
    saved.write_text(OmegaConf.to_yaml(old))
    check_same_run(cfg, tmp_path / "run")  # no error
    changed = run_cfg([*SMALL, f"dataset.path={npz}", "trainer.epochs=1", "trainer.lr=0.5"])
    with pytest.raises(ValueError, match=r"different config \(trainer.lr: 0.01 -> 0.5\)"):
        check_same_run(changed, tmp_path / "run")
